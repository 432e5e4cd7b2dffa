#include "check.h"
#include "profiler/measure/http.h"

/* Feeds the text in pieces of `step` bytes; returns the final result. */
static enum http_result feed(struct http_response *r, const char *text, size_t step, cs_error *e)
{
    size_t len = strlen(text), off = 0;
    http_response_reset(r);
    while (off < len) {
        size_t n = len - off < step ? len - off : step, used;
        enum http_result res = http_response_feed(r, text + off, n, &used, e);
        off += used;
        if (res != HTTP_MORE)
            return res;
        if (used == 0)
            return HTTP_FAIL;
    }
    return HTTP_MORE;
}

int main(void)
{
    struct http_response r;
    cs_error e;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (size_t step = 1; step <= 64; step *= 2) {
        CHECK(feed(&r, ok, step, &e) == HTTP_DONE);
        CHECK_INT(r.status, 200);
        CHECK_INT(r.body_bytes, 2);
        CHECK(!r.close);
    }
    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n";
    for (size_t step = 1; step <= 64; step *= 2) {
        CHECK(feed(&r, chunked, step, &e) == HTTP_DONE);
        CHECK_INT(r.body_bytes, 9);
    }
    CHECK(feed(&r, "HTTP/1.1 204 No Content\r\n\r\n", 100, &e) == HTTP_DONE);
    CHECK(feed(&r, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
               100, &e) == HTTP_DONE);
    CHECK_INT(r.status, 201);
    CHECK(feed(&r, "HTTP/1.0 200 OK\r\n\r\nbody until close", 100, &e) == HTTP_MORE);
    CHECK(r.close);
    CHECK(http_response_eof(&r, &e) == HTTP_DONE);
    CHECK(feed(&r,
               "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
               7, &e) == HTTP_DONE);
    CHECK_INT(r.status, 503);
    CHECK(r.close);
    CHECK_STR(r.reason, "Service Unavailable");

    /* Bad input: a clear error, never a crash. */
    CHECK(feed(&r, "this is not http at all\r\n\r\n", 100, &e) == HTTP_FAIL);
    CHECK(strstr(e.msg, "status line"));
    CHECK(feed(&r, "HTTP/1.1 2x0 OK\r\n\r\n", 100, &e) == HTTP_FAIL);
    CHECK(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", 100, &e) == HTTP_FAIL);
    CHECK(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 100, &e) ==
          HTTP_FAIL);
    CHECK(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", 100, &e) == HTTP_FAIL);
    CHECK(feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100, &e) ==
          HTTP_FAIL);
    CHECK(feed(&r, "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", 100, &e) == HTTP_FAIL);
    /* Oversized headers. */
    size_t big = 70000;
    char *huge = malloc(big + 64);
    strcpy(huge, "HTTP/1.1 200 OK\r\n");
    size_t off = strlen(huge);
    for (size_t i = 0; i < big / 100; i++) {
        memcpy(huge + off, "X-A: ", 5);
        memset(huge + off + 5, 'a', 93);
        memcpy(huge + off + 98, "\r\n", 2);
        off += 100;
    }
    huge[off] = '\0';
    CHECK(feed(&r, huge, 4096, &e) == HTTP_FAIL);
    CHECK(strstr(e.msg, "exceed"));
    /* A single header line longer than the line buffer. */
    memset(huge + 17, 'b', 9000);
    huge[17 + 9000] = '\0';
    CHECK(feed(&r, huge, 4096, &e) == HTTP_FAIL);
    free(huge);
    /* Early EOF. */
    http_response_reset(&r);
    CHECK(http_response_eof(&r, &e) == HTTP_FAIL);
    CHECK(strstr(e.msg, "without a response"));
    CHECK(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100, &e) == HTTP_MORE);
    CHECK(http_response_eof(&r, &e) == HTTP_FAIL);

    char req[512];
    CHECK(http_format_get(req, sizeof req, "::1", "8080", "/health") > 0);
    CHECK(strstr(req, "GET /health HTTP/1.1\r\n"));
    CHECK(strstr(req, "Host: [::1]:8080\r\n"));
    CHECK(http_format_get(req, 10, "h", "1", "/") < 0);
    CHECK_DONE();
}
