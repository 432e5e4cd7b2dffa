/* A small HTTP/1.1 response parser for the readiness probe: incremental (fed
 * whatever recv returned), Content-Length, chunked and close-delimited bodies,
 * bounded header and body sizes. Bad input is an error, never a crash. */
#ifndef COLDSTART_HTTP_H
#define COLDSTART_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

#define HTTP_MAX_LINE 8192
#define HTTP_MAX_HEADER_BYTES ((size_t)64 * 1024)
#define HTTP_MAX_BODY_BYTES ((uint64_t)16 * 1024 * 1024)

enum http_result { HTTP_MORE = 0, HTTP_DONE = 1, HTTP_FAIL = -1 };

enum http_state {
    H_STATUS,
    H_HEADERS,
    H_BODY_LENGTH,
    H_BODY_CLOSE,
    H_CHUNK_SIZE,
    H_CHUNK_DATA,
    H_CHUNK_END,
    H_TRAILERS,
    H_DONE,
};

struct http_response {
    enum http_state state;
    int status;
    int minor_version;
    char reason[64];
    bool chunked, has_length, close; /* close: the server ends the connection */
    uint64_t remaining;              /* body or chunk bytes still expected */
    uint64_t body_bytes, header_bytes;
    char line[HTTP_MAX_LINE];
    size_t line_len;
};

void http_response_reset(struct http_response *r);
/* Consumes bytes; *used tells how many (a pipelined rest stays with the caller). */
enum http_result http_response_feed(struct http_response *r, const char *buf, size_t len,
                                    size_t *used, cs_error *err);
/* The server closed the connection: completes a close-delimited body. */
enum http_result http_response_eof(struct http_response *r, cs_error *err);
/* "GET path HTTP/1.1" with Host and keep-alive; returns the length or -1. */
int http_format_get(char *buf, size_t cap, const char *host, const char *port, const char *path);

#endif
