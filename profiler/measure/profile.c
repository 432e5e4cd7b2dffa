#include "profiler/measure/profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiler/measure/perf_sampler.h"

int prof_profile_check(const char *dir, cs_error *err)
{
    struct perf_sampler p;
    if (perf_sampler_open(&p, 0, PROF_PROFILE_HZ_DEFAULT, err) < 0)
        return -1;
    perf_sampler_close(&p);
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return cs_error_set(err, 0, "--profile-dir %s: not a folder", dir);
        if (access(dir, W_OK) != 0)
            return cs_error_set(err, errno, "--profile-dir %s: cannot write there", dir);
        return 0;
    }
    /* Made when the profile is written: its parent must be there. */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, ".");
    if (access(parent, W_OK) != 0)
        return cs_error_set(err, errno, "--profile-dir %s: cannot create it in %s", dir, parent);
    return 0;
}

int prof_profile_env(const char *existing_node_options, char **out)
{
    /* V8 names what it compiles in /tmp/perf-PID.map; without the second
     * flag code still run by the interpreter is one builtin for all of it. */
    const char *flags = "--perf-basic-prof --interpreted-frames-native-stack";
    if (asprintf(out, "NODE_OPTIONS=%s%s%s", existing_node_options ? existing_node_options : "",
                 existing_node_options && *existing_node_options ? " " : "", flags) < 0)
        return -1;
    return 0;
}

int prof_profile_write(struct prof_profile_acc *a, unsigned hz, bool maps, const char *dir,
                       struct rep_target *t, cs_error *err)
{
    if (!a->runs)
        return 0;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return cs_error_set(err, errno, "--profile-dir %s", dir);
    /* A target's name may hold '/' or spaces (an image path, oci:...). */
    char name[256];
    snprintf(name, sizeof name, "%s", t->name);
    for (char *c = name; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
            *c = '_';
    char *path = NULL;
    if (asprintf(&path, "%s%s%s.folded", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0)
        return cs_error_set(err, ENOMEM, "profile");
    if (rep_folded_write(&a->folded, path, err) < 0) {
        free(path);
        return -1;
    }
    rep_profile_free(t->profile);
    t->profile = calloc(1, sizeof *t->profile);
    if (!t->profile) {
        free(path);
        return cs_error_set(err, ENOMEM, "profile");
    }
    *t->profile = (struct rep_profile){.hz = hz,
                                       .samples = (int64_t)a->samples,
                                       .lost = (int64_t)a->lost,
                                       .runs = a->runs,
                                       .maps_from_exec = maps,
                                       .folded_file = path};
    /* The renderers draw from the stacks themselves: handed on, not reread. */
    t->profile->stacks = malloc(sizeof *t->profile->stacks);
    if (!t->profile->stacks)
        return cs_error_set(err, ENOMEM, "profile");
    *t->profile->stacks = a->folded;
    a->folded = (struct rep_folded){0};
    return 0;
}
