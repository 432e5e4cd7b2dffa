#include "check.h"
#include "profiler/measure/ready.h"

int main(void)
{
    struct prof_ready r;
    cs_error e;
    CHECK(prof_ready_parse("http://127.0.0.1:8080/health", &r, &e) == 0);
    CHECK_INT(r.kind, PROF_READY_HTTP);
    CHECK_STR(r.host, "127.0.0.1");
    CHECK_STR(r.port, "8080");
    CHECK_STR(r.path, "/health");
    prof_ready_free(&r);
    CHECK(prof_ready_parse("http://[::1]:81", &r, &e) == 0);
    CHECK_STR(r.host, "::1");
    CHECK_STR(r.path, "/");
    prof_ready_free(&r);
    CHECK(prof_ready_parse("tcp://localhost:5000", &r, &e) == 0);
    CHECK_INT(r.kind, PROF_READY_TCP);
    prof_ready_free(&r);
    CHECK(prof_ready_parse("log:Now listening on: .*", &r, &e) == 0);
    CHECK_INT(r.kind, PROF_READY_LOG);
    CHECK(regexec(&r.re, "info: Now listening on: http://x", 0, NULL, 0) == 0);
    prof_ready_free(&r);
    CHECK(prof_ready_parse("exit", &r, &e) == 0);
    /* Regexes that would expand exponentially in the compiler are refused. */
    CHECK(prof_ready_parse("log:e+++++++++++++++++++++++++++++++++++++++", &r, &e) < 0);
    CHECK(strstr(e.msg, "too complex"));
    /* Mixed stacked quantifiers: glibc took minutes over this one (fuzzer). */
    CHECK(prof_ready_parse("log:rsy?<???+++++++_", &r, &e) < 0);
    CHECK(prof_ready_parse("log:a?+", &r, &e) == 0);
    prof_ready_free(&r);
    CHECK(prof_ready_parse("log:((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)", &r, &e) < 0);
    CHECK(prof_ready_parse("log:((a{200}){200}){200}", &r, &e) < 0);
    CHECK(prof_ready_parse("log:(a|b)+c{2,5}[[:alpha:]]*\\(x\\)", &r, &e) == 0);
    prof_ready_free(&r);
    CHECK(prof_ready_parse("log:(", &r, &e) < 0);
    CHECK(strstr(e.msg, "regular expression"));
    CHECK(prof_ready_parse("http://127.0.0.1/", &r, &e) < 0);
    CHECK(strstr(e.msg, ":PORT"));
    CHECK(prof_ready_parse("http://127.0.0.1:99999/", &r, &e) < 0);
    CHECK(prof_ready_parse("https://127.0.0.1:443/", &r, &e) < 0);
    CHECK(prof_ready_parse("ftp://x", &r, &e) < 0);
    CHECK(strstr(e.msg, "unknown ready spec"));
    CHECK(prof_ready_parse("http://127.0.0.1:80/a b", &r, &e) < 0);
    CHECK(prof_ready_validate("http://127.0.0.1:{port}/", &e) == 0);

    char *s = prof_subst_port("--urls=http://127.0.0.1:{port} {port}", 4321);
    CHECK_STR(s, "--urls=http://127.0.0.1:4321 4321");
    free(s);
    /* --ready-expect is matched against what a target writes: the same
     * refusals as log: (it once took any regex), and the built-in probes. */
    CHECK(prof_ready_parse("tcp://127.0.0.1:1", &r, &e) == 0);
    CHECK(prof_ready_set_exchange(&r, "PING\\r\\n", "e+++++++++++++++++++++++++++++++++++++++",
                                  &e) < 0);
    CHECK(strstr(e.msg, "--ready-expect") && strstr(e.msg, "too complex"));
    CHECK(prof_ready_set_exchange(&r, NULL, "(a)\\1", &e) < 0 && strstr(e.msg, "back-references"));
    CHECK(prof_ready_set_exchange(&r, "PING\\r\\n", "^\\+PONG", &e) == 0);
    CHECK(r.send_len == 6 && memcmp(r.send, "PING\r\n", 6) == 0);
    CHECK(regexec(&r.expect_re, "+PONG\r\n", 0, NULL, 0) == 0);
    prof_ready_free(&r);
    CHECK(prof_ready_parse("redis://127.0.0.1:1", &r, &e) == 0 && r.expect == PROF_EXPECT_REGEX);
    CHECK(prof_ready_set_exchange(&r, "x", NULL, &e) < 0); /* only with tcp:// */
    prof_ready_free(&r);
    CHECK(prof_ready_parse("postgres://127.0.0.1:1", &r, &e) == 0 && r.expect == PROF_EXPECT_POSTGRES);
    CHECK(r.send_len == 41);
    prof_ready_free(&r);
    CHECK(prof_ready_parse("exec:true", &r, &e) == 0 && r.kind == PROF_READY_COMMAND);
    CHECK(prof_ready_parse("exec:", &r, &e) < 0);
    unsigned port = 0;
    CHECK(prof_free_port(&port, &e) == 0);
    CHECK(port > 0);
    CHECK_DONE();
}
