#include "profiler/measure/perf_sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Ring pages per CPU: 256 pages of 4 KiB spread over the CPUs (at least 16
 * each). At 999 Hz with 100-deep stacks a CPU's ring fills in about a
 * second on two CPUs; the run loop is woken when one is half full. */
#define RING_PAGES_TOTAL 256
#define RING_PAGES_MIN 16

/* The kernel's records this reads (include/uapi/linux/perf_event.h). */
struct rec_sample_head {
    struct perf_event_header h;
    uint64_t ip;
    uint32_t pid, tid;
    uint64_t time;
    uint64_t nr;
};
struct rec_lost {
    struct perf_event_header h;
    uint64_t id, lost;
};
struct rec_fork {
    struct perf_event_header h;
    uint32_t pid, ppid, tid, ptid;
    uint64_t time;
};
struct rec_comm {
    struct perf_event_header h;
    uint32_t pid, tid;
    char comm[16];
};

static int open_cpu(struct perf_sampler *p, pid_t pid, int cpu, int hz)
{
    struct perf_event_attr a = {
        .size = sizeof a,
        .type = PERF_TYPE_SOFTWARE,
        .config = PERF_COUNT_SW_CPU_CLOCK,
        .sample_freq = (uint64_t)hz,
        .sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN,
        .freq = 1,
        .disabled = 1,
        .inherit = 1,
        .enable_on_exec = 1,
        .exclude_hv = 1,
        .task = 1,
        .comm = 1,
        .watermark = 1,
        .wakeup_watermark = (uint32_t)(p->ring_bytes / 2),
        .use_clockid = 1,
        .clockid = CLOCK_MONOTONIC,
    };
    return (int)syscall(SYS_perf_event_open, &a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int perf_sampler_open(struct perf_sampler *p, pid_t pid, int hz, cs_error *err)
{
    *p = (struct perf_sampler){.fd = -1, .hz = hz};
    long page = sysconf(_SC_PAGESIZE), ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (ncpu < 1)
        ncpu = 1;
    size_t pages = RING_PAGES_MIN;
    while (pages * 2 * (size_t)ncpu <= RING_PAGES_TOTAL)
        pages *= 2;
    p->ring_bytes = pages * (size_t)page;
    p->rings = calloc((size_t)ncpu, sizeof *p->rings);
    if (!p->rings)
        return cs_error_set(err, ENOMEM, "--profile");
    int first_errno = 0;
    for (int cpu = 0; cpu < ncpu; cpu++) {
        int fd = open_cpu(p, pid, cpu, hz);
        if (fd < 0) {
            if (!first_errno)
                first_errno = errno;
            continue; /* an offline CPU (ENODEV): nothing runs there */
        }
        void *ring =
            mmap(NULL, p->ring_bytes + (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (ring == MAP_FAILED) {
            int e = errno;
            close(fd);
            perf_sampler_close(p);
            return cs_error_set(err, e, "--profile: cannot map the perf ring buffer");
        }
        p->rings[p->n_rings++] = (struct perf_ring){fd, ring};
    }
    if (p->n_rings == 0) {
        int e = first_errno;
        perf_sampler_close(p);
        return cs_error_set(err, e, "--profile: perf_event_open on the target failed%s",
                            e == EACCES || e == EPERM
                                ? " (run as root, or lower /proc/sys/kernel/perf_event_paranoid)"
                            : e == ENOENT || e == ENOSYS ? " (this kernel has no perf events)"
                                                         : "");
    }
    p->fd = p->rings[0].fd;
    return 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 1024;
    while (n < need)
        n *= 2;
    void *a = realloc(*arr, n * size);
    if (!a)
        return -1;
    *arr = a;
    *cap = n;
    return 0;
}

static struct perf_task *task_slot(struct perf_sampler *p, pid_t pid)
{
    for (size_t i = 0; i < p->n_tasks; i++)
        if (p->tasks[i].pid == pid)
            return &p->tasks[i];
    if (grow((void **)&p->tasks, &p->cap_tasks, p->n_tasks + 1, sizeof *p->tasks) < 0) {
        p->error = ENOMEM;
        return NULL;
    }
    struct perf_task *t = &p->tasks[p->n_tasks++];
    *t = (struct perf_task){.pid = pid};
    return t;
}

const struct perf_task *perf_sampler_task(const struct perf_sampler *p, pid_t pid)
{
    for (size_t i = 0; i < p->n_tasks; i++)
        if (p->tasks[i].pid == pid)
            return &p->tasks[i];
    return NULL;
}

/* A /proc file whole (its size reads as 0: stat cannot tell), at most max bytes. */
static char *read_proc_text(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t len = 0, cap = 16384;
    char *text = malloc(cap);
    while (text) {
        if (len + 1 == cap) {
            char *t = cap * 2 <= max ? realloc(text, cap * 2) : NULL;
            if (!t) {
                free(text);
                text = NULL;
                break;
            }
            text = t;
            cap *= 2;
        }
        ssize_t n = read(fd, text + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (text)
        text[len] = '\0';
    return text;
}

/* What all kept maps texts may take together: 60 children of a process
 * with 50,000 mappings once took the profiler to 911 MiB. */
#define PERF_MAPS_BUDGET (64u << 20)

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void release_maps(struct perf_sampler *p, struct perf_task *t)
{
    struct perf_maps *m = t->maps_ref;
    if (m && --m->refs == 0) {
        p->maps_bytes -= m->len;
        free(m->text);
        free(m);
    }
    t->maps_ref = NULL;
    t->maps = NULL;
}

/* A short-lived process (a shell's child, a build step) is gone by the
 * time the profile is resolved: its maps are read when its first sample is.
 * Kept once for every task whose maps read the same, within the budget
 * (past it the task is named by its parent's maps, or not at all). */
static void keep_maps(struct perf_sampler *p, pid_t pid)
{
    struct perf_task *t = task_slot(p, pid);
    if (!t || t->maps_tried)
        return;
    t->maps_tried = true;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    char *text = read_proc_text(path, 16u << 20);
    if (!text)
        return;
    size_t len = strlen(text);
    uint64_t h = fnv1a(text, len);
    for (size_t i = 0; i < p->n_tasks; i++) {
        struct perf_maps *m = p->tasks[i].maps_ref;
        if (m && m->hash == h && m->len == len && memcmp(m->text, text, len) == 0) {
            free(text);
            m->refs++;
            t->maps_ref = m;
            t->maps = m->text;
            return;
        }
    }
    struct perf_maps *m = p->maps_bytes + len <= PERF_MAPS_BUDGET ? malloc(sizeof *m) : NULL;
    if (!m) {
        free(text);
        return;
    }
    *m = (struct perf_maps){.refs = 1, .len = len, .hash = h, .text = text};
    p->maps_bytes += len;
    t->maps_ref = m;
    t->maps = text;
}

static void take_record(struct perf_sampler *p, const char *rec, size_t len)
{
    const struct perf_event_header *h = (const void *)rec;
    if (h->type == PERF_RECORD_SAMPLE && len >= sizeof(struct rec_sample_head)) {
        struct rec_sample_head s;
        memcpy(&s, rec, sizeof s);
        if (s.nr > (len - sizeof s) / sizeof(uint64_t))
            return;
        if (grow((void **)&p->samples, &p->cap_samples, p->n_samples + 1, sizeof *p->samples) < 0 ||
            grow((void **)&p->ips, &p->cap_ips, p->n_ips + s.nr, sizeof *p->ips) < 0) {
            p->error = ENOMEM;
            return;
        }
        memcpy(p->ips + p->n_ips, rec + sizeof s, s.nr * sizeof(uint64_t));
        keep_maps(p, (pid_t)s.pid);
        p->samples[p->n_samples++] = (struct perf_sample){.time_ns = s.time,
                                                          .pid = (pid_t)s.pid,
                                                          .tid = (pid_t)s.tid,
                                                          .nr = (uint32_t)s.nr,
                                                          .ips_off = p->n_ips};
        p->n_ips += s.nr;
    } else if (h->type == PERF_RECORD_LOST && len >= sizeof(struct rec_lost)) {
        struct rec_lost l;
        memcpy(&l, rec, sizeof l);
        p->lost += l.lost;
    } else if (h->type == PERF_RECORD_FORK && len >= sizeof(struct rec_fork)) {
        struct rec_fork f;
        memcpy(&f, rec, sizeof f);
        if (f.pid == f.tid && f.pid != f.ppid) { /* a process, not a thread */
            struct perf_task *t = task_slot(p, (pid_t)f.pid);
            if (t)
                t->ppid = (pid_t)f.ppid;
        }
    } else if (h->type == PERF_RECORD_COMM && len >= offsetof(struct rec_comm, comm) + 1) {
        struct rec_comm c = {0};
        memcpy(&c, rec, len < sizeof c ? len : sizeof c);
        if (c.pid == c.tid) {
            struct perf_task *t = task_slot(p, (pid_t)c.pid);
            if (t && (h->misc & PERF_RECORD_MISC_COMM_EXEC)) {
                t->execed = true;
                release_maps(p, t); /* what it mapped before exec is gone */
                t->maps_tried = false;
            }
            if (t) {
                memcpy(t->comm, c.comm, sizeof t->comm);
                t->comm[sizeof t->comm - 1] = '\0';
            }
        }
    }
}

static void drain_ring(struct perf_sampler *p, void *ring)
{
    struct perf_event_mmap_page *meta = ring;
    const char *data = (const char *)ring + sysconf(_SC_PAGESIZE);
    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    size_t mask = p->ring_bytes - 1;
    /* A record that wraps around the ring's end is copied out whole. */
    char rec[sizeof(struct rec_sample_head) + 8192]; /* max stack 127: far below */
    while (tail + sizeof(struct perf_event_header) <= head) {
        struct perf_event_header h;
        for (size_t i = 0; i < sizeof h; i++)
            ((char *)&h)[i] = data[(tail + i) & mask];
        if (h.size < sizeof h || tail + h.size > head)
            break;
        if (h.size <= sizeof rec) {
            size_t off = tail & mask, first = p->ring_bytes - off;
            if (first >= h.size) {
                memcpy(rec, data + off, h.size);
            } else {
                memcpy(rec, data + off, first);
                memcpy(rec + first, data, h.size - first);
            }
            take_record(p, rec, h.size);
        }
        tail += h.size;
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

void perf_sampler_drain(struct perf_sampler *p)
{
    for (size_t i = 0; i < p->n_rings; i++)
        drain_ring(p, p->rings[i].ring);
}

void perf_sampler_stop(struct perf_sampler *p)
{
    /* On an inherited counter this disables the children's too. */
    for (size_t i = 0; i < p->n_rings; i++)
        ioctl(p->rings[i].fd, PERF_EVENT_IOC_DISABLE, 0);
    perf_sampler_drain(p);
}

void perf_sampler_close(struct perf_sampler *p)
{
    for (size_t i = 0; i < p->n_rings; i++) {
        munmap(p->rings[i].ring, p->ring_bytes + (size_t)sysconf(_SC_PAGESIZE));
        close(p->rings[i].fd);
    }
    free(p->rings);
    free(p->samples);
    free(p->ips);
    for (size_t i = 0; i < p->n_tasks; i++)
        release_maps(p, &p->tasks[i]);
    free(p->tasks);
    *p = (struct perf_sampler){.fd = -1};
}
