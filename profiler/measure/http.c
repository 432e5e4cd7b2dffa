#include "profiler/measure/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

void http_response_reset(struct http_response *r)
{
    /* Everything before the line buffer; the buffer only needs to be empty
     * (the load generator resets once per request: 8 KiB less to clear). */
    memset(r, 0, offsetof(struct http_response, line));
    r->line[0] = '\0';
    r->line_len = 0;
    r->state = H_STATUS;
}

int http_format_get(char *buf, size_t cap, const char *host, const char *port, const char *path)
{
    bool v6 = strchr(host, ':') != NULL;
    int n =
        snprintf(buf, cap,
                 "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: coldstart/" COLDSTART_VERSION
                 "\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
                 path, v6 ? "[" : "", host, v6 ? "]" : "", port);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

static enum http_result parse_status(struct http_response *r, const char *l, cs_error *err)
{
    if (strncmp(l, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)l[7]) || l[8] != ' ')
        return cs_error_set(err, 0, "malformed HTTP status line `%.60s`", l), HTTP_FAIL;
    r->minor_version = l[7] - '0';
    const char *p = l + 9;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
        !isdigit((unsigned char)p[2]) || (p[3] != ' ' && p[3] != '\0'))
        return cs_error_set(err, 0, "malformed HTTP status code in `%.60s`", l), HTTP_FAIL;
    r->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    if (r->status < 100)
        return cs_error_set(err, 0, "invalid HTTP status %d", r->status), HTTP_FAIL;
    snprintf(r->reason, sizeof r->reason, "%s", p[3] ? p + 4 : "");
    r->close = r->minor_version == 0; /* HTTP/1.0 closes unless it says keep-alive */
    r->state = H_HEADERS;
    return HTTP_MORE;
}

static bool token_in_list(const char *value, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - p) == n && strncasecmp(p, token, n) == 0)
            return true;
        p = e;
    }
    return false;
}

static enum http_result parse_header(struct http_response *r, char *l, cs_error *err)
{
    char *colon = strchr(l, ':');
    if (!colon || colon == l)
        return cs_error_set(err, 0, "malformed HTTP header line `%.60s`", l), HTTP_FAIL;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strcasecmp(l, "Content-Length") == 0) {
        char *end;
        if (!isdigit((unsigned char)*v))
            return cs_error_set(err, 0, "invalid Content-Length `%.40s`", v), HTTP_FAIL;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (errno || *end)
            return cs_error_set(err, 0, "invalid Content-Length `%.40s`", v), HTTP_FAIL;
        if (r->has_length && r->remaining != n)
            return cs_error_set(err, 0, "conflicting Content-Length headers"), HTTP_FAIL;
        if (n > HTTP_MAX_BODY_BYTES)
            return cs_error_set(err, 0, "response body of %llu bytes exceeds the %d MiB limit", n,
                                (int)(HTTP_MAX_BODY_BYTES >> 20)),
                   HTTP_FAIL;
        r->has_length = true;
        r->remaining = n;
    } else if (strcasecmp(l, "Transfer-Encoding") == 0) {
        r->chunked = token_in_list(v, "chunked");
    } else if (strcasecmp(l, "Connection") == 0) {
        if (token_in_list(v, "close"))
            r->close = true;
        else if (token_in_list(v, "keep-alive"))
            r->close = false;
    }
    return HTTP_MORE;
}

static enum http_result headers_done(struct http_response *r)
{
    if (r->status >= 100 && r->status < 200 && r->status != 101) {
        /* Interim response (100 Continue): the real one follows. */
        uint64_t hb = r->header_bytes;
        http_response_reset(r);
        r->header_bytes = hb;
        return HTTP_MORE;
    }
    if (r->status == 204 || r->status == 304) {
        r->state = H_DONE;
        return HTTP_DONE;
    }
    if (r->chunked) {
        r->state = H_CHUNK_SIZE;
    } else if (r->has_length) {
        r->state = r->remaining ? H_BODY_LENGTH : H_DONE;
        if (r->state == H_DONE)
            return HTTP_DONE;
    } else {
        r->state = H_BODY_CLOSE;
        r->close = true;
    }
    return HTTP_MORE;
}

static enum http_result parse_chunk_size(struct http_response *r, const char *l, cs_error *err)
{
    char *end;
    if (!isxdigit((unsigned char)*l))
        return cs_error_set(err, 0, "malformed chunk size `%.40s`", l), HTTP_FAIL;
    errno = 0;
    unsigned long long n = strtoull(l, &end, 16);
    if (errno || (*end && *end != ';' && *end != ' '))
        return cs_error_set(err, 0, "malformed chunk size `%.40s`", l), HTTP_FAIL;
    if (n > HTTP_MAX_BODY_BYTES || r->body_bytes + n > HTTP_MAX_BODY_BYTES)
        return cs_error_set(err, 0, "chunked body exceeds the %d MiB limit",
                            (int)(HTTP_MAX_BODY_BYTES >> 20)),
               HTTP_FAIL;
    r->remaining = n;
    r->state = n ? H_CHUNK_DATA : H_TRAILERS;
    return HTTP_MORE;
}

/* Handles one complete line (without CRLF) in a line-oriented state. */
static enum http_result on_line(struct http_response *r, char *l, cs_error *err)
{
    switch (r->state) {
    case H_STATUS:
        return parse_status(r, l, err);
    case H_HEADERS:
        return *l ? parse_header(r, l, err) : headers_done(r);
    case H_CHUNK_SIZE:
        return parse_chunk_size(r, l, err);
    case H_CHUNK_END:
        if (*l)
            return cs_error_set(err, 0, "chunk not followed by CRLF"), HTTP_FAIL;
        r->state = H_CHUNK_SIZE;
        return HTTP_MORE;
    case H_TRAILERS:
        if (*l)
            return HTTP_MORE;
        r->state = H_DONE;
        return HTTP_DONE;
    default:
        return cs_error_set(err, 0, "HTTP parser in a bad state"), HTTP_FAIL;
    }
}

enum http_result http_response_feed(struct http_response *r, const char *buf, size_t len,
                                    size_t *used, cs_error *err)
{
    size_t i = 0;
    enum http_result res = HTTP_MORE;
    while (i < len && res == HTTP_MORE) {
        switch (r->state) {
        case H_BODY_LENGTH:
        case H_CHUNK_DATA: {
            size_t take = len - i < r->remaining ? len - i : (size_t)r->remaining;
            r->remaining -= take;
            r->body_bytes += take;
            i += take;
            if (r->remaining == 0) {
                if (r->state == H_BODY_LENGTH) {
                    r->state = H_DONE;
                    res = HTTP_DONE;
                } else {
                    r->state = H_CHUNK_END;
                }
            }
            break;
        }
        case H_BODY_CLOSE:
            r->body_bytes += len - i;
            i = len;
            if (r->body_bytes > HTTP_MAX_BODY_BYTES) {
                cs_error_set(err, 0, "response body exceeds the %d MiB limit",
                             (int)(HTTP_MAX_BODY_BYTES >> 20));
                res = HTTP_FAIL;
            }
            break;
        case H_DONE:
            res = HTTP_DONE;
            break;
        default: {
            char c = buf[i++];
            if (r->state == H_STATUS || r->state == H_HEADERS) {
                if (++r->header_bytes > HTTP_MAX_HEADER_BYTES) {
                    cs_error_set(err, 0, "response headers exceed %d KiB",
                                 (int)(HTTP_MAX_HEADER_BYTES >> 10));
                    res = HTTP_FAIL;
                    break;
                }
            }
            if (c == '\n') {
                if (r->line_len && r->line[r->line_len - 1] == '\r')
                    r->line_len--;
                r->line[r->line_len] = '\0';
                r->line_len = 0;
                res = on_line(r, r->line, err);
                break;
            }
            if (r->line_len + 1 >= sizeof r->line) {
                cs_error_set(err, 0, "HTTP line longer than %d KiB", HTTP_MAX_LINE >> 10);
                res = HTTP_FAIL;
                break;
            }
            r->line[r->line_len++] = c;
        }
        }
    }
    *used = i;
    return res;
}

enum http_result http_response_eof(struct http_response *r, cs_error *err)
{
    if (r->state == H_BODY_CLOSE) {
        r->state = H_DONE;
        return HTTP_DONE;
    }
    if (r->state == H_DONE)
        return HTTP_DONE;
    if (r->state == H_STATUS && r->header_bytes == 0 && r->line_len == 0)
        return cs_error_set(err, 0, "the server closed the connection without a response"),
               HTTP_FAIL;
    return cs_error_set(err, 0, "the server closed the connection in the middle of a response"),
           HTTP_FAIL;
}
