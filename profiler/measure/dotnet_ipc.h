/* .NET's perf map on demand: the runtime's diagnostics server (the socket
 * /tmp/dotnet-diagnostic-PID-KEY-socket every .NET process since 5 opens
 * unless DOTNET_EnableDiagnostics=0) is asked to turn its perf map on, and
 * writes every method it has JIT-compiled so far into /tmp/perf-PID.map
 * (EnablePerfMap, .NET 8 on). Asked once the target is ready, the map costs
 * its start-up nothing, where DOTNET_PerfMapEnabled from exec made the
 * start-up of an ASP.NET server 16% slower here (bench/profile.py). */
#ifndef COLDSTART_DOTNET_IPC_H
#define COLDSTART_DOTNET_IPC_H

#include <sys/types.h>

/* root: the process's ("/proc/PID/root"); nspid: its pid in its own
 * namespace (the socket's name). Returns 0 when the runtime answered that
 * the map is written, -1 when there is no such socket, it refused (before
 * .NET 8) or did not answer within timeout_ms. */
int prof_dotnet_write_perf_map(const char *root, long nspid, int timeout_ms);

#endif
