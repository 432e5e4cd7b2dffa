/* Readiness specs: `http://HOST:PORT/PATH`, `tcp://HOST:PORT` (with an
 * exchange: --ready-send/--ready-expect), `redis://HOST:PORT` (PING, +PONG),
 * `postgres://HOST:PORT` (a protocol start-up answered as pg_isready takes
 * it), `log:REGEX`, `exit`; and `{port}` substitution in commands,
 * environment and specs. */
#ifndef COLDSTART_READY_H
#define COLDSTART_READY_H

#include <regex.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "sandbox/base/error.h"

#define PROF_READY_MAX_ADDRS 4

enum prof_ready_kind {
    PROF_READY_EXIT,
    PROF_READY_HTTP,
    PROF_READY_TCP,
    PROF_READY_LOG,
    PROF_READY_COMMAND, /* exec:CMD: CMD (in path) exits 0 */
};

struct prof_ready {
    enum prof_ready_kind kind;
    char host[256];
    char port[16];
    char path[2048];
    /* Resolved once, before any run: every address HOST names (`localhost`:
     * 127.0.0.1 and ::1), the first one first. */
    struct sockaddr_storage addrs[PROF_READY_MAX_ADDRS];
    socklen_t addrlens[PROF_READY_MAX_ADDRS];
    size_t n_addrs;
    regex_t re;
    bool has_re;
    /* tcp:// with an exchange: what is sent once connected, and what the
     * answer must hold; without one, ready is "accepting connections". */
    enum prof_ready_expect { PROF_EXPECT_NONE, PROF_EXPECT_REGEX, PROF_EXPECT_POSTGRES } expect;
    char send[512];
    size_t send_len;
    regex_t expect_re;
    const char *protocol; /* "tcp", "redis" or "postgres": for messages */
};

/* Parses and validates a spec in which {port} has been substituted. */
int prof_ready_parse(const char *spec, struct prof_ready *ret, cs_error *err);
/* --ready-send DATA (C escapes: \r \n \t \\ \xHH) and --ready-expect REGEX on a
 * tcp:// spec (either may be NULL). */
int prof_ready_set_exchange(struct prof_ready *r, const char *send, const char *expect,
                            cs_error *err);
void prof_ready_free(struct prof_ready *r);
/* The index of the first address of r that a socket listening on `listen`
 * accepts connections to (a wildcard accepts its family, and `::` IPv4 too
 * unless bindv6only), or -1 when none does. */
int prof_ready_address_for(const struct prof_ready *r, const struct sockaddr_storage *listen);
/* "127.0.0.1:8080", "[::1]:8080". */
void prof_format_address(const struct sockaddr_storage *a, char *buf, size_t cap);
/* Checks a spec that may still contain {port}. */
int prof_ready_validate(const char *spec, cs_error *err);

/* Copy of s with every "{port}" replaced; NULL on allocation failure. */
char *prof_subst_port(const char *s, unsigned port);
/* A port that is free on 127.0.0.1 now (the kernel's choice of an ephemeral one). */
int prof_free_port(unsigned *ret, cs_error *err);

#endif
