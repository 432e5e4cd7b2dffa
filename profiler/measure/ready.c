#include "profiler/measure/ready.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"

void prof_ready_free(struct prof_ready *r)
{
    if (r->has_re)
        regfree(&r->re);
    r->has_re = false;
    if (r->expect == PROF_EXPECT_REGEX)
        regfree(&r->expect_re);
    r->expect = PROF_EXPECT_NONE;
}

/* DATA with its C escapes decoded into buf. */
static int unescape(const char *s, char *buf, size_t cap, size_t *ret_len, cs_error *err)
{
    size_t n = 0;
    for (; *s; s++) {
        char ch = *s;
        if (ch == '\\') {
            s++;
            if (*s == 'r')
                ch = '\r';
            else if (*s == 'n')
                ch = '\n';
            else if (*s == 't')
                ch = '\t';
            else if (*s == '0')
                ch = '\0';
            else if (*s == '\\')
                ch = '\\';
            else if (*s == 'x' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
                char hex[3] = {s[1], s[2], 0};
                ch = (char)strtol(hex, NULL, 16);
                s += 2;
            } else
                return cs_error_set(err, 0,
                                    "--ready-send: `\\%c` is not an escape (use \\r \\n \\t \\0 "
                                    "\\\\ \\xHH)",
                                    *s ? *s : ' ');
        }
        if (n == cap)
            return cs_error_set(err, 0, "--ready-send: more than %zu bytes", cap);
        buf[n++] = ch;
    }
    *ret_len = n;
    return 0;
}

/* Defined below, with the regex checks of log: that it shares. */
static int compile_linear_regex(const char *re, const char *what, regex_t *out, int flags,
                                cs_error *err);

static int compile_expect(struct prof_ready *r, const char *expect, cs_error *err)
{
    char what[128];
    snprintf(what, sizeof what, "--ready-expect `%.80s`", expect);
    if (compile_linear_regex(expect, what, &r->expect_re, REG_NEWLINE, err) < 0)
        return -1;
    r->expect = PROF_EXPECT_REGEX;
    return 0;
}

int prof_ready_set_exchange(struct prof_ready *r, const char *send, const char *expect,
                            cs_error *err)
{
    if (!send && !expect)
        return 0;
    if (r->kind != PROF_READY_TCP || strcmp(r->protocol, "tcp") != 0)
        return cs_error_set(err, 0,
                            "--ready-send and --ready-expect go with a tcp://HOST:PORT ready spec");
    if (send && unescape(send, r->send, sizeof r->send, &r->send_len, err) < 0)
        return -1;
    if (expect && compile_expect(r, expect, err) < 0)
        return -1;
    return 0;
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
        if (strlen(hp + 1) >= sizeof r->host)
            return cs_error_set(err, 0, "ready spec `%s`: the host is too long", spec);
        memcpy(r->host, hp + 1, strlen(hp + 1) + 1);
        port = close + 2;
    } else {
        char *colon = strrchr(hp, ':');
        if (!colon)
            return cs_error_set(err, 0,
                                "ready spec `%s`: missing :PORT (use {port} for the "
                                "port coldstart chooses)",
                                spec);
        *colon = '\0';
        if (strlen(hp) >= sizeof r->host)
            return cs_error_set(err, 0, "ready spec `%s`: the host is too long", spec);
        memcpy(r->host, hp, strlen(hp) + 1);
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
    r->n_addrs = 0;
    for (struct addrinfo *a = ai; a && r->n_addrs < PROF_READY_MAX_ADDRS; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
            continue;
        bool dup = false;
        for (size_t i = 0; i < r->n_addrs; i++)
            dup |=
                r->addrlens[i] == a->ai_addrlen && !memcmp(&r->addrs[i], a->ai_addr, a->ai_addrlen);
        if (dup)
            continue;
        memcpy(&r->addrs[r->n_addrs], a->ai_addr, a->ai_addrlen);
        r->addrlens[r->n_addrs++] = a->ai_addrlen;
    }
    freeaddrinfo(ai);
    if (r->n_addrs == 0)
        return cs_error_set(err, 0, "ready spec `%s`: `%s` has no IPv4 or IPv6 address", spec,
                            r->host);
    return 0;
}

static bool bindv6only(void)
{
    char buf[8];
    return fs_read_file("/proc/sys/net/ipv6/bindv6only", buf, sizeof buf, NULL) > 0 &&
           buf[0] == '1';
}

static bool accepts(const struct sockaddr_storage *l, const struct sockaddr_storage *a)
{
    if (l->ss_family == AF_INET) {
        const struct sockaddr_in *l4 = (const struct sockaddr_in *)l;
        if (a->ss_family != AF_INET)
            return false;
        return l4->sin_addr.s_addr == htonl(INADDR_ANY) ||
               l4->sin_addr.s_addr == ((const struct sockaddr_in *)a)->sin_addr.s_addr;
    }
    if (l->ss_family != AF_INET6)
        return false;
    const struct in6_addr *l6 = &((const struct sockaddr_in6 *)l)->sin6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(l6))
        return a->ss_family == AF_INET6 || (a->ss_family == AF_INET && !bindv6only());
    if (a->ss_family == AF_INET6)
        return IN6_ARE_ADDR_EQUAL(l6, &((const struct sockaddr_in6 *)a)->sin6_addr);
    /* ::ffff:127.0.0.1 takes IPv4 connections to 127.0.0.1 */
    return IN6_IS_ADDR_V4MAPPED(l6) &&
           !memcmp(&l6->s6_addr[12], &((const struct sockaddr_in *)a)->sin_addr, 4);
}

int prof_ready_address_for(const struct prof_ready *r, const struct sockaddr_storage *listen)
{
    for (size_t i = 0; i < r->n_addrs; i++)
        if (accepts(listen, &r->addrs[i]))
            return (int)i;
    return -1;
}

void prof_format_address(const struct sockaddr_storage *a, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
        port = ntohs(s->sin_port);
        snprintf(buf, cap, "%s:%u", host, port);
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
        port = ntohs(s->sin6_port);
        snprintf(buf, cap, "[%s]:%u", host, port);
    } else {
        snprintf(buf, cap, "(address family %d)", (int)a->ss_family);
    }
}

/* An upper bound of how many states the regex compiler builds: it copies a
 * quantified sub-expression (x+ becomes xx*, x{3} becomes xxx), so stacked
 * or nested quantifiers grow exponentially (`e++++...` ran glibc out of
 * memory in the fuzzer, `<???+++++++` took it minutes). Counts atoms; each
 * quantifier multiplies the atom or group before it. Saturates at LIMIT. */
#define REGEX_STATE_LIMIT 20000.0
static double regex_expansion(const char *re)
{
    struct frame {
        double alt, concat, last;
    } st[64];
    int depth = 0;
    st[0] = (struct frame){0, 0, 0};
    bool stacked = false; /* the last character was a quantifier */
    for (const char *p = re; *p; p++) {
        struct frame *f = &st[depth];
        double mult = 0;
        bool was_stacked = stacked;
        stacked = false;
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
            /* A quantifier of a quantifier (`a?+`) costs glibc about 8x its
             * states each (measured: a???++++++ takes 35 ms, one more + 8x
             * that), not 2x. */
            mult = was_stacked ? 8 : 2;
            stacked = true;
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

/* A regular expression a user gives (log:, --ready-expect), matched against
 * what a target writes: a back-reference makes matching exponential in the
 * text's length (`(.*)(.*)\1\2x` took 9 s on 100 characters) and stacked
 * repetition explodes the matcher's states, so both are refused and a match
 * always costs time linear in the text. */
static int compile_linear_regex(const char *re, const char *what, regex_t *out, int flags,
                                cs_error *err)
{
    for (const char *p = re; *p; p++) {
        if (*p == '\\' && p[1] >= '1' && p[1] <= '9')
            return cs_error_set(err, 0,
                                "%s: back-references (\\%c) are not supported; match the text "
                                "without them",
                                what, p[1]);
        if (*p == '\\' && p[1])
            p++;
    }
    if (regex_expansion(re) > REGEX_STATE_LIMIT)
        return cs_error_set(err, 0,
                            "%s: the regular expression is too complex (stacked or nested "
                            "repetition); simplify it",
                            what);
    int rc = regcomp(out, re, REG_EXTENDED | REG_NOSUB | flags);
    if (rc != 0) {
        char msg[256];
        regerror(rc, out, msg, sizeof msg);
        return cs_error_set(err, 0, "%s: bad regular expression: %s", what, msg);
    }
    return 0;
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
        const char *path = slash ? slash : "/";
        if (strlen(path) >= sizeof r->path)
            return cs_error_set(err, 0, "ready spec `%.60s...`: the path is longer than %zu bytes",
                                spec, sizeof r->path - 1);
        snprintf(r->path, sizeof r->path, "%s", path);
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
    /* tcp:// alone is ready at the handshake: the kernel accepts for a
     * server from its listen() on, long before a database serves. redis://
     * and postgres:// ask the server itself. */
    static const struct {
        const char *scheme, *protocol;
    } tcp_like[] = {{"tcp://", "tcp"}, {"redis://", "redis"}, {"postgres://", "postgres"},
                    {"postgresql://", "postgres"}};
    for (size_t i = 0; i < sizeof tcp_like / sizeof tcp_like[0]; i++) {
        size_t sl = strlen(tcp_like[i].scheme);
        if (strncmp(spec, tcp_like[i].scheme, sl) != 0)
            continue;
        r->kind = PROF_READY_TCP;
        r->protocol = tcp_like[i].protocol;
        const char *hp = spec + sl;
        size_t len = strlen(hp);
        if (len && hp[len - 1] == '/')
            len--;
        if (split_hostport(hp, len, r, spec, err) < 0)
            return -1;
        if (strcmp(r->protocol, "redis") == 0) {
            /* While it loads its dataset redis answers -LOADING. */
            memcpy(r->send, "PING\r\n", 6);
            r->send_len = 6;
            return compile_expect(r, "^\\+PONG", err);
        }
        if (strcmp(r->protocol, "postgres") == 0) {
            /* A v3 StartupMessage for user and database postgres: an
             * authentication request ('R') means it accepts connections
             * (pg_isready's "accepting"); an error ('E': starting up, shutting
             * down, in recovery) means not yet. */
            static const char startup[] = "\0\0\0\x29\0\x03\0\0user\0postgres\0database\0postgres\0";
            memcpy(r->send, startup, sizeof startup); /* with the final NUL */
            r->send_len = sizeof startup;
            r->expect = PROF_EXPECT_POSTGRES;
        }
        return 0;
    }
    if (strncmp(spec, "exec:", 5) == 0) {
        r->kind = PROF_READY_COMMAND;
        if (!spec[5])
            return cs_error_set(err, 0,
                                "ready spec `exec:` needs a command, e.g. "
                                "'exec:pg_isready -h 127.0.0.1 -p {port}'");
        if (strlen(spec + 5) >= sizeof r->path)
            return cs_error_set(err, 0, "ready spec `%.40s...`: the command is longer than %zu "
                                        "bytes",
                                spec, sizeof r->path - 1);
        snprintf(r->path, sizeof r->path, "%s", spec + 5);
        return 0;
    }
    if (strncmp(spec, "log:", 4) == 0) {
        r->kind = PROF_READY_LOG;
        if (strlen(spec) == 4)
            return cs_error_set(err, 0, "ready spec `log:` needs a regular expression");
        char what[128];
        snprintf(what, sizeof what, "ready spec `%.80s`", spec);
        if (compile_linear_regex(spec + 4, what, &r->re, 0, err) < 0)
            return -1;
        r->has_re = true;
        return 0;
    }
    return cs_error_set(err, 0,
                        "unknown ready spec `%s` (use http://HOST:PORT/PATH, tcp://HOST:PORT, "
                        "redis://HOST:PORT, postgres://HOST:PORT, 'exec:CMD', log:REGEX or exit)",
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
