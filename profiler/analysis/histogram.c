#include "profiler/analysis/histogram.h"

#include <math.h>
#include <string.h>

void cs_hist_init(struct cs_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

/* Values below 2 * SUB have a bucket each; above, a value with its highest
 * bit at position b (b >= SUB_BITS + 1) keeps its top SUB_BITS + 1 bits:
 * bucket (b - SUB_BITS) * SUB + the SUB_BITS bits below the top one. */
static unsigned bucket_of(uint64_t v)
{
    if (v < 2ull * CS_HIST_SUB)
        return (unsigned)v;
    unsigned b = 63u - (unsigned)__builtin_clzll(v);
    if (b >= CS_HIST_MAX_BITS)
        return CS_HIST_BUCKETS - 1;
    unsigned shift = b - CS_HIST_SUB_BITS;
    return (shift + 1) * CS_HIST_SUB + (unsigned)((v >> shift) & (CS_HIST_SUB - 1));
}

/* The smallest value of a bucket and its width. */
static void bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
    if (i < 2u * CS_HIST_SUB) {
        *lo = i;
        *width = 1;
        return;
    }
    unsigned shift = i / CS_HIST_SUB - 1;
    uint64_t top = CS_HIST_SUB | (i % CS_HIST_SUB);
    *lo = top << shift;
    *width = (uint64_t)1 << shift;
}

void cs_hist_record(struct cs_hist *h, uint64_t v)
{
    h->counts[bucket_of(v)]++;
    h->count++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void cs_hist_merge(struct cs_hist *dst, const struct cs_hist *src)
{
    for (unsigned i = 0; i < CS_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t cs_hist_percentile(const struct cs_hist *h, double pct)
{
    if (h->count == 0)
        return 0;
    if (pct >= 100)
        return h->max;
    uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < CS_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen < rank)
            continue;
        uint64_t lo, width;
        bucket_range(i, &lo, &width);
        uint64_t mid = lo + width / 2;
        if (mid < h->min)
            mid = h->min;
        if (mid > h->max)
            mid = h->max;
        return mid;
    }
    return h->max;
}
