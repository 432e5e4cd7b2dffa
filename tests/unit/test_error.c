/* The error convention: errno and message apart, strerror added once when the
 * error is shown, however often it was wrapped; bad input marked for exit 2. */
#include <errno.h>

#include "check.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/error.h"
#include "sandbox/base/fsutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Paths: one that does not fit is an error, never a shorter path that names
 * another file; files under a directory are opened through it, without
 * following a symlink put in their place. */
static void check_paths(void)
{
    char buf[32];
    cs_error err;
    CHECK(fs_pathf(buf, sizeof buf, &err, "%s/%s", "/sys/fs/cgroup", "memory") == 0);
    CHECK_STR(buf, "/sys/fs/cgroup/memory");
    CHECK(fs_pathf(buf, sizeof buf, &err, "%s/%s", "/sys/fs/cgroup/memory", "coldstart-1-1") < 0);
    CHECK_INT(err.errnum, ENAMETOOLONG);

    char dir[] = "/tmp/coldstart-fs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(fs_write_at(dir, "value", "42", &err) < 0); /* O_TRUNC without O_CREAT: must exist */
    char path[128], link[128];
    snprintf(path, sizeof path, "%s/value", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    CHECK(fs_write_at(dir, "value", "42", &err) == 0);
    uint64_t v = 0;
    CHECK(fs_read_u64_at(dir, "value", &v, &err) == 0);
    CHECK_INT(v, 42);
    snprintf(link, sizeof link, "%s/link", dir);
    CHECK(symlink(path, link) == 0);
    CHECK(fs_open_at(dir, "link", O_RDONLY) < 0 && errno == ELOOP);
    CHECK(fs_write_at(dir, "link", "7", &err) < 0);
    unlink(link);
    unlink(path);
    rmdir(dir);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static int rmdir_like(cs_error *err)
{
    return cs_error_set(err, ENOTEMPTY, "cannot remove `/sys/fs/cgroup/x`");
}

static void record(void *ctx, const char *msg)
{
    snprintf(ctx, 256, "%s", msg);
}

int main(void)
{
    cs_error err = {0};
    CHECK(rmdir_like(&err) == -1);
    cs_error_prefix(&err, "reaping stale cgroups");
    cs_error_prefix(&err, "session");
    const char *text = cs_error_text(&err);
    CHECK_STR(text, "session: reaping stale cgroups: cannot remove `/sys/fs/cgroup/x`: "
                    "Directory not empty");
    CHECK_INT(count(text, "Directory not empty"), 1);
    CHECK_INT(err.errnum, ENOTEMPTY);
    CHECK_INT(err.status, CS_ERR_FAILED);
    CHECK(!strstr(err.msg, "Directory not empty"));

    /* Nested in another error's message: the inner text once, the outer has no errno. */
    cs_error outer;
    cs_error_set(&outer, 0, "run 3: %s", cs_error_text(&err));
    CHECK_INT(count(cs_error_text(&outer), "Directory not empty"), 1);

    CHECK(cs_error_input(&err, "--memory %s: unknown unit", "12Q") == -1);
    CHECK_INT(err.status, CS_ERR_INPUT);
    CHECK_INT(err.errnum, 0);
    CHECK_STR(cs_error_text(&err), "--memory 12Q: unknown unit");
    cs_error_set(&err, ENOMEM, "out of memory");
    CHECK_INT(err.status, CS_ERR_FAILED); /* out of memory is not bad usage */
    cs_error_mark_input(&err);
    CHECK_INT(err.status, CS_ERR_INPUT);

    /* Warnings go to the sink, or nowhere. */
    char got[256] = "";
    struct cs_sink sink = {record, got};
    cs_emit(&sink, "ignored key %s", "x");
    CHECK_STR(got, "ignored key x");
    cs_emit(NULL, "dropped");

    /* steal_pointer keeps the type and leaves NULL behind. */
    _cleanup_free_ int *owned = malloc(sizeof *owned);
    int *taken = steal_pointer(&owned);
    CHECK(owned == NULL && taken != NULL);
    free(taken);
    check_paths();
    CHECK_DONE();
}
