#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "profiler/catalog/catalog.h"
#include "sandbox/spawn.h"

/* "Installed" means what a run would start: the one PATH lookup of
 * sbx_resolve_executable. A directory that merely carries the tool's name
 * (or a file without x) is not the tool. */
static void check_requires_lookup(void)
{
    char dir[] = "/tmp/coldstart-path-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[128], tool[128], plain[128];
    snprintf(sub, sizeof sub, "%s/fakecc", dir);
    snprintf(tool, sizeof tool, "%s/realcc", dir);
    snprintf(plain, sizeof plain, "%s/plaincc", dir);
    CHECK(mkdir(sub, 0755) == 0);
    FILE *f = fopen(tool, "w");
    CHECK(f != NULL);
    fclose(f);
    CHECK(chmod(tool, 0755) == 0);
    f = fopen(plain, "w");
    fclose(f);
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", dir, 1);
    struct prof_image img = {0};
    char *req[] = {"realcc", "fakecc"};
    img.requires.v = req;
    img.requires.n = 1;
    CHECK(prof_image_missing_tool(&img) == NULL);
    img.requires.n = 2;
    CHECK_STR(prof_image_missing_tool(&img), "fakecc");
    req[1] = "plaincc";
    CHECK_STR(prof_image_missing_tool(&img), "plaincc");
    char found[256];
    CHECK(sbx_resolve_executable("realcc", NULL, found, sizeof found) == 0);
    CHECK_STR(found, tool);
    CHECK(sbx_resolve_executable("fakecc", NULL, found, sizeof found) < 0);
    if (old)
        setenv("PATH", old, 1);
    free(old);
    unlink(tool);
    unlink(plain);
    rmdir(sub);
    rmdir(dir);
}

static int parse(const char *text, struct prof_image *img, cs_error *e)
{
    return prof_image_parse(text, "/images/x", "x/image.json", img, e);
}

int main(void)
{
    struct prof_image img;
    cs_error e;
    const char *ok =
        "{\"name\": \"dotnet-aot\", \"runtime\": \"dotnet\", \"variant\": \"NativeAOT\","
        " \"requires\": [\"dotnet\"], \"build\": [\"dotnet\", \"publish\"],"
        " \"command\": [\"./out/api\"], \"env\": {\"ASPNETCORE_URLS\": "
        "\"http://127.0.0.1:{port}\"},"
        " \"ready\": \"http://127.0.0.1:{port}/\", \"budgets\": [\"ready.p95<=300ms\"],"
        " \"variants\": {\"workstation-gc\": {\"env\": {\"DOTNET_gcServer\": \"0\"}},"
        "                \"cds\": {\"command\": [\"java\", \"-Xshare:on\"]}}}";
    CHECK(parse(ok, &img, &e) == 0);
    CHECK_STR(img.name, "dotnet-aot");
    CHECK_INT(img.command.n, 1);
    CHECK_STR(img.env.v[0], "ASPNETCORE_URLS=http://127.0.0.1:{port}");
    CHECK_STR(img.output, "out"); /* the default with a build */
    CHECK_INT(img.n_variants, 2);
    const struct prof_variant *v = prof_image_variant(&img, "workstation-gc");
    CHECK(v && v->env.n == 1 && strcmp(v->env.v[0], "DOTNET_gcServer=0") == 0);
    CHECK(prof_image_variant(&img, "nope") == NULL);
    CHECK_INT(img.budgets.n, 1);
    prof_image_free(&img);

    CHECK(parse("{\"name\": \"a\", \"runtime\": \"r\", \"command\": [\"x\"]}", &img, &e) == 0);
    CHECK(img.output == NULL && img.build.n == 0);
    prof_image_free(&img);

    /* Each error names the file and the key. */
    struct {
        const char *text, *needle;
    } bad[] = {
        {"{\"runtime\": \"r\", \"command\": [\"x\"]}", "\"name\" is missing"},
        {"{\"name\": \"a\", \"runtime\": \"r\"}", "\"command\" is missing"},
        {"{\"name\": \"a\", \"runtime\": \"r\", \"command\": []}", "\"command\" must not be empty"},
        {"{\"name\": 5, \"runtime\": \"r\", \"command\": [\"x\"]}", "\"name\" must be a string"},
        {"{\"name\": \"a\", \"runtime\": \"r\", \"command\": \"x\"}",
         "\"command\" must be an array"},
        {"{\"name\": \"a\", \"runtime\": \"r\", \"command\": [1]}", "\"command\" must be an array"},
        {"{\"name\": \"a\", \"runtime\": \"r\", \"command\": [\"x\"], \"colour\": 1}",
         "\"colour\" is not a known key"},
        {"{\"name\": \"a\", \"runtime\": \"r\", \"command\": [\"x\"], \"env\": {\"K\": 1}}",
         "\"env\" must map"},
        {"{\"name\": \"a\", \"runtime\": \"r\", \"command\": [\"x\"], \"variants\": {\"v\": "
         "{\"flags\": 1}}}",
         "\"variants.v.flags\" is not a known key"},
        {"{\"name\": \"a\", \"runtime\": \"r\", \"command\": [\"x\"], \"build\": [\"b\"], "
         "\"output\": \"../up\"}",
         "\"output\" must be a folder inside"},
        {"[1]", "must be a JSON object"},
        {"{\"name\": ", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(parse(bad[i].text, &img, &e) < 0);
        if (!strstr(e.msg, bad[i].needle) || !strstr(e.msg, "x/image.json"))
            fprintf(stderr, "case %zu: message `%s` lacks `%s`\n", i, e.msg, bad[i].needle),
                check_failures++;
    }
    check_requires_lookup();
    CHECK_DONE();
}
