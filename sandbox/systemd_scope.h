/* Under systemd, a cgroup of its own for the profiler: a transient scope with
 * Delegate=yes, asked for over D-Bus as `systemd-run --scope -p Delegate=yes`
 * and crun's systemd cgroup manager do. libsystemd's sd-bus speaks D-Bus. */
#ifndef COLDSTART_SYSTEMD_SCOPE_H
#define COLDSTART_SYSTEMD_SCOPE_H

#include "sandbox/base/error.h"

/* Moves the calling process into a new scope `coldstart-<pid>.scope` (the
 * system bus as root, else the user's) and waits until systemd has started
 * it. Fails, saying why, when PID 1 is not systemd or no bus answers. */
int sbx_systemd_enter_scope(cs_error *err);

/* The unit name prefix, for the stale-scope sweep: `coldstart-<pid>.scope`. */
#define SBX_SYSTEMD_SCOPE_PREFIX "coldstart-"
#define SBX_SYSTEMD_SCOPE_SUFFIX ".scope"

#endif
