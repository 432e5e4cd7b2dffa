/* --profile cpu: what a session keeps of a target's CPU profile between its
 * runs, where it writes it, and what it asks of the runtimes it knows so
 * their JIT-compiled code has names (docs/measurement.md "CPU profile"). */
#ifndef COLDSTART_PROFILE_H
#define COLDSTART_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "reports/folded.h"
#include "reports/report.h"
#include "sandbox/base/error.h"

/* Every measured run of one target adds its stacks here. */
struct prof_profile_acc {
    struct rep_folded folded;
    uint64_t samples, lost;
    unsigned runs; /* runs that were profiled */
};

/* Before measuring: perf events can be opened here, and dir is (or can be
 * made as) a folder to write in. */
int prof_profile_check(const char *dir, cs_error *err);
/* --profile-maps: NODE_OPTIONS for a target whose JavaScript frames are to
 * be named: V8's perf map (--perf-basic-prof) and interpreted frames on the
 * native stack, added to the target's own NODE_OPTIONS (existing, NULL:
 * none). V8 can only write the map as it compiles, so it costs start-up
 * time (docs/measurement.md); .NET's map is asked for at ready instead
 * (dotnet_ipc.h). *out is "NODE_OPTIONS=...", to be freed. */
int prof_profile_env(const char *existing_node_options, char **out);
/* Writes DIR/TARGET.folded (the name made safe for a file) and fills
 * t->profile. Nothing is written for a target no run was profiled for. */
int prof_profile_write(struct prof_profile_acc *a, unsigned hz, bool maps, const char *dir,
                       struct rep_target *t, cs_error *err);

#endif
