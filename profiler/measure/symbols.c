#include "profiler/measure/symbols.h"

#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "profiler/measure/dotnet_ipc.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/spawn.h"

/* The C++ runtime's demangler (libstdc++): C++ symbols (CoreCLR, V8, the
 * JVM) read as the source names them, as perf and FlameGraph show them. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* A collapsed-stack line longer than this is cut (127 frames of long
 * demangled C++ names fit). */
#define LINE_MAX_BYTES (64 * 1024)
#define MAX_PROCS 256
/* The .NET processes of one run have this long together to write their
 * perf maps when asked (an ASP.NET server takes ~20 ms). */
#define IPC_BUDGET_MS 5000
/* Entries read from one perf map at most (.NET's after an ASP.NET start-up
 * has ~4,000). */
#define PERF_MAP_MAX_ENTRIES 2000000
#define PERF_MAP_MAX_BYTES (64u << 20)
#define PERF_MAP_MAX_LINE 4096

struct ksym {
    uint64_t addr;
    char *name;
};

struct prof_kallsyms {
    struct ksym *v;
    size_t n;
};

struct jit_sym {
    uint64_t start, end;
    char *name;
};

/* What names one process's addresses: its modules and its JIT's perf map.
 * A process that exited borrows its ancestor's (owns false). */
struct proc_syms {
    pid_t pid;
    char comm[16];
    Dwfl *dwfl;
    struct jit_sym *jit;
    size_t n_jit;
    char root[64]; /* "/proc/PID/root": its files as it sees them */
    bool owns;
    /* Names already found for an address (libdwfl searches a module's
     * symbols linearly per lookup: Node's 77 MB binary took 2.3 s of CPU
     * per run without this). Open addressing, a power of two. */
    struct name_slot {
        uint64_t ip;
        char *name; /* NULL: empty slot */
    } * names;
    size_t names_cap, names_n;
};

struct resolver {
    const struct perf_sampler *p;
    char main_root[64];       /* the target's first process's root, "" when it is gone */
    bool maps_from_exec;      /* --profile-maps: the perf maps are ours to remove */
    uint64_t ipc_deadline_ns; /* all .NET processes together wait this long at most */
    bool same_pid_ns;         /* the target's pids are ours (no PID namespace of its own) */
    pid_t main_pid;
    struct prof_kallsyms *k;
    struct proc_syms procs[MAX_PROCS];
    size_t n;
};

/* ---- the kernel ---- */

static int by_addr(const void *a, const void *b)
{
    const struct ksym *x = a, *y = b;
    return (x->addr > y->addr) - (x->addr < y->addr);
}

static struct prof_kallsyms *kallsyms_load(void)
{
    struct prof_kallsyms *k = calloc(1, sizeof *k);
    FILE *f = fopen("/proc/kallsyms", "re");
    if (!k || !f) {
        if (f)
            fclose(f);
        return k;
    }
    char *line = NULL;
    size_t cap = 0, n_cap = 0;
    while (getline(&line, &cap, f) > 0) {
        unsigned long long addr;
        char type, name[256];
        if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || addr == 0 ||
            !strchr("tTwW", type))
            continue; /* not code, or the addresses are hidden (kptr_restrict) */
        if (k->n == n_cap) {
            n_cap = n_cap ? n_cap * 2 : 65536;
            struct ksym *v = realloc(k->v, n_cap * sizeof *v);
            if (!v)
                break;
            k->v = v;
        }
        char *s = strdup(name);
        if (!s)
            break;
        k->v[k->n++] = (struct ksym){addr, s};
    }
    free(line);
    fclose(f);
    if (k->n)
        qsort(k->v, k->n, sizeof *k->v, by_addr);
    return k;
}

void prof_kallsyms_free(struct prof_kallsyms *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i].name);
    free(k->v);
    free(k);
}

static const char *kallsyms_name(const struct prof_kallsyms *k, uint64_t ip)
{
    if (!k || k->n == 0 || ip < k->v[0].addr)
        return NULL;
    size_t lo = 0, hi = k->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->v[mid].addr <= ip)
            lo = mid;
        else
            hi = mid;
    }
    return k->v[lo].name;
}

/* ---- a process's modules (libdwfl) ---- */

/* path as the target sees it, opened inside its root (a symlink there
 * never leads to the host's files), and only when it is a regular file:
 * the target controls what its paths are by now (a FIFO would block the
 * open, a device be read forever). Returns the descriptor or -1. */
static int open_regular(const char *root, const char *path)
{
    int fd = fs_open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* libdwfl opens each module's ELF when first asked about it: through the
 * root of the process being resolved (a container's files are not the
 * host's at the same path). Resolution runs on the main thread only. */
static const char *current_root = "";

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                    char **file_name, Elf **elfp)
{
    if (modname[0] == '/') {
        int fd = open_regular(current_root, modname);
        if (fd >= 0) {
            *file_name = strdup(modname);
            *elfp = NULL;
            return fd;
        }
    }
    return dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
}

/* A stripped library's symbols in a separate debug file, looked for where
 * gdb looks (its .gnu_debuglink name beside it, in .debug/ beside it, and
 * under /usr/lib/debug), through the process's root. Not through
 * dwfl_standard_find_debuginfo: it would ask debuginfod servers
 * (DEBUGINFOD_URLS is set on Debian logins) over the network, once per
 * module, before the target is stopped. */
static int local_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                           const char *file_name, const char *debuglink_file,
                           GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    (void)mod, (void)userdata, (void)base, (void)debuglink_crc;
    if (!debuglink_file || !*debuglink_file || modname[0] != '/')
        return -1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", modname);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    (void)file_name;
    const char *forms[] = {"%s/%s", "%s/.debug/%s", "/usr/lib/debug%s/%s"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char path[8192];
        snprintf(path, sizeof path, forms[i], dir, debuglink_file);
        int fd = open_regular(current_root, path);
        if (fd >= 0) {
            *debuginfo_file_name = strdup(path);
            return fd;
        }
    }
    return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {.find_elf = find_elf,
                                              .find_debuginfo = local_debuginfo};

static int by_start(const void *a, const void *b)
{
    const struct jit_sym *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* The pid the process has in its own PID namespace (its perf map's name). */
static long ns_pid(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    if (fs_read_file(path, buf, sizeof buf, NULL) <= 0)
        return pid;
    const char *line = strstr(buf, "\nNSpid:");
    if (!line)
        return pid;
    line += 7;
    const char *eol = strchr(line, '\n');
    long last = pid;
    for (char *end; *line && (!eol || line < eol); line = end) {
        long v = strtol(line, &end, 10);
        if (end == line)
            break;
        last = v;
    }
    return last;
}

/* .NET names a generic instantiation with its method tables' addresses
 * ("Foo /\* MT: 0x7f56083a5408 *\/"): different in every run, they would
 * split one function into as many frames as runs. */
static void strip_comments(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        const char *end = r[0] == ' ' && r[1] == '/' && r[2] == '*' ? strstr(r + 3, "*/") : NULL;
        if (end) {
            r = end + 2;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

/* The perf map the process wrote, or -1: a file of procfs or sysfs (a
 * "regular" /proc/self/pagemap of 256 GB without a newline) or one the
 * process's user does not own (for a host target /proc/PID/root is /, and a
 * symlink in its /tmp could make root print a root-only file) is not read. */
static int open_perf_map(const struct proc_syms *ps, const char *path)
{
    char proc[64];
    struct stat owner, st;
    struct statfs sfs;
    snprintf(proc, sizeof proc, "/proc/%ld", (long)ps->pid);
    int fd = open_regular(ps->root, path);
    if (fd < 0)
        return -1;
    if (stat(proc, &owner) < 0 || fstat(fd, &st) < 0 || st.st_uid != owner.st_uid ||
        fstatfs(fd, &sfs) < 0 || sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC) {
        close(fd);
        return -1;
    }
    return fd;
}

/* /tmp/perf-PID.map as the process sees it: `START SIZE name` per line, hex.
 * Read up to PERF_MAP_MAX_BYTES, lines up to PERF_MAP_MAX_LINE (the rest of
 * a longer one is skipped): the target writes this file, and it must not
 * make the profiler, which runs as root, take the machine's memory. */
static void load_perf_map(struct proc_syms *ps, const char *path)
{
    int fd = open_perf_map(ps, path);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char line[PERF_MAP_MAX_LINE];
    size_t n_cap = 0, total = 0;
    bool skipping = false;
    while (total < PERF_MAP_MAX_BYTES && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        total += len;
        bool whole = (len > 0 && line[len - 1] == '\n') || feof(f);
        if (skipping || !whole) {
            skipping = !whole; /* the tail of a long line: dropped with it */
            continue;
        }
        unsigned long long start, size;
        int off = 0;
        if (sscanf(line, "%llx %llx %n", &start, &size, &off) != 2 || off == 0 || size == 0)
            continue;
        if (ps->n_jit == PERF_MAP_MAX_ENTRIES)
            break; /* a map this long is not a runtime's start-up */
        char *name = line + off;
        name[strcspn(name, "\n")] = '\0';
        strip_comments(name);
        if (ps->n_jit == n_cap) {
            n_cap = n_cap ? n_cap * 2 : 4096;
            struct jit_sym *v = realloc(ps->jit, n_cap * sizeof *v);
            if (!v)
                break;
            ps->jit = v;
        }
        char *s = strdup(name);
        if (!s)
            break;
        ps->jit[ps->n_jit++] = (struct jit_sym){start, start + size, s};
    }
    fclose(f);
    qsort(ps->jit, ps->n_jit, sizeof *ps->jit, by_start);
}

static const char *jit_name(const struct proc_syms *ps, uint64_t ip)
{
    size_t lo = 0, hi = ps->n_jit;
    while (lo < hi) { /* the last entry starting at or before ip */
        size_t mid = lo + (hi - lo) / 2;
        if (ps->jit[mid].start <= ip)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && ip < ps->jit[lo - 1].end ? ps->jit[lo - 1].name : NULL;
}

/* Its modules from maps text (a snapshot of a process now gone) or, when
 * maps_text is NULL, from the living process's /proc/PID/maps. */
static bool load_modules(struct proc_syms *ps, const char *maps_text)
{
    ps->dwfl = dwfl_begin(&dwfl_callbacks);
    if (!ps->dwfl)
        return false;
    dwfl_report_begin(ps->dwfl);
    int rc = -1;
    if (maps_text) {
        FILE *f = fmemopen((void *)maps_text, strlen(maps_text), "r");
        if (f) {
            rc = dwfl_linux_proc_maps_report(ps->dwfl, f);
            fclose(f);
        }
    } else {
        rc = dwfl_linux_proc_report(ps->dwfl, ps->pid);
    }
    dwfl_report_end(ps->dwfl, NULL, NULL);
    if (rc != 0) {
        dwfl_end(ps->dwfl);
        ps->dwfl = NULL;
        return false;
    }
    ps->owns = true;
    return true;
}

/* --perf-basic-prof also makes V8 write its log, isolate-0xADDR-PID-v8.log,
 * into the process's working folder (--logfile, which would send it
 * elsewhere, is refused in NODE_OPTIONS): removed, as the map is, from the
 * working folder of process cwd_of (the node process, or for one gone, the
 * target's first process). */
static void remove_v8_log(pid_t cwd_of, long nspid)
{
    char cwd[64], suffix[48];
    snprintf(cwd, sizeof cwd, "/proc/%ld/cwd", (long)cwd_of);
    int n = snprintf(suffix, sizeof suffix, "-%ld-v8.log", nspid);
    int dfd = open(cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "isolate-0x", 10) == 0 && len > (size_t)n &&
            strcmp(e->d_name + len - (size_t)n, suffix) == 0 && e->d_type == DT_REG)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* What is left of the time all .NET processes of a profile may take to
 * answer (a target that accepts on its diagnostics socket and never answers
 * costs this once, not once per process). */
static int remaining_ipc_ms(const struct resolver *r)
{
    uint64_t now = sbx_now_ns();
    return now >= r->ipc_deadline_ns ? 0 : (int)((r->ipc_deadline_ns - now) / 1000000);
}

static bool load_live(struct resolver *r, struct proc_syms *ps)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)ps->pid);
    if (kill(ps->pid, 0) != 0 || access(path, R_OK) != 0)
        return false;
    snprintf(ps->root, sizeof ps->root, "/proc/%ld/root", (long)ps->pid);
    if (!load_modules(ps, NULL))
        return false;
    /* .NET writes its JIT's map when asked (nothing when it is not .NET).
     * A map this run made is removed once read: the target's /tmp may be
     * the host's. One that was there before is the user's, and stays. */
    long nspid = ns_pid(ps->pid);
    char map[64], info[64];
    snprintf(map, sizeof map, "perf-%ld.map", nspid);
    snprintf(info, sizeof info, "perfinfo-%ld.map", nspid);
    _cleanup_close_ int tmp = fs_open_in_root(ps->root, "/tmp", O_PATH | O_DIRECTORY);
    bool had_map = tmp >= 0 && faccessat(tmp, map, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    bool had_info = tmp >= 0 && faccessat(tmp, info, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    bool asked = prof_dotnet_write_perf_map(ps->root, nspid, remaining_ipc_ms(r)) == 0;
    char map_path[80];
    snprintf(map_path, sizeof map_path, "/tmp/%s", map);
    load_perf_map(ps, map_path);
    /* unlinkat removes the name in the target's own /tmp (never a file a
     * symlink there points to). */
    if (tmp >= 0 && ((asked && !had_map) || r->maps_from_exec))
        unlinkat(tmp, map, 0);
    if (tmp >= 0 && asked && !had_info)
        unlinkat(tmp, info, 0);
    if (r->maps_from_exec)
        remove_v8_log(ps->pid, nspid);
    return true;
}

/* --profile-maps: the map of a process that exited before the profile was
 * resolved is removed too. Its name holds the pid it had in its own PID
 * namespace, known only when that is ours (a container's /tmp goes with
 * the container anyway). */
static void remove_gone_perf_map(const struct resolver *r, const struct proc_syms *ps)
{
    if (!r->maps_from_exec || !r->same_pid_ns || !ps->root[0])
        return;
    _cleanup_close_ int tmp = fs_open_in_root(ps->root, "/tmp", O_PATH | O_DIRECTORY);
    char map[64];
    snprintf(map, sizeof map, "perf-%ld.map", (long)ps->pid);
    if (tmp >= 0)
        unlinkat(tmp, map, 0);
    /* Its V8 log is in its working folder: most likely the target's. */
    remove_v8_log(r->main_pid, ps->pid);
}

static void proc_comm(struct resolver *r, struct proc_syms *ps)
{
    const struct perf_task *t = perf_sampler_task(r->p, ps->pid);
    if (t && t->comm[0]) {
        snprintf(ps->comm, sizeof ps->comm, "%s", t->comm);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)ps->pid);
    if (fs_read_file(path, ps->comm, sizeof ps->comm, NULL) > 0)
        ps->comm[strcspn(ps->comm, "\n")] = '\0';
    else
        snprintf(ps->comm, sizeof ps->comm, "pid-%ld", (long)ps->pid);
}

static struct proc_syms *process(struct resolver *r, pid_t pid, int depth)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->procs[i].pid == pid)
            return &r->procs[i];
    if (r->n == MAX_PROCS)
        return NULL;
    struct proc_syms *ps = &r->procs[r->n++]; /* a fixed array: ps stays valid */
    *ps = (struct proc_syms){.pid = pid};
    proc_comm(r, ps);
    if (load_live(r, ps))
        return ps;
    /* Gone. Its files are seen through a living relative's root. */
    const struct perf_task *t = perf_sampler_task(r->p, pid);
    struct proc_syms *up = t && t->ppid > 0 && depth < 16 ? process(r, t->ppid, depth + 1) : NULL;
    snprintf(ps->root, sizeof ps->root, "%s", up ? up->root : r->main_root);
    remove_gone_perf_map(r, ps);
    if (t && t->maps && load_modules(ps, t->maps))
        return ps; /* the maps read at its first sample */
    if (up && up->dwfl && !(t && t->execed)) {
        /* A forked worker that did not exec maps what its parent does. */
        ps->dwfl = up->dwfl;
        ps->jit = up->jit;
        ps->n_jit = up->n_jit;
    }
    return ps;
}

static void resolver_free(struct resolver *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct proc_syms *ps = &r->procs[i];
        for (size_t k = 0; ps->names && k < ps->names_cap; k++)
            free(ps->names[k].name);
        free(ps->names);
        if (!ps->owns)
            continue;
        dwfl_end(ps->dwfl);
        for (size_t k = 0; k < ps->n_jit; k++)
            free(ps->jit[k].name);
        free(ps->jit);
    }
}

/* ---- stacks ---- */

struct line {
    char buf[LINE_MAX_BYTES];
    size_t len;
};

/* Appends ";name" (no ';' before the first frame), with the separators the
 * format reserves replaced: ';' splits frames, a newline ends the stack. */
static void line_frame(struct line *l, const char *name, const char *suffix)
{
    size_t need = strlen(name) + strlen(suffix) + 2;
    if (l->len + need >= sizeof l->buf)
        return;
    if (l->len)
        l->buf[l->len++] = ';';
    for (const char *s = name; *s; s++)
        l->buf[l->len++] = *s == ';' ? ':' : *s == '\n' || *s == '\r' ? ' ' : *s;
    for (const char *s = suffix; *s; s++)
        l->buf[l->len++] = *s;
    l->buf[l->len] = '\0';
}

/* The name of code at ip in a mapped ELF file: its symbol, demangled, or
 * "[file]" when it has none. Returns a new string (NULL: out of memory). */
static char *elf_name(struct proc_syms *ps, Dwfl_Module *m, uint64_t ip)
{
    current_root = ps->root;
    const char *name = dwfl_module_addrname(m, ip);
    current_root = "";
    if (name) {
        int status = -1;
        char *plain =
            name[0] == '_' && name[1] == 'Z' ? __cxa_demangle(name, NULL, NULL, &status) : NULL;
        if (status == 0 && plain)
            return plain;
        free(plain);
        return strdup(name);
    }
    const char *mod = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    const char *base = mod ? strrchr(mod, '/') : NULL;
    char *out = NULL;
    if (asprintf(&out, "[%s]", base ? base + 1 : mod ? mod : "unknown") < 0)
        return NULL;
    return out;
}

static struct name_slot *name_slot(struct proc_syms *ps, uint64_t ip)
{
    size_t mask = ps->names_cap - 1, i = (size_t)((ip * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (ps->names[i].name && ps->names[i].ip != ip)
        i = (i + 1) & mask;
    return &ps->names[i];
}

/* Room for one more name (the table at most half full). */
static bool names_reserve(struct proc_syms *ps)
{
    if (ps->names && (ps->names_n + 1) * 2 <= ps->names_cap)
        return true;
    struct proc_syms grown = *ps;
    grown.names_cap = ps->names_cap ? ps->names_cap * 2 : 4096;
    grown.names = calloc(grown.names_cap, sizeof *grown.names);
    if (!grown.names)
        return false;
    for (size_t i = 0; ps->names && i < ps->names_cap; i++)
        if (ps->names[i].name)
            *name_slot(&grown, ps->names[i].ip) = ps->names[i];
    free(ps->names);
    ps->names = grown.names;
    ps->names_cap = grown.names_cap;
    return true;
}

static void user_frame(struct line *l, struct proc_syms *ps, uint64_t ip)
{
    const char *jit = ps ? jit_name(ps, ip) : NULL;
    if (jit) {
        line_frame(l, jit, "_[j]");
        return;
    }
    Dwfl_Module *m = ps && ps->dwfl ? dwfl_addrmodule(ps->dwfl, ip) : NULL;
    if (!m) {
        line_frame(l, "[unknown]", "");
        return;
    }
    if (!names_reserve(ps)) {
        line_frame(l, "[unknown]", "");
        return;
    }
    struct name_slot *slot = name_slot(ps, ip);
    if (!slot->name) {
        char *name = elf_name(ps, m, ip);
        if (!name) {
            line_frame(l, "[unknown]", "");
            return;
        }
        *slot = (struct name_slot){ip, name};
        ps->names_n++;
    }
    line_frame(l, slot->name, "");
}

static const char *phase_of(const struct prof_phase_bounds *b, uint64_t t)
{
    if (!b->listen_ns)
        return "[exec-ready]";
    return t < b->listen_ns ? "[exec-listen]" : "[listen-ready]";
}

/* The sample's call chain, root first: the user frames (the chain lists them
 * after the kernel's, leaf first), then the kernel's. A return address is
 * looked up one byte back, inside the call that pushed it. */
static void sample_line(struct resolver *r, const struct perf_sample *s, const char *phase,
                        struct line *l)
{
    l->len = 0;
    line_frame(l, phase, "");
    struct proc_syms *ps = process(r, s->pid, 0);
    line_frame(l, ps ? ps->comm : "?", "");
    const uint64_t *ips = r->p->ips + s->ips_off;
    size_t kernel_from = s->nr, user_from = s->nr; /* index of each context's leaf */
    for (size_t i = 0; i < s->nr; i++) {
        if (ips[i] == PERF_CONTEXT_KERNEL)
            kernel_from = i + 1;
        else if (ips[i] == PERF_CONTEXT_USER)
            user_from = i + 1;
    }
    for (size_t i = s->nr; i-- > user_from;) {
        if (ips[i] >= PERF_CONTEXT_MAX)
            break;
        user_frame(l, ps, i == user_from ? ips[i] : ips[i] - 1);
    }
    size_t kernel_end = user_from < s->nr && user_from > kernel_from ? user_from - 1 : s->nr;
    for (size_t i = kernel_end; i-- > kernel_from;) {
        if (ips[i] >= PERF_CONTEXT_MAX)
            continue;
        const char *name = kallsyms_name(r->k, i == kernel_from ? ips[i] : ips[i] - 1);
        line_frame(l, name ? name : "[kernel]", "_[k]");
    }
}

void prof_kallsyms_ensure(struct prof_kallsyms **kallsyms)
{
    if (!*kallsyms)
        *kallsyms = kallsyms_load();
}

uint64_t prof_profile_resolve_here(const struct perf_sampler *p, const struct prof_phase_bounds *b,
                                   struct prof_kallsyms **kallsyms, struct rep_folded *out)
{
    prof_kallsyms_ensure(kallsyms);
    struct resolver *r = calloc(1, sizeof *r);
    struct line *l = malloc(sizeof *l);
    uint64_t added = 0;
    if (!r || !l) {
        free(r);
        free(l);
        out->failed = 1;
        return 0;
    }
    r->p = p;
    r->k = *kallsyms;
    r->maps_from_exec = b->maps_from_exec;
    r->ipc_deadline_ns = sbx_now_ns() + IPC_BUDGET_MS * 1000000ull;
    if (b->main_pid > 0 && kill(b->main_pid, 0) == 0) {
        snprintf(r->main_root, sizeof r->main_root, "/proc/%ld/root", (long)b->main_pid);
        r->same_pid_ns = ns_pid(b->main_pid) == (long)b->main_pid;
        r->main_pid = b->main_pid;
    }
    uint64_t end = b->ready_ns ? b->ready_ns : b->end_ns;
    for (size_t i = 0; i < p->n_samples; i++) {
        const struct perf_sample *s = &p->samples[i];
        if (s->time_ns < b->t0_ns || (end && s->time_ns > end))
            continue;
        sample_line(r, s, phase_of(b, s->time_ns), l);
        if (rep_folded_add(out, l->buf, 1) == 0)
            added++;
    }
    resolver_free(r);
    free(r);
    free(l);
    return added;
}
