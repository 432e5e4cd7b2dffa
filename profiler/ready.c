#include "profiler/ready.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/cleanup.h"

void prof_ready_free(struct prof_ready *r)
{
    if (r->has_re)
        regfree(&r->re);
    r->has_re = false;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static int split_hostport(const char *s, size_t len, struct prof_ready *r, const char *spec,
                          cs_error *err)
{
    char hp[300];
    if (len == 0 || len >= sizeof hp)
        return cs_error_set(err, 0, "ready spec `%s`: missing HOST:PORT", spec);
    memcpy(hp, s, len);
    hp[len] = '\0';
    char *port;
    if (hp[0] == '[') {
        char *close = strchr(hp, ']');
        if (!close || close[1] != ':')
            return cs_error_set(err, 0, "ready spec `%s`: malformed [IPv6]:PORT", spec);
        *close = '\0';
        snprintf(r->host, sizeof r->host, "%s", hp + 1);
        port = close + 2;
    } else {
        char *colon = strrchr(hp, ':');
        if (!colon)
            return cs_error_set(err, 0,
                                "ready spec `%s`: missing :PORT (use {port} for the "
                                "port coldstart chooses)",
                                spec);
        *colon = '\0';
        snprintf(r->host, sizeof r->host, "%s", hp);
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 1 || p > 65535)
        return cs_error_set(err, 0, "ready spec `%s`: port `%s` is not in 1-65535", spec, port);
    snprintf(r->port, sizeof r->port, "%ld", p);
    if (!r->host[0])
        return cs_error_set(err, 0, "ready spec `%s`: missing host", spec);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(r->host, r->port, &hints, &ai);
    if (rc != 0)
        return cs_error_set(err, 0, "ready spec `%s`: cannot resolve `%s`: %s", spec, r->host,
                            gai_strerror(rc));
    memcpy(&r->addr, ai->ai_addr, ai->ai_addrlen);
    r->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

/* An upper bound of how many states the regex compiler builds: it copies a
 * quantified sub-expression (x+ becomes xx*, x{3} becomes xxx), so stacked
 * or nested quantifiers grow exponentially (`e++++...` ran glibc out of
 * memory in the fuzzer). Counts atoms; each quantifier multiplies the atom
 * or group before it. Saturates at LIMIT. */
#define REGEX_STATE_LIMIT 20000.0
static double regex_expansion(const char *re)
{
    struct frame {
        double alt, concat, last;
    } st[64];
    int depth = 0;
    st[0] = (struct frame){0, 0, 0};
    for (const char *p = re; *p; p++) {
        struct frame *f = &st[depth];
        double mult = 0;
        switch (*p) {
        case '\\':
            if (p[1])
                p++;
            f->concat += f->last;
            f->last = 1;
            continue;
        case '[': {
            /* A bracket expression is one atom: skip to its closing ']'. */
            const char *q = p + 1;
            if (*q == '^')
                q++;
            if (*q == ']')
                q++;
            while (*q && *q != ']') {
                if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
                    const char *end = strstr(q + 2, q[1] == ':' ? ":]" : q[1] == '.' ? ".]" : "=]");
                    q = end ? end + 2 : q + 1;
                } else {
                    q++;
                }
            }
            p = *q ? q : q - 1;
            f->concat += f->last;
            f->last = 1;
            continue;
        }
        case '(':
            if (depth == 63)
                return REGEX_STATE_LIMIT + 1;
            f->concat += f->last;
            f->last = 0;
            st[++depth] = (struct frame){0, 0, 0};
            continue;
        case ')': {
            if (depth == 0) { /* an unmatched ')' is an ordinary character in an ERE */
                f->concat += f->last;
                f->last = 1;
                continue;
            }
            double total = f->alt + f->concat + f->last;
            depth--;
            st[depth].last = total > 0 ? total : 1;
            continue;
        }
        case '|':
            f->alt += f->concat + f->last;
            f->concat = f->last = 0;
            continue;
        case '*':
        case '+':
        case '?':
            mult = 2;
            break;
        case '{': {
            char *end;
            long m = strtol(p + 1, &end, 10), n = m;
            if (*end == ',')
                n = isdigit((unsigned char)end[1]) ? strtol(end + 1, &end, 10) : m;
            while (*end && *end != '}')
                end++;
            p = *end ? end : end - 1;
            mult = (double)(n > m ? n : m) + 1;
            break;
        }
        default:
            f->concat += f->last;
            f->last = 1;
            continue;
        }
        f->last = (f->last > 0 ? f->last : 1) * mult;
        if (f->last > REGEX_STATE_LIMIT)
            return REGEX_STATE_LIMIT + 1;
    }
    while (depth > 0) { /* unclosed groups: regcomp reports them */
        double total = st[depth].alt + st[depth].concat + st[depth].last;
        st[--depth].last = total;
    }
    return st[0].alt + st[0].concat + st[0].last;
}

int prof_ready_parse(const char *spec, struct prof_ready *r, cs_error *err)
{
    memset(r, 0, sizeof *r);
    if (strcmp(spec, "exit") == 0) {
        r->kind = PROF_READY_EXIT;
        return 0;
    }
    if (strncmp(spec, "http://", 7) == 0) {
        r->kind = PROF_READY_HTTP;
        const char *hp = spec + 7;
        const char *slash = strchr(hp, '/');
        size_t len = slash ? (size_t)(slash - hp) : strlen(hp);
        if (split_hostport(hp, len, r, spec, err) < 0)
            return -1;
        snprintf(r->path, sizeof r->path, "%s", slash ? slash : "/");
        for (const char *p = r->path; *p; p++)
            if (*p <= ' ' || *p == 0x7f)
                return cs_error_set(err, 0,
                                    "ready spec `%s`: the path has a space or control "
                                    "character",
                                    spec);
        return 0;
    }
    if (strncmp(spec, "https://", 8) == 0)
        return cs_error_set(err, 0,
                            "ready spec `%s`: https is not supported; probe the plain "
                            "HTTP port or use tcp://HOST:PORT",
                            spec);
    if (strncmp(spec, "tcp://", 6) == 0) {
        r->kind = PROF_READY_TCP;
        const char *hp = spec + 6;
        size_t len = strlen(hp);
        if (len && hp[len - 1] == '/')
            len--;
        return split_hostport(hp, len, r, spec, err);
    }
    if (strncmp(spec, "log:", 4) == 0) {
        r->kind = PROF_READY_LOG;
        if (strlen(spec) == 4)
            return cs_error_set(err, 0, "ready spec `log:` needs a regular expression");
        if (regex_expansion(spec + 4) > REGEX_STATE_LIMIT)
            return cs_error_set(err, 0,
                                "ready spec `%.80s`: the regular expression is too "
                                "complex (stacked or nested repetition); simplify it",
                                spec);
        int rc = regcomp(&r->re, spec + 4, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &r->re, msg, sizeof msg);
            return cs_error_set(err, 0, "ready spec `%s`: bad regular expression: %s", spec, msg);
        }
        r->has_re = true;
        return 0;
    }
    return cs_error_set(err, 0,
                        "unknown ready spec `%s` (use http://HOST:PORT/PATH, tcp://HOST:PORT, "
                        "log:REGEX or exit)",
                        spec);
}

int prof_ready_validate(const char *spec, cs_error *err)
{
    char *s = prof_subst_port(spec, 8080);
    if (!s)
        return cs_error_set(err, ENOMEM, "ready spec");
    struct prof_ready r;
    int rc = prof_ready_parse(s, &r, err);
    prof_ready_free(&r);
    free(s);
    return rc;
}

char *prof_subst_port(const char *s, unsigned port)
{
    char p[16];
    int plen = snprintf(p, sizeof p, "%u", port);
    size_t n = 0, len = strlen(s);
    for (const char *q = s; (q = strstr(q, "{port}")); q += 6)
        n++;
    char *out =
        calloc(len + n * (size_t)plen + 1, 1); /* zeroed: lets the analyzer see it is a string */
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (strncmp(s + i, "{port}", 6) == 0) {
            memcpy(out + o, p, (size_t)plen);
            o += (size_t)plen;
            i += 6;
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = '\0';
    return out;
}

int prof_free_port(unsigned *ret, cs_error *err)
{
    _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cs_error_set(err, errno, "socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return cs_error_set(err, errno, "cannot find a free port on 127.0.0.1");
    *ret = ntohs(a.sin_port);
    return 0;
}
