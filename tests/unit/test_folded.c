/* Collapsed stacks and their flame graph: merged, written and read back as
 * flamegraph.pl reads them; the top functions by self time per phase; a
 * malformed file refused with its line; the SVG's frames as wide as their
 * samples, names escaped, narrow frames left out. */
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "reports/flame.h"
#include "reports/folded.h"

static void test_merge_write_read(void)
{
    struct rep_folded f = {0};
    rep_folded_add(&f, "[exec-listen];app;main;b", 3);
    rep_folded_add(&f, "[exec-listen];app;main;a", 2);
    rep_folded_add(&f, "[listen-ready];app;serve;a", 5);
    rep_folded_add(&f, "[exec-listen];app;main;b", 4);
    CHECK_INT(f.total, 14);
    char path[] = "/tmp/coldstart-folded-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    cs_error err;
    CHECK(rep_folded_write(&f, path, &err) == 0);
    CHECK_INT(f.n, 3); /* merged */
    CHECK_STR(f.v[0].stack, "[exec-listen];app;main;a");
    CHECK_INT(f.v[1].count, 7);
    char text[256] = "";
    FILE *in = fopen(path, "r");
    size_t n = in ? fread(text, 1, sizeof text - 1, in) : 0;
    text[n] = '\0';
    if (in)
        fclose(in);
    CHECK_STR(text, "[exec-listen];app;main;a 2\n[exec-listen];app;main;b 7\n"
                    "[listen-ready];app;serve;a 5\n");
    struct rep_folded g;
    CHECK(rep_folded_read(path, &g, &err) == 0);
    CHECK_INT(g.n, 3);
    CHECK_INT(g.total, 14);

    const char *phases[4];
    size_t lens[4];
    CHECK_INT(rep_folded_phases(&g, phases, lens, 4), 2);
    CHECK_INT(lens[0], 13);
    CHECK(strncmp(phases[1], "[listen-ready]", lens[1]) == 0);

    struct rep_folded_self top[10];
    uint64_t total = 0;
    CHECK_INT(rep_folded_top_self(&g, "[exec-listen]", 13, top, 10, &total), 2);
    CHECK_INT(total, 9);
    CHECK(top[0].name_len == 1 && top[0].name[0] == 'b' && top[0].count == 7);
    CHECK_INT(rep_folded_top_self(&g, "[exec-listen]", 13, top, 1, &total), 1);
    CHECK_INT(rep_folded_top_self(&g, "[exec-ready]", 12, top, 10, &total), 0);
    CHECK_INT(total, 0);
    rep_folded_free(&f);
    rep_folded_free(&g);

    /* Not a collapsed stack: the line named, bad input (exit 2). */
    const char *bad[] = {"a;b 1\nno count here\n", "a;b -3\n", "a;b 1x\n", " 5\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *out = fopen(path, "w");
        fputs(bad[i], out);
        fclose(out);
        CHECK(rep_folded_read(path, &g, &err) < 0);
        CHECK(err.status == CS_ERR_INPUT);
    }
    FILE *out = fopen(path, "w");
    fputs("a;b 1\nno count here\n", out);
    fclose(out);
    rep_folded_read(path, &g, &err);
    CHECK(strstr(cs_error_text(&err), ":2:") != NULL);
    unlink(path);
}

static void test_flame_svg(void)
{
    struct rep_folded f = {0};
    rep_folded_add(&f, "[exec-listen];app;main;<init>&co", 6000);
    rep_folded_add(&f, "[exec-listen];app;main;work", 3999);
    rep_folded_add(&f, "[exec-listen];app;tiny", 1); /* 1/10000 of 1160 px: left out */
    rep_folded_compact(&f);
    struct rep_buf b = {0};
    svg_flame_graph(&b, "flame-0", "t <1>", &f);
    CHECK(b.data && strncmp(b.data, "<svg class=\"flame\" id=\"flame-0\"", 31) == 0);
    CHECK(strstr(b.data, "&lt;init&gt;&amp;co (6000 samples, 60.00%)") != NULL);
    CHECK(strstr(b.data, "t &lt;1&gt;") != NULL);
    CHECK(strstr(b.data, "all (10000 samples, 100.00%)") != NULL);
    CHECK(strstr(b.data, "main (9999 samples") != NULL);
    CHECK(strstr(b.data, ">tiny") == NULL && strstr(b.data, "tiny (") == NULL);
    /* The root spans the graph; <init>&co 60% of it. */
    CHECK(strstr(b.data, "<title>all (10000 samples, 100.00%)</title><rect x=\"10.0\" y=\"28.0\" "
                         "width=\"1140.0\"") != NULL);
    CHECK(strstr(b.data, "width=\"684.0\"") != NULL);
    rep_buf_free(&b);
    struct rep_folded empty = {0};
    svg_flame_graph(&b, "flame-1", "none", &empty);
    CHECK(b.len == 0); /* nothing drawn for no samples */
    rep_buf_free(&b);
    rep_folded_free(&f);
}

int main(void)
{
    test_merge_write_read();
    test_flame_svg();
    CHECK_DONE();
}
