#include "reports/folded.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reports/output.h"
#include "sandbox/base/fsutil.h"

/* A profile file larger than this is not one of ours: refused, not read. */
#define FOLDED_MAX_BYTES (256u << 20)

int rep_folded_add(struct rep_folded *f, const char *stack, uint64_t count)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        struct rep_folded_stack *v = realloc(f->v, cap * sizeof *v);
        if (!v) {
            f->failed = 1;
            return -1;
        }
        f->v = v;
        f->cap = cap;
    }
    char *s = strdup(stack);
    if (!s) {
        f->failed = 1;
        return -1;
    }
    f->v[f->n].stack = s;
    f->v[f->n].count = count;
    f->n++;
    f->total += count;
    return 0;
}

static int by_stack(const void *a, const void *b)
{
    return strcmp(((const struct rep_folded_stack *)a)->stack,
                  ((const struct rep_folded_stack *)b)->stack);
}

void rep_folded_compact(struct rep_folded *f)
{
    if (f->n < 2)
        return;
    qsort(f->v, f->n, sizeof *f->v, by_stack);
    size_t w = 0;
    for (size_t i = 1; i < f->n; i++) {
        if (strcmp(f->v[w].stack, f->v[i].stack) == 0) {
            f->v[w].count += f->v[i].count;
            free(f->v[i].stack);
        } else {
            f->v[++w] = f->v[i];
        }
    }
    f->n = w + 1;
}

void rep_folded_free(struct rep_folded *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].stack);
    free(f->v);
    *f = (struct rep_folded){0};
}

int rep_folded_write(struct rep_folded *f, const char *path, cs_error *err)
{
    rep_folded_compact(f);
    _cleanup_buf_ struct rep_buf b = {0};
    for (size_t i = 0; i < f->n; i++)
        rep_buf_printf(&b, "%s %" PRIu64 "\n", f->v[i].stack, f->v[i].count);
    if (b.failed || f->failed)
        return cs_error_set(err, ENOMEM, "profile %s", path);
    return rep_write_file(path, b.data ? b.data : "", b.len, err);
}

int rep_folded_read(const char *path, struct rep_folded *f, cs_error *err)
{
    char *text = NULL;
    size_t len = 0;
    if (fs_read_input(path, FOLDED_MAX_BYTES, "profile", &text, &len, err) < 0)
        return -1;
    int rc = rep_folded_parse(text, path, f, err);
    free(text);
    return rc;
}

int rep_folded_parse(char *text, const char *path, struct rep_folded *f, cs_error *err)
{
    *f = (struct rep_folded){0};
    unsigned line_no = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        if (!*line)
            continue;
        char *sp = strrchr(line, ' ');
        char *end = NULL;
        errno = 0;
        unsigned long long n = sp ? strtoull(sp + 1, &end, 10) : 0;
        if (!sp || sp == line || !isdigit((unsigned char)sp[1]) || *end || errno ||
            f->total + n < f->total) {
            rep_folded_free(f);
            cs_error_set(err, 0, "%s:%u: not a collapsed stack (`frame;frame COUNT`)", path,
                         line_no);
            return cs_error_mark_input(err);
        }
        *sp = '\0';
        rep_folded_add(f, line, n);
    }
    if (f->failed) {
        rep_folded_free(f);
        return cs_error_set(err, ENOMEM, "profile %s", path);
    }
    rep_folded_compact(f);
    return 0;
}

/* The first frame of s, and its length. */
static size_t first_frame_len(const char *s)
{
    const char *semi = strchr(s, ';');
    return semi ? (size_t)(semi - s) : strlen(s);
}

size_t rep_folded_phases(const struct rep_folded *f, const char **out, size_t *lens, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        size_t len = first_frame_len(f->v[i].stack);
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = lens[k] == len && strncmp(out[k], f->v[i].stack, len) == 0;
        if (!seen && n < max) {
            out[n] = f->v[i].stack;
            lens[n++] = len;
        }
    }
    return n;
}

static int self_by_name(const void *a, const void *b)
{
    const struct rep_folded_self *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int self_by_count(const void *a, const void *b)
{
    const struct rep_folded_self *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return self_by_name(a, b);
}

size_t rep_folded_top_self(const struct rep_folded *f, const char *phase, size_t plen,
                           struct rep_folded_self *out, size_t max, uint64_t *phase_total)
{
    *phase_total = 0;
    size_t n = 0;
    struct rep_folded_self *all = f->n ? calloc(f->n, sizeof *all) : NULL;
    if (!all)
        return 0;
    for (size_t i = 0; i < f->n; i++) {
        const char *s = f->v[i].stack;
        if (first_frame_len(s) != plen || strncmp(s, phase, plen) != 0)
            continue;
        *phase_total += f->v[i].count;
        const char *leaf = strrchr(s, ';');
        leaf = leaf ? leaf + 1 : s;
        all[n++] = (struct rep_folded_self){leaf, strlen(leaf), f->v[i].count};
    }
    qsort(all, n, sizeof *all, self_by_name);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        if (self_by_name(&all[w], &all[i]) == 0)
            all[w].count += all[i].count;
        else
            all[++w] = all[i];
    }
    size_t distinct = n ? w + 1 : 0;
    qsort(all, distinct, sizeof *all, self_by_count);
    size_t k = distinct < max ? distinct : max;
    memcpy(out, all, k * sizeof *out);
    free(all);
    return k;
}
