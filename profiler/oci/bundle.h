/* An OCI runtime bundle for `--runtime crun|runc` (issue 16): config.json
 * as `crun spec` writes it, with what the image config gives (args, env,
 * cwd, user) and Docker's default capabilities, and the root the run mounts
 * (the overlay of the cached layers) named by its absolute path. No network
 * namespace: the container shares the run's (its own loopback by default),
 * so the probe reaches it as it reaches a builtin container. No cgroup
 * settings: the runtime runs with its cgroup manager disabled (crun) inside
 * the run's cgroup, which holds the limits. */
#ifndef COLDSTART_OCI_BUNDLE_H
#define COLDSTART_OCI_BUNDLE_H

#include "profiler/oci/runconfig.h"
#include "sandbox/base/error.h"

/* Writes DIR/config.json. */
int prof_oci_bundle_write(const char *dir, const struct prof_oci_run *run, const char *root_path,
                          const char *hostname, cs_error *err);

#endif
