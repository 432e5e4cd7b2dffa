/* The image config applied as `docker run` applies it (docs/design.md):
 * Entrypoint + Cmd (`--entrypoint PATH` replaces Entrypoint and drops Cmd;
 * arguments after the image replace Cmd), Env (then the user's --env),
 * WorkingDir, User (a name resolved in the image's own /etc/passwd and
 * /etc/group, found through the layers as the overlay would show them),
 * StopSignal, and the default ready spec from the one exposed TCP port. */
#ifndef COLDSTART_OCI_RUNCONFIG_H
#define COLDSTART_OCI_RUNCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "profiler/oci/image.h"

struct prof_oci_run {
    char **argv; /* NULL-terminated, owned */
    char **env;  /* "K=V", NULL-terminated, owned */
    char *cwd;   /* inside the container; "/" when the image names none */
    bool set_user;
    uid_t uid;
    gid_t gid;
    int stop_signal; /* 0: the default (SIGTERM) */
    char ready[64];  /* "http://127.0.0.1:PORT/" from the exposed port, or "" */
};

/* What the user gave on the command line, overriding the image. */
struct prof_oci_overrides {
    const char *entrypoint; /* --entrypoint, or NULL */
    char *const *args;      /* after `--`, replacing Cmd */
    size_t n_args;
    const char *const *env; /* --env K=V, applied over the image's */
    size_t n_env;
    const char *user; /* --user NAME|UID[:GROUP|GID], resolved in the image; or NULL */
    const char *cwd;  /* --cwd, a path inside the container; or NULL */
};

/* layers: the extracted layer folders, base first (to read /etc/passwd and
 * /etc/group as the container will see them). Bad config or a user the
 * image does not know: CS_ERR_INPUT. */
int prof_oci_run_config(const struct prof_oci_config *c, const char *const *layers, size_t n_layers,
                        const struct prof_oci_overrides *o, struct prof_oci_run *ret,
                        cs_error *err);
void prof_oci_run_free(struct prof_oci_run *r);
/* Entries of a NULL-terminated array (0 for NULL). */
size_t prof_oci_strv_len(char *const *v);
#define _cleanup_oci_run_ _cleanup_(prof_oci_run_free)

/* The file `rel` (e.g. "etc/passwd") as the overlay of layers shows it: the
 * topmost layer that has it, unless a whiteout or an opaque folder above
 * hides it. Writes its path into buf; returns 0, or -1 when it is absent. */
int prof_oci_find_in_layers(const char *const *layers, size_t n_layers, const char *rel, char *buf,
                            size_t cap);

#endif
