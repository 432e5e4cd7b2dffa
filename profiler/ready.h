/* Readiness specs: `http://HOST:PORT/PATH`, `tcp://HOST:PORT`, `log:REGEX`,
 * `exit`; and `{port}` substitution in commands, environment and specs. */
#ifndef COLDSTART_READY_H
#define COLDSTART_READY_H

#include <regex.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "sandbox/error.h"

enum prof_ready_kind { PROF_READY_EXIT, PROF_READY_HTTP, PROF_READY_TCP, PROF_READY_LOG };

struct prof_ready {
    enum prof_ready_kind kind;
    char host[256];
    char port[16];
    char path[2048];
    struct sockaddr_storage addr; /* resolved once, before any run */
    socklen_t addrlen;
    regex_t re;
    bool has_re;
};

/* Parses and validates a spec in which {port} has been substituted. */
int prof_ready_parse(const char *spec, struct prof_ready *ret, cs_error *err);
void prof_ready_free(struct prof_ready *r);
/* Checks a spec that may still contain {port}. */
int prof_ready_validate(const char *spec, cs_error *err);

/* Copy of s with every "{port}" replaced; NULL on allocation failure. */
char *prof_subst_port(const char *s, unsigned port);
/* A port that is free on 127.0.0.1 now (the kernel's choice of an ephemeral one). */
int prof_free_port(unsigned *ret, cs_error *err);

#endif
