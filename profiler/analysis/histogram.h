/* A latency histogram with bounded memory and bounded relative error, as
 * HdrHistogram keeps one: values fall into buckets whose width grows with
 * the value (128 sub-buckets per power of two), so a recorded value and the
 * value a percentile reports differ by at most 1/256 of it (< 0.4%), from
 * 1 ns to ~18 minutes, in a fixed 36 KiB. Recording is a few instructions
 * and never allocates: the load generator records every response. */
#ifndef COLDSTART_HISTOGRAM_H
#define COLDSTART_HISTOGRAM_H

#include <stdint.h>

#define CS_HIST_SUB_BITS 7 /* 128 sub-buckets per power of two */
#define CS_HIST_SUB (1u << CS_HIST_SUB_BITS)
#define CS_HIST_MAX_BITS 40 /* values up to 2^40 (in ns: ~18 minutes) */
#define CS_HIST_BUCKETS ((CS_HIST_MAX_BITS - CS_HIST_SUB_BITS + 1) * CS_HIST_SUB)

struct cs_hist {
    uint64_t count;
    uint64_t min, max; /* exact */
    uint64_t counts[CS_HIST_BUCKETS];
};

void cs_hist_init(struct cs_hist *h);
/* Values above the range are counted in the last bucket (max stays exact). */
void cs_hist_record(struct cs_hist *h, uint64_t value);
/* Adds every count of src to dst. */
void cs_hist_merge(struct cs_hist *dst, const struct cs_hist *src);
/* The value at percentile pct (0..100): the middle of the bucket holding the
 * ceil(pct/100 * count)-th smallest value, clamped to [min, max]; 0 when
 * empty. p100 is max. */
uint64_t cs_hist_percentile(const struct cs_hist *h, double pct);

#endif
