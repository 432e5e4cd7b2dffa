#include "sandbox/systemd_scope.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SCOPE_TIMEOUT_US (10 * 1000000ULL)

struct job_wait {
    const char *job; /* object path of our StartTransientUnit job */
    char result[32]; /* "done" when the scope started; empty until then */
};

/* JobRemoved(u id, o job, s unit, s result): the job ended, one way or another. */
static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
    (void)ret_error;
    struct job_wait *w = data;
    uint32_t id;
    const char *job, *unit, *result;
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
        return 0;
    if (w->job && strcmp(job, w->job) == 0)
        snprintf(w->result, sizeof w->result, "%s", result);
    return 0;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int start_scope(sd_bus *bus, const char *unit, struct job_wait *w, cs_error *err)
{
    sd_bus_message *m = NULL, *reply = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "StartTransientUnit");
    if (r >= 0)
        r = sd_bus_message_append(m, "ss", unit, "fail");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "(sv)");
    if (r >= 0)
        r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s",
                                  "coldstart profiler (run cgroups below it)", "PIDs", "au", 1,
                                  (uint32_t)getpid(), "Delegate", "b", 1, "CollectMode", "s",
                                  "inactive-or-failed",
                                  /* no ordering against boot or shutdown (as crun) */
                                  "DefaultDependencies", "b", 0);
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        r = sd_bus_message_append(m, "a(sa(sv))", 0); /* no auxiliary units */
    if (r < 0) {
        sd_bus_message_unref(m);
        return cs_error_set(err, -r, "cannot build the StartTransientUnit call");
    }
    r = sd_bus_call(bus, m, SCOPE_TIMEOUT_US, &e, &reply);
    sd_bus_message_unref(m);
    if (r < 0) {
        cs_error_set(err, 0, "StartTransientUnit %s: %s", unit,
                     e.message ? e.message : strerror(-r));
        sd_bus_error_free(&e);
        return -1;
    }
    const char *job = NULL;
    r = sd_bus_message_read(reply, "o", &job);
    if (r >= 0)
        w->job = strdup(job);
    sd_bus_message_unref(reply);
    if (r < 0 || !w->job)
        return cs_error_set(err, r < 0 ? -r : ENOMEM, "StartTransientUnit %s: no job", unit);
    return 0;
}

/* As root, systemd's own socket first, as systemctl does: it needs no bus
 * daemon (minimal hosts and containers run systemd without dbus), and
 * systemd sends every signal to its direct clients. Then the system bus;
 * for a user, the user's bus. */
static int open_bus(sd_bus **ret, cs_error *err)
{
    if (geteuid() != 0) {
        int r = sd_bus_open_user(ret);
        return r < 0 ? cs_error_set(err, -r, "cannot reach the user bus") : 0;
    }
    sd_bus *bus = NULL;
    int r = sd_bus_new(&bus);
    if (r >= 0)
        r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
    if (r >= 0)
        r = sd_bus_start(bus);
    if (r >= 0) {
        *ret = bus;
        return 0;
    }
    sd_bus_unref(bus);
    r = sd_bus_open_system(ret);
    return r < 0 ? cs_error_set(err, -r,
                                "cannot reach systemd (/run/systemd/private, the system bus)")
                 : 0;
}

int sbx_systemd_enter_scope(cs_error *err)
{
    if (sd_booted() <= 0)
        return cs_error_set(err, 0, "PID 1 is not systemd");
    sd_bus *bus = NULL;
    if (open_bus(&bus, err) < 0)
        return -1;
    int r;
    char unit[64];
    snprintf(unit, sizeof unit, SBX_SYSTEMD_SCOPE_PREFIX "%ld" SBX_SYSTEMD_SCOPE_SUFFIX,
             (long)getpid());
    struct job_wait w = {0};
    /* Subscribed before the call, so the job's end cannot be missed. */
    r = sd_bus_match_signal(bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                            on_job_removed, &w);
    int rc = -1;
    if (r < 0) {
        cs_error_set(err, -r, "cannot subscribe to systemd's JobRemoved");
        goto out;
    }
    if (start_scope(bus, unit, &w, err) < 0)
        goto out;
    uint64_t deadline = now_us() + SCOPE_TIMEOUT_US;
    while (!w.result[0]) {
        r = sd_bus_process(bus, NULL);
        if (r < 0) {
            cs_error_set(err, -r, "waiting for %s", unit);
            goto out;
        }
        if (r > 0)
            continue;
        uint64_t now = now_us();
        if (now >= deadline) {
            cs_error_set(err, ETIMEDOUT, "systemd did not start %s", unit);
            goto out;
        }
        sd_bus_wait(bus, deadline - now);
    }
    if (strcmp(w.result, "done") != 0) {
        cs_error_set(err, 0, "systemd could not start %s: job %s", unit, w.result);
        goto out;
    }
    rc = 0;
out:
    free((char *)w.job);
    sd_bus_flush_close_unref(bus);
    return rc;
}
