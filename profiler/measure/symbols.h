/* Names for the addresses of a CPU profile (--profile cpu):
 *
 * - code in a mapped ELF file: its symbol table (.symtab, else .dynsym),
 *   through elfutils libdwfl, which reads the process's maps and finds each
 *   module's ELF (opened through /proc/PID/root, so a container's files are
 *   the container's); C++ names demangled;
 * - code a JIT wrote: the perf map the runtime writes (/tmp/perf-PID.map in
 *   the process's own root and PID namespace; .NET with
 *   DOTNET_PerfMapEnabled, Node with --perf-basic-prof), suffixed `_[j]`;
 * - the kernel's: /proc/kallsyms (when kptr_restrict lets us read the
 *   addresses), suffixed `_[k]`.
 *
 * Maps and perf maps are read when the profile is resolved, while the
 * target still runs. A process that exited before is named by the maps read
 * at its first sample, else by its parent's when it did not exec (a forked
 * worker maps what its parent does), else its frames are `[unknown]`; a
 * JIT's perf map is only read from a living process. */
#ifndef COLDSTART_SYMBOLS_H
#define COLDSTART_SYMBOLS_H

#include <stdint.h>
#include <sys/types.h>

#include "profiler/measure/perf_sampler.h"
#include "reports/folded.h"

/* The kernel's symbols: read once per session (the first profile). */
struct prof_kallsyms;
void prof_kallsyms_free(struct prof_kallsyms *k);

/* Where a run's phases begin and end on CLOCK_MONOTONIC (0: not seen), and
 * the target's first process (whose root holds the files of those gone). */
struct prof_phase_bounds {
    uint64_t t0_ns, listen_ns, ready_ns, end_ns;
    pid_t main_pid;
    bool maps_from_exec; /* --profile-maps: the perf maps the runtimes wrote are removed */
};

/* Adds every sample of p up to ready (or end) to out as a collapsed stack
 * rooted at its phase (`[exec-listen]`, `[listen-ready]`; `[exec-ready]`
 * when no listen was seen) and its process's name. *kallsyms is read on
 * first use. Returns the samples added.
 *
 * The ELF files, debug files and perf maps it parses are the target's, and
 * elfutils is not hardened against hostile input (an xz bomb in a library's
 * .gnu_debugdata took the profiler to 2 GiB): this runs the resolution in a
 * child process with limits (symbols_child.c); if that child dies or runs
 * out of time, the samples are kept without their names. */
uint64_t prof_profile_resolve(const struct perf_sampler *p, const struct prof_phase_bounds *b,
                              struct prof_kallsyms **kallsyms, struct rep_folded *out);
/* The same in this process (what the child runs). */
uint64_t prof_profile_resolve_here(const struct perf_sampler *p, const struct prof_phase_bounds *b,
                                   struct prof_kallsyms **kallsyms, struct rep_folded *out);
/* Reads the kernel's symbols when not read yet (trusted input: the parent's). */
void prof_kallsyms_ensure(struct prof_kallsyms **kallsyms);

#endif
