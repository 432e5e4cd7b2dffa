#include "profiler/analysis/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_number(const char *s, double *ret, const char **rest)
{
    char *end;
    errno = 0;
    if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
        return -1;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    *ret = v;
    *rest = end;
    return 0;
}

int prof_parse_size(const char *s, uint64_t *ret_bytes, cs_error *err)
{
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"K", 1e3},
        {"KB", 1e3},
        {"k", 1e3},
        {"kB", 1e3},
        {"M", 1e6},
        {"MB", 1e6},
        {"G", 1e9},
        {"GB", 1e9},
        {"T", 1e12},
        {"TB", 1e12},
        {"Ki", 1024.0},
        {"KiB", 1024.0},
        {"Mi", 1048576.0},
        {"MiB", 1048576.0},
        {"Gi", 1073741824.0},
        {"GiB", 1073741824.0},
        {"Ti", 1099511627776.0},
        {"TiB", 1099511627776.0},
    };
    double v;
    const char *rest;
    if (parse_number(s, &v, &rest) < 0)
        return cs_error_set(err, 0, "`%s` is not a size (examples: 512Mi, 1.5GiB, 256M)",
                            s ? s : "");
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(rest, units[i].suffix) != 0)
            continue;
        double bytes = v * units[i].mult;
        /* Sizes are kept as int64 in reports (INT64_MIN is "absent"), so the
         * bound is 2^63 - 1, not 2^64: a larger value must not wrap into a
         * negative number that reads as "no limit". */
        if (!(bytes < 9223372036854775807.0))
            return cs_error_set(err, 0, "size `%s` is too large (at most 8 EiB)", s);
        *ret_bytes = (uint64_t)llround(bytes);
        return 0;
    }
    return cs_error_set(err, 0,
                        "`%s` has an unknown size unit `%s` (use B, K, M, G, T for powers of "
                        "1000 or Ki, Mi, Gi, Ti for powers of 1024)",
                        s, rest);
}

int prof_parse_duration(const char *s, uint64_t *ret_us, cs_error *err)
{
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {{"us", 1}, {"µs", 1}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"min", 60e6}};
    double v;
    const char *rest;
    if (parse_number(s, &v, &rest) < 0)
        return cs_error_set(err, 0, "`%s` is not a duration (examples: 500ms, 2s, 250us)",
                            s ? s : "");
    if (*rest == '\0') {
        if (v == 0) {
            *ret_us = 0;
            return 0;
        }
        return cs_error_set(err, 0, "duration `%s` needs a unit: us, ms, s or m (e.g. %ss)", s, s);
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(rest, units[i].suffix) == 0) {
            double us = v * units[i].mult;
            if (us > 1e15)
                return cs_error_set(err, 0, "duration `%s` is too long (at most 31 years)", s);
            *ret_us = (uint64_t)llround(us);
            return 0;
        }
    }
    return cs_error_set(err, 0, "`%s` has an unknown duration unit `%s` (use us, ms, s or m)", s,
                        rest);
}

int prof_parse_cpus(const char *s, double *ret, cs_error *err)
{
    double v;
    const char *rest;
    if (parse_number(s, &v, &rest) < 0 || *rest != '\0')
        return cs_error_set(err, 0, "`%s` is not a CPU count (examples: 0.5, 1, 2)", s ? s : "");
    if (v < 0.01 || v > 4096)
        return cs_error_set(err, 0, "CPU count `%s` is out of range (0.01 to 4096)", s);
    *ret = v;
    return 0;
}

int prof_parse_cpulist(const char *s, cpu_set_t *ret, cs_error *err)
{
    const char *p = s;
    if (ret)
        CPU_ZERO(ret);
    if (!s || !*s)
        return cs_error_set(err, 0, "empty CPU list (example: 0-1,3)");
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return cs_error_set(err, 0, "`%s` is not a CPU list (example: 0-1,3)", s);
        char *end;
        long a = strtol(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p))
                return cs_error_set(err, 0, "`%s` is not a CPU list (example: 0-1,3)", s);
            b = strtol(p, &end, 10);
            if (b < a)
                return cs_error_set(err, 0, "CPU range %ld-%ld in `%s` runs backwards", a, b, s);
            p = end;
        }
        if (b >= CPU_SETSIZE)
            return cs_error_set(err, 0, "CPU %ld in `%s` is beyond the %d CPUs Linux numbers", b, s,
                                CPU_SETSIZE);
        for (long k = a; ret && k <= b; k++)
            CPU_SET((int)k, ret);
        if (*p == ',' && p[1])
            p++;
        else if (*p)
            return cs_error_set(err, 0, "`%s` is not a CPU list (example: 0-1,3)", s);
    }
    return 0;
}

int prof_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret, cs_error *err)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return cs_error_set(err, 0, "`%s` is not a whole number", s ? s : "");
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return cs_error_set(err, 0, "`%s` is not a whole number", s);
    if (v < min || v > max)
        return cs_error_set(err, 0, "%s is out of range (%llu to %llu)", s, (unsigned long long)min,
                            (unsigned long long)max);
    *ret = v;
    return 0;
}

int prof_parse_id(const char *s, uint32_t *ret, cs_error *err)
{
    uint64_t v = 0;
    if (prof_parse_uint(s, 0, PROF_ID_MAX, &v, err) < 0)
        return -1;
    *ret = (uint32_t)v;
    return 0;
}

int prof_parse_signal(const char *s, int *ret, cs_error *err)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (*s && !*end) {
        if (errno == ERANGE)
            n = NSIG;
        if (n < 1 || n >= NSIG)
            return cs_error_set(err, 0, "signal numbers are 1-%d", NSIG - 1);
        *ret = (int)n;
        return 0;
    }
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (int sig = 1; sig < NSIG; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcasecmp(abbrev, name) == 0) {
            *ret = sig;
            return 0;
        }
    }
    return cs_error_set(err, 0, "not a signal (use a name such as TERM, INT, QUIT or a number)");
}
