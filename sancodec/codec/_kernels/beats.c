/* The beat template's prediction (beats.py): acc = sum of g64 * t8 placed at each beat, in int64.
 * Integer sums: every order gives numpy's result. The reader's bounds (beats._exact) keep |acc| and
 * every partial sum within 2**53: each sample takes each tap from at most one beat. */
#include "kernels.h"

EXPORT void san_template_prediction(const int64_t *t8, int64_t m, int64_t anchor, const int64_t *positions,
                                    const int64_t *g64, int64_t count, int64_t length, int64_t *acc) {
    memset(acc, 0, (size_t)length * sizeof(int64_t));
    for (int64_t b = 0; b < count; b++) {
        int64_t start = positions[b] - anchor, g = g64[b];
        int64_t lo = start < 0 ? -start : 0;
        int64_t hi = length - start < m ? length - start : m;
        for (int64_t j = lo; j < hi; j++) acc[start + j] += g * t8[j];
    }
}

/* ---------------------------------------------------------------- beat finding (encoder side)
 * An exact selection, no arithmetic: the same positions as numpy's reference (sparse.peaks). */

typedef struct { double v; int64_t p; } peak_candidate;

/* Larger value first; on a tie the earlier position: the order greedy Peaks keeps them in. */
static int by_value_then_position(const void *a, const void *b) {
    const peak_candidate *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->p > y->p) - (x->p < y->p);
}

/* Greedy Peaks of s[0..n) with minimum distance d (sparse.peaks on one row): candidates are the strict
 * local maxima above 0 and the first sample of a plateau above 0 that falls after it (zeros outside);
 * taken largest first (earliest on a tie), each dropping the candidates within d of it. Writes the kept
 * positions in increasing order to out (room for n); returns their count, -1 when out of memory. */
EXPORT int64_t san_greedy_peaks(const double *s, int64_t n, int64_t d, int64_t *out) {
    int64_t count = 0, kept = 0;
    peak_candidate *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    int64_t *bucket = NULL;
    if (!c) return -1;
    for (int64_t i = 0; i < n; i++) {
        double prev = i ? s[i - 1] : 0.0;
        if (!(s[i] > 0.0) || !(s[i] > prev)) continue;
        int64_t j = i + 1;
        while (j < n && s[j] == s[i]) j++;  /* a plateau: what follows it decides */
        double next = j < n ? s[j] : 0.0;
        if (next < s[i]) { c[count].v = s[i]; c[count].p = i; count++; }
    }
    qsort(c, (size_t)count, sizeof *c, by_value_then_position);
    /* kept positions are more than d apart: a bucket of d + 1 samples holds at most one */
    int64_t width = d + 1, buckets = n / width + 1;
    bucket = malloc((size_t)buckets * sizeof *bucket);
    if (!bucket) { free(c); return -1; }
    for (int64_t b = 0; b < buckets; b++) bucket[b] = -1;
    for (int64_t k = 0; k < count; k++) {
        int64_t p = c[k].p, b = p / width, free_here = 1;
        for (int64_t q = b - 1; q <= b + 1 && free_here; q++)
            if (q >= 0 && q < buckets && bucket[q] >= 0 && llabs(bucket[q] - p) <= d) free_here = 0;
        if (free_here) { bucket[b] = p; kept++; }
    }
    int64_t m = 0;
    for (int64_t b = 0; b < buckets; b++) if (bucket[b] >= 0) out[m++] = bucket[b];
    free(c);
    free(bucket);
    return kept;
}
