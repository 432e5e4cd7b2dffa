#include "profiler/measure/seccomp_profile.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "sandbox/base/fsutil.h"
#include "reports/json_keys.h"

struct pparse {
    const char *where;
    const struct cs_sink *warn;
    cs_error *err;
    bool failed;
    char unknown[1024]; /* unknown syscall names, for one warning */
    size_t cap;         /* rules allocated */
};

static int pfail(struct pparse *pp, const char *field, const char *what)
{
    if (!pp->failed)
        cs_error_set(pp->err, 0, "%s: %s %s", pp->where, field, what);
    pp->failed = true;
    return -1;
}

static int parse_action(struct pparse *pp, const char *field, const char *s, enum sbx_action *act,
                        int *errno_ret)
{
    static const struct {
        const char *name;
        enum sbx_action act;
    } actions[] = {
        {"SCMP_ACT_ALLOW", SBX_ACT_ALLOW},
        {"SCMP_ACT_ERRNO", SBX_ACT_ERRNO},
        {"SCMP_ACT_KILL", SBX_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_THREAD", SBX_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_PROCESS", SBX_ACT_KILL_PROCESS},
        {"SCMP_ACT_TRAP", SBX_ACT_TRAP},
        {"SCMP_ACT_LOG", SBX_ACT_LOG},
    };
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(s, actions[i].name) == 0) {
            *act = actions[i].act;
            return 0;
        }
    if (strcmp(s, "SCMP_ACT_TRACE") == 0) {
        /* No tracer is attached: the kernel fails traced calls with ENOSYS. */
        *act = SBX_ACT_ERRNO;
        *errno_ret = ENOSYS;
        return 0;
    }
    if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
        return pfail(pp, field,
                     "is SCMP_ACT_NOTIFY, which coldstart cannot pass on (it listens itself)");
    char msg[160];
    snprintf(msg, sizeof msg, "has an unknown action \"%.60s\"", s);
    return pfail(pp, field, msg);
}

static int parse_op(struct pparse *pp, const char *field, const char *s, enum scmp_compare *op)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
               {"SCMP_CMP_LT", SCMP_CMP_LT},
               {"SCMP_CMP_LE", SCMP_CMP_LE},
               {"SCMP_CMP_EQ", SCMP_CMP_EQ},
               {"SCMP_CMP_GE", SCMP_CMP_GE},
               {"SCMP_CMP_GT", SCMP_CMP_GT},
               {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(s, ops[i].name) == 0) {
            *op = ops[i].op;
            return 0;
        }
    return pfail(pp, field, "has an unknown op (SCMP_CMP_EQ, NE, LT, LE, GE, GT, MASKED_EQ)");
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token; 0 when unknown. */
static uint32_t arch_token(const char *name)
{
    if (strncmp(name, "SCMP_ARCH_", 10) == 0)
        name += 10;
    char lower[32];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    return seccomp_arch_resolve_name(lower);
}

/* Docker names architectures "amd64", "arm64", ... in includes/excludes. */
static bool arch_matches_native(const char *name)
{
    uint32_t native = seccomp_arch_native();
    if (arch_token(name) == native)
        return true;
    return (!strcmp(name, "amd64") && native == SCMP_ARCH_X86_64) ||
           (!strcmp(name, "arm64") && native == SCMP_ARCH_AARCH64);
}

static bool kernel_at_least(const char *want)
{
    struct utsname u;
    if (uname(&u) < 0)
        return true;
    int a = 0, b = 0, x = 0, y = 0;
    sscanf(u.release, "%d.%d", &a, &b);
    sscanf(want, "%d.%d", &x, &y);
    return a > x || (a == x && b >= y);
}

static bool array_has(const cJSON *arr, bool (*match)(const char *))
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && match(e->valuestring)) return true;
    return false;
}

/* Whether a Docker entry applies to a default container on this machine. */
static bool entry_applies(const cJSON *entry)
{
    const cJSON *inc = cJSON_GetObjectItemCaseSensitive(entry, "includes");
    const cJSON *exc = cJSON_GetObjectItemCaseSensitive(entry, "excludes");
    if (cJSON_IsObject(inc)) {
        const cJSON *caps = cJSON_GetObjectItemCaseSensitive(inc, "caps");
        if (cJSON_IsArray(caps) && cJSON_GetArraySize(caps) > 0)
            return false;
        const cJSON *arches = cJSON_GetObjectItemCaseSensitive(inc, "arches");
        if (cJSON_IsArray(arches) && !array_has(arches, arch_matches_native))
            return false;
        const cJSON *mk = cJSON_GetObjectItemCaseSensitive(inc, "minKernel");
        if (cJSON_IsString(mk) && !kernel_at_least(mk->valuestring))
            return false;
    }
    if (cJSON_IsObject(exc)) {
        const cJSON *arches = cJSON_GetObjectItemCaseSensitive(exc, "arches");
        if (cJSON_IsArray(arches) && array_has(arches, arch_matches_native))
            return false;
    }
    return true;
}

static bool same_rule(const struct sbx_seccomp_rule *a, const struct sbx_seccomp_rule *b)
{
    if (a->nr != b->nr || a->action != b->action || a->errno_ret != b->errno_ret ||
        a->n_args != b->n_args)
        return false;
    for (unsigned i = 0; i < a->n_args; i++)
        if (a->args[i].index != b->args[i].index || a->args[i].op != b->args[i].op ||
            a->args[i].value != b->args[i].value || a->args[i].value_two != b->args[i].value_two)
            return false;
    return true;
}

/* Adds a rule unless the same one is there: a profile that names a call many
 * times (a generated one) must not cost a filter rule, and libseccomp time,
 * per mention. The array grows geometrically. */
static int add_rule(struct pparse *pp, struct sbx_seccomp_profile *p,
                    const struct sbx_seccomp_rule *r)
{
    for (size_t i = p->n_rules; i-- > 0;)
        if (same_rule(&p->rules[i], r))
            return 0;
    if (p->n_rules == pp->cap) {
        size_t cap = pp->cap ? pp->cap * 2 : 64;
        struct sbx_seccomp_rule *n = realloc(p->rules, cap * sizeof *n);
        if (!n)
            return -1;
        p->rules = n;
        pp->cap = cap;
    }
    p->rules[p->n_rules++] = *r;
    return 0;
}

static bool fits_u64(double v)
{
    return v >= 0 && v < 18446744073709551616.0;
}

static void parse_args(struct pparse *pp, const cJSON *args, const char *field,
                       struct sbx_seccomp_rule *r)
{
    if (!args || cJSON_IsNull(args))
        return;
    if (!cJSON_IsArray(args)) {
        pfail(pp, field, "must be an array");
        return;
    }
    const cJSON *a;
    unsigned k = 0;
    cJSON_ArrayForEach(a, args)
    {
        char f[192];
        if (snprintf(f, sizeof f, "%s[%u]", field, k) >= (int)sizeof f)
            f[sizeof f - 1] = '\0'; /* a location in a message; cut is fine */
        if (k == 6) {
            pfail(pp, f, "is one argument condition too many (at most 6)");
            return;
        }
        const cJSON *index = cJSON_GetObjectItemCaseSensitive(a, "index");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(a, "value");
        const cJSON *two = cJSON_GetObjectItemCaseSensitive(a, "valueTwo");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(a, "op");
        /* Written as !(in range) so NaN and infinities are refused too. */
        if (!cJSON_IsNumber(index) || !(index->valuedouble >= 0 && index->valuedouble <= 5)) {
            pfail(pp, f, "needs \"index\" from 0 to 5");
            return;
        }
        if (!cJSON_IsNumber(value) || !fits_u64(value->valuedouble)) {
            pfail(pp, f, "needs a \"value\" from 0 to 2^64-1");
            return;
        }
        if (two && (!cJSON_IsNumber(two) || !fits_u64(two->valuedouble))) {
            pfail(pp, f, "has a \"valueTwo\" that is not a number from 0 to 2^64-1");
            return;
        }
        if (!cJSON_IsString(op)) {
            pfail(pp, f, "needs a string \"op\"");
            return;
        }
        struct sbx_seccomp_arg *arg = &r->args[k];
        arg->index = (unsigned)index->valuedouble;
        arg->value = (uint64_t)value->valuedouble;
        arg->value_two = two ? (uint64_t)two->valuedouble : 0;
        if (parse_op(pp, f, op->valuestring, &arg->op) < 0)
            return;
        k++;
    }
    r->n_args = k;
}

static void parse_syscall(struct pparse *pp, const cJSON *e, size_t idx,
                          struct sbx_seccomp_profile *p)
{
    char field[96];
    snprintf(field, sizeof field, "syscalls[%zu]", idx);
    if (!cJSON_IsObject(e)) {
        pfail(pp, field, "must be an object");
        return;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, e)
    {
        static const char *const known[] = {"names",   "name",     "action",   "errnoRet", "args",
                                            "comment", "includes", "excludes", NULL};
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(k->string, known[i]) == 0;
        if (!ok)
            cs_emit(pp->warn, "%s: %s.%s is not a known key; ignored", pp->where, field, k->string);
    }
    struct sbx_seccomp_rule r = {0};
    char f[160];
    snprintf(f, sizeof f, "%s.action", field);
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(e, "action");
    if (!cJSON_IsString(action)) {
        pfail(pp, f, "is missing or not a string");
        return;
    }
    r.errno_ret = EPERM;
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(e, "errnoRet");
    if (er && (!cJSON_IsNumber(er) || !(er->valuedouble >= 1 && er->valuedouble <= 4095))) {
        snprintf(f, sizeof f, "%s.errnoRet", field);
        pfail(pp, f, "must be an errno number from 1 to 4095");
        return;
    }
    if (er)
        r.errno_ret = (int)er->valuedouble;
    if (parse_action(pp, f, action->valuestring, &r.action, &r.errno_ret) < 0)
        return;
    snprintf(f, sizeof f, "%s.args", field);
    parse_args(pp, cJSON_GetObjectItemCaseSensitive(e, "args"), f, &r);
    if (pp->failed || !entry_applies(e))
        return;
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(e, "names");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
    if (!names && cJSON_IsString(name)) { /* the older Docker form */
        names = NULL;
        int nr = seccomp_syscall_resolve_name(name->valuestring);
        if (nr >= 0) {
            r.nr = nr;
            add_rule(pp, p, &r);
        }
        return;
    }
    snprintf(f, sizeof f, "%s.names", field);
    if (!cJSON_IsArray(names)) {
        pfail(pp, f, "is missing or not an array of strings");
        return;
    }
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_IsString(n)) {
            pfail(pp, f, "holds a value that is not a string");
            return;
        }
        int nr = seccomp_syscall_resolve_name(n->valuestring);
        if (nr == __NR_SCMP_ERROR || nr < 0) {
            size_t len = strlen(pp->unknown);
            if (len + strlen(n->valuestring) + 3 < sizeof pp->unknown)
                snprintf(pp->unknown + len, sizeof pp->unknown - len, "%s%s", len ? ", " : "",
                         n->valuestring);
            continue;
        }
        r.nr = nr;
        if (add_rule(pp, p, &r) < 0) {
            pfail(pp, f, "is too large");
            return;
        }
    }
}

int prof_seccomp_profile_parse(const char *text, const char *where, struct sbx_seccomp_profile *p,
                               const struct cs_sink *warn, cs_error *err)
{
    memset(p, 0, sizeof *p);
    struct pparse pp = {.where = where, .warn = warn, .err = err};
    cJSON *o = cJSON_Parse(text);
    if (!o)
        return cs_error_set(err, 0, "%s: not valid JSON", where);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return cs_error_set(err, 0, "%s: a seccomp profile must be a JSON object", where);
    }
    char dup[256];
    if (rep_json_duplicate_key(o, dup, sizeof dup)) {
        cJSON_Delete(o);
        return cs_error_set(err, 0, "%s: the key `%s` appears twice in one object", where, dup);
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, o)
    {
        static const char *const known[] = {"defaultAction", "defaultErrnoRet",  "architectures",
                                            "archMap",       "syscalls",         "flags",
                                            "listenerPath",  "listenerMetadata", NULL};
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(k->string, known[i]) == 0;
        if (!ok)
            cs_emit(warn, "%s: \"%s\" is not a known key; ignored", where, k->string);
    }
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(o, "defaultAction");
    p->default_errno = EPERM;
    const cJSON *der = cJSON_GetObjectItemCaseSensitive(o, "defaultErrnoRet");
    if (der && (!cJSON_IsNumber(der) || !(der->valuedouble >= 1 && der->valuedouble <= 4095)))
        pfail(&pp, "defaultErrnoRet", "must be an errno number from 1 to 4095");
    else if (der)
        p->default_errno = (int)der->valuedouble;
    if (!cJSON_IsString(def))
        pfail(&pp, "defaultAction", "is missing or not a string");
    else
        parse_action(&pp, "defaultAction", def->valuestring, &p->default_action, &p->default_errno);
    const cJSON *arches = cJSON_GetObjectItemCaseSensitive(o, "architectures");
    const cJSON *e;
    if (!pp.failed && arches && !cJSON_IsArray(arches))
        pfail(&pp, "architectures", "must be an array of strings");
    cJSON_ArrayForEach(e, arches)
    {
        if (pp.failed)
            break;
        if (!cJSON_IsString(e)) {
            pfail(&pp, "architectures", "holds a value that is not a string");
            break;
        }
        uint32_t a = arch_token(e->valuestring);
        if (!a) {
            if (warn)
                cs_emit(warn, "%s: unknown architecture %s; ignored", where, e->valuestring);
            continue;
        }
        if (a != seccomp_arch_native() && p->n_arches < 16)
            p->arches[p->n_arches++] = a;
    }
    /* Docker's archMap: the native architecture's sub-architectures. */
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "archMap"))
    {
        const cJSON *arch = cJSON_GetObjectItemCaseSensitive(e, "architecture");
        if (!cJSON_IsString(arch) || arch_token(arch->valuestring) != seccomp_arch_native())
            continue;
        const cJSON *sub;
        cJSON_ArrayForEach(sub, cJSON_GetObjectItemCaseSensitive(e, "subArchitectures"))
        {
            uint32_t a = cJSON_IsString(sub) ? arch_token(sub->valuestring) : 0;
            if (a && p->n_arches < 16)
                p->arches[p->n_arches++] = a;
        }
    }
    const cJSON *syscalls = cJSON_GetObjectItemCaseSensitive(o, "syscalls");
    if (!pp.failed && syscalls && !cJSON_IsArray(syscalls))
        pfail(&pp, "syscalls", "must be an array");
    size_t idx = 0;
    cJSON_ArrayForEach(e, syscalls)
    {
        if (pp.failed)
            break;
        parse_syscall(&pp, e, idx++, p);
    }
    cJSON_Delete(o);
    if (pp.failed) {
        prof_seccomp_profile_free(p);
        return -1;
    }
    if (pp.unknown[0])
        cs_emit(warn, "%s: syscalls unknown on this architecture, skipped: %s", where, pp.unknown);
    return 0;
}

int prof_seccomp_profile_load(const char *path, struct sbx_seccomp_profile *ret,
                              const struct cs_sink *warn, cs_error *err)
{
    char *text;
    if (fs_read_input(path, (size_t)16 << 20, "seccomp profile", &text, NULL, err) < 0)
        return cs_error_prefix(err, "--seccomp");
    int rc = prof_seccomp_profile_parse(text, path, ret, warn, err);
    free(text);
    return rc;
}

void prof_seccomp_profile_free(struct sbx_seccomp_profile *p)
{
    free(p->rules);
    memset(p, 0, sizeof *p);
}
