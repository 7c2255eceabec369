/* The CDF 9/7 lifting steps of wavelet.py in the same IEEE operations in the same order (built with
 * -ffp-contract=off: no fused multiply-adds), so they give numpy's bits. The ends are handled apart
 * so the inner loops have no branches and vectorise. */
#include "kernels.h"

/* AVX2 and AVX-512 widen the lifting's vectors where the CPU has them (GCC's target_clones, chosen at load
 * time through glibc's ifunc; no fused multiply-adds in any clone, -ffp-contract=off, so the same bits). The
 * steps are inlined into each clone: an AVX2 loop calling SSE helpers was much slower in a trial. */
#if defined(__GNUC__)
#define LIFT_INLINE static inline __attribute__((always_inline))
#else
#define LIFT_INLINE static inline
#endif

#define ALPHA (-1.586134342059924)
#define BETA (-0.052980118572961)
#define GAMMA 0.882911075530934
#define DELTA 0.443506852043971
#define K 1.230174104914001

#define TWO52 4503599627370496.0 /* 2**52: from here on every double is an integer */

/* rint(v) without a branch, so that loops of it vectorise: below 2**52 in magnitude, adding and taking away
 * 2**52 rounds to the nearest integer, ties to even, as rint does in the default rounding mode (the sign put
 * back, -0.0 included); from 2**52 on (and for inf, nan) v is its own rint. */
static inline double rint_exact(double v) {
    double a = fabs(v);
    double r = copysign((a + TWO52) - TWO52, v);
    return a < TWO52 ? r : v;
}

/* floor(y) for y >= 0 (or nan) without a branch: the nearest integer, less 1 where it is above y. */
static inline double floor_nonnegative(double y) {
    double r = (y + TWO52) - TWO52;
    r = r > y ? r - 1.0 : r;
    return y < TWO52 ? r : y;
}

/* The lifting runs over a level in blocks of LIFT_BLOCK values, each step a few values behind the one before it
 * (what that value needs of its neighbours), so that a block passes through every step while it is in L1: each
 * value's operations are the same as in whole-level passes, in the same order, and give the same bits (the
 * level's passes one after another left L1 past a few thousand values: the forward took up to half as long
 * again, benchmarks/ab_wavelet.py). */
#define LIFT_BLOCK 256
#define LEVEL_END (INT64_MAX / 2) /* a block's end past any level's: the last block takes every step to the end */

/* The end of a block's span for a step `lag` values behind the block's end `t`: within [0, len]. */
static inline int64_t span_end(int64_t t, int64_t lag, int64_t len) {
    int64_t e = t - lag;
    return e < 0 ? 0 : e > len ? len : e;
}

/* d[i] += c * (s[i] + s[i + 1]) for i in [lo, hi), s mirrored past its end (len(s) is len(d) or len(d) + 1). */
LIFT_INLINE void predict_span(double *restrict d, int64_t nd, const double *restrict s, int64_t ns, double c,
                              int64_t lo, int64_t hi) {
    int64_t body = ns > nd ? nd : nd - 1, i = lo;
    for (int64_t e = hi < body ? hi : body; i < e; i++) d[i] = d[i] + c * (s[i] + s[i + 1]);
    for (; i < hi; i++) d[i] = d[i] + c * (s[i] + s[ns - 1]);
}

/* s[i] += c * (d[i - 1] + d[i]) for i in [lo, hi), d mirrored at both ends (len(d) is len(s) or len(s) - 1). */
LIFT_INLINE void update_span(double *restrict s, int64_t ns, const double *restrict d, int64_t nd, double c,
                             int64_t lo, int64_t hi) {
    int64_t body = nd < ns ? nd : ns, i = lo;
    if (i == 0 && hi > 0) {
        s[0] = s[0] + c * (d[0] + d[0]);
        i = 1;
    }
    for (int64_t e = hi < body ? hi : body; i < e; i++) s[i] = s[i] + c * (d[i - 1] + d[i]);
    for (; i < hi; i++) s[i] = s[i] + c * (d[i - 1] + d[nd - 1]);
}

/* The band lengths of an n-value signal over `levels` levels, coarsest first (wavelet.band_lengths). */
static void lengths(int64_t n, int levels, int64_t *out) {  /* out: levels + 1 values */
    for (int l = levels; l >= 1; l--) {
        out[l] = n / 2;
        n = (n + 1) / 2;
    }
    out[0] = n;
}

/* One level of wavelet.forward on work's m values: the detail band to d (m / 2 values), the approximation, scaled,
 * back to work's first (m + 1) / 2 values; s: that many scratch values. In blocks: the split to the block's end,
 * the first predict one value short of it (it reads the next approximation value), the first update as far (it
 * reads its own detail and the one before), the second predict one short again, the second update and the
 * approximation's scaling one short again (its values go to work's front, behind every value still to be split),
 * the details' scaling one short of that (the second update reads them unscaled). The split takes `off` from each
 * value (0.0 but at a prepared channel's first level: x - 0.0 is x, bit for bit, -0.0 included). */
LIFT_INLINE void forward_level(double *restrict work, int64_t m, double *restrict s, double *restrict d, double off) {
    int64_t ns = (m + 1) / 2, nd = m / 2;
    int64_t split = 0, alpha = 0, beta = 0, gamma = 0, delta = 0, scaled = 0;
    for (int64_t t = LIFT_BLOCK;; t += LIFT_BLOCK) {
        if (t >= ns) t = LEVEL_END;
        int64_t e = span_end(t, 0, nd);  /* split: where the approximation's split has reached, the details' too */
        for (int64_t i = split; i < e; i++) d[i] = work[2 * i + 1] - off;
        e = span_end(t, 0, ns);
        for (int64_t i = split; i < e; i++) s[i] = work[2 * i] - off;
        split = e;
        predict_span(d, nd, s, ns, ALPHA, alpha, e = span_end(t, 1, nd));
        alpha = e;
        update_span(s, ns, d, nd, BETA, beta, e = span_end(t, 1, ns));
        beta = e;
        predict_span(d, nd, s, ns, GAMMA, gamma, e = span_end(t, 2, nd));
        gamma = e;
        update_span(s, ns, d, nd, DELTA, delta, e = span_end(t, 3, ns));
        for (int64_t i = delta; i < e; i++) work[i] = s[i] * K;
        delta = e;
        e = span_end(t, 4, nd);
        for (int64_t i = scaled; i < e; i++) d[i] = d[i] / K;
        scaled = e;
        if (t == LEVEL_END) return;
    }
}

/* wavelet.forward of work's n values less `off` (work is overwritten) to the bands, concatenated coarsest first, in
 * `bands` (n values). Each level's input has at least 4 values (wavelet.levels_for). */
LIFT_INLINE void forward_levels(double *restrict work, int64_t n, int levels, double *restrict bands, double off) {
    int64_t m = n, end = n;
    if (levels == 0) {
        for (int64_t i = 0; i < n; i++) bands[i] = work[i] - off;
        return;
    }
    for (int l = levels; l >= 1; l--) {
        int64_t nd = m / 2;
        forward_level(work, m, bands, bands + end - nd, l == levels ? off : 0.0);  /* s at the front (scratch), d at
                                                                                     its place */
        end -= nd;
        m = (m + 1) / 2;
    }
    memcpy(bands, work, (size_t)m * sizeof(double));
}

/* wavelet.forward: x (n values, kept) to its bands, concatenated coarsest first, in `bands` (n values);
 * `work`: n scratch values. */
TARGET_CLONES EXPORT void san_cdf97_forward(const double *x, int64_t n, int levels, double *bands, double *work) {
    memcpy(work, x, (size_t)n * sizeof(double));
    forward_levels(work, n, levels, bands, 0.0);
}

/* lossyrate.Prepared's frame in one call: the residual r = f - prediction (f alone where not `predicted`), as numpy
 * makes it, the offset rint(mean of r) into *offset, and the bands of r - offset (san_cdf97_forward's, bit for bit:
 * the same subtraction, made in the first level's split instead of a pass of its own; `work`: n scratch values).
 * The mean is summed here in eight running sums, not numpy's pairwise order: both are within n 2^-53 of the mean
 * of |r| of the exact mean, so where the mean lies further than n 2^-47 times that from a half-integer the two
 * round it alike. Returns 0, or 1 (nothing written to bands) where it lies that near, is not finite or is past
 * 2^62 in magnitude: the caller takes numpy's route, whose mean decides. */
TARGET_CLONES EXPORT int san_prepared_forward(const int64_t *f, const double *prediction, int predicted, int64_t n,
                                             int levels, double *bands, double *work, int64_t *offset) {
    double sum[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, size[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    int64_t i = 0;
    if (predicted) {
        for (; i + 8 <= n; i += 8)
            for (int k = 0; k < 8; k++) {
                double r = (double)f[i + k] - prediction[i + k];
                work[i + k] = r, sum[k] += r, size[k] += fabs(r);
            }
        for (; i < n; i++) work[i] = (double)f[i] - prediction[i], sum[0] += work[i], size[0] += fabs(work[i]);
    } else {
        for (; i + 8 <= n; i += 8)
            for (int k = 0; k < 8; k++) {
                double r = (double)f[i + k];
                work[i + k] = r, sum[k] += r, size[k] += fabs(r);
            }
        for (; i < n; i++) work[i] = (double)f[i], sum[0] += work[i], size[0] += fabs(work[i]);
    }
    double total = 0.0, spread = 0.0;
    for (int k = 0; k < 8; k++) total += sum[k], spread += size[k];
    double mean = total / (double)n, near = (double)n * 0x1p-47 * (spread / (double)n);
    double rounded = rint(mean);
    if (!(n > 0 && fabs(mean) < 0x1p62 && fabs(fabs(mean - rounded) - 0.5) > near)) return 1;
    *offset = (int64_t)rounded;
    forward_levels(work, n, levels, bands, rounded);
    return 0;
}

/* s[i] = src[i] / K, then update_span(s, ns, d, nd, c, lo, hi): the two in one pass, each value's operations in
 * the same order. */
LIFT_INLINE void scaled_update_span(double *restrict s, const double *restrict src, int64_t ns,
                                    const double *restrict d, int64_t nd, double c, int64_t lo, int64_t hi) {
    int64_t body = nd < ns ? nd : ns, i = lo;
    if (i == 0 && hi > 0) {
        s[0] = src[0] / K + c * (d[0] + d[0]);
        i = 1;
    }
    for (int64_t e = hi < body ? hi : body; i < e; i++) s[i] = src[i] / K + c * (d[i - 1] + d[i]);
    for (; i < hi; i++) s[i] = src[i] / K + c * (d[i - 1] + d[nd - 1]);
}

/* How the last level's samples leave the lifting: as they are, or rint((v + offset) (+ prediction)); with
 * `ints`, those integers go there as int64 (the decoder's samples) instead of to the level's output, `slow` set
 * where one is not below 2^51 in magnitude (or not finite), which the fast conversion does not cover; with `acc`
 * (and `ref`), nothing goes out: each one's squared difference from ref is added to acc's eight running sums (a trial
 * step's error, where the caller has made sure that any order of summing gives the same bits). */
typedef struct {
    int last;
    double offset;
    const double *prediction;
    int64_t *ints;
    int slow;
    const double *ref;
    double *acc;
} finish;

static inline double finished(double v, const finish *f, int64_t i) {
    if (!f->last) return v;
    return f->prediction ? rint_exact((v + f->offset) + f->prediction[i]) : rint_exact(v + f->offset);
}

#define ERROR_RUN 256 /* samples' pairs a trial step's error finishes into its buffer at a time */
#define INT_MAGIC 6755399441055744.0 /* 2^52 + 2^51: x + this holds the integer x (|x| < 2^51) in its low bits */
#define INT_MAGIC_BITS 0x4338000000000000LL

/* The integer v (|v| < 2^51, else *slow set) as int64, without the scalar conversion instruction: the loop
 * vectorises. */
static inline int64_t as_int64(double v, int *slow) {
    *slow |= !(fabs(v) < 2251799813685248.0); /* 2^51; nan too */
    double t = v + INT_MAGIC;
    int64_t bits;
    memcpy(&bits, &t, sizeof bits);
    return bits - INT_MAGIC_BITS;
}

/* A finished value to its place: out[i] (a double), or, with ints, ints[i]; with acc, its squared difference from
 * ref[i] summed instead. */
static inline void put(double *out, finish *f, int64_t i, double v) {
    if (f->ints) {
        f->ints[i] = as_int64(v, &f->slow);
    } else if (f->acc) {
        double e = v - f->ref[i];
        f->acc[0] += e * e;
    } else {
        out[i] = v;
    }
}

/* predict_span(d, nd, s, ns, c, lo, hi), then those values interleaved into out (out[2i] = s[i], out[2i + 1] = d[i],
 * for i in [lo, hi) of [0, ns)) and, at the last level, finished (and put, as `f` says): in one pass, each value's
 * operations in the same order. */
LIFT_INLINE void predict_interleave_span(const double *restrict d, int64_t nd, const double *restrict s, int64_t ns,
                                         double c, double *restrict out, finish *f, int64_t lo, int64_t hi) {
    int64_t body = ns > nd ? nd : nd - 1;
    int64_t e = hi < body ? hi : body;
    /* the last level's loops, one per way of finishing (finished's, with the prediction's test taken out of the
     * loop): a test on every value kept them from vectorising, and they were half of a decode's lifting */
    const double offset = f->offset;
    const double *restrict p = f->prediction;
    if (f->last && f->ints) {
        int64_t *restrict ints = f->ints;
        int slow = 0;
        if (p) {
            for (int64_t i = lo; i < e; i++) {
                ints[2 * i] = as_int64(rint_exact((s[i] + offset) + p[2 * i]), &slow);
                ints[2 * i + 1] = as_int64(rint_exact(((d[i] + c * (s[i] + s[i + 1])) + offset) + p[2 * i + 1]), &slow);
            }
        } else {
            for (int64_t i = lo; i < e; i++) {
                ints[2 * i] = as_int64(rint_exact(s[i] + offset), &slow);
                ints[2 * i + 1] = as_int64(rint_exact((d[i] + c * (s[i] + s[i + 1])) + offset), &slow);
            }
        }
        f->slow |= slow;
    } else if (f->last && f->acc) {
        /* a trial step's error: a run of the samples at a time finished into a buffer that stays in L1 (the loops
         * of the branches below, which vectorise), then their squared differences from ref added to eight running
         * sums; none of the samples written out */
        const double *restrict r = f->ref;
        double a[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        double y[2 * ERROR_RUN];
        for (int64_t from = lo; from < e; from += ERROR_RUN) {
            const int64_t to = e - from < ERROR_RUN ? e : from + ERROR_RUN, m = 2 * (to - from);
            if (p) {
                for (int64_t i = from; i < to; i++) {
                    y[2 * (i - from)] = rint_exact((s[i] + offset) + p[2 * i]);
                    y[2 * (i - from) + 1] = rint_exact(((d[i] + c * (s[i] + s[i + 1])) + offset) + p[2 * i + 1]);
                }
            } else {
                for (int64_t i = from; i < to; i++) {
                    y[2 * (i - from)] = rint_exact(s[i] + offset);
                    y[2 * (i - from) + 1] = rint_exact((d[i] + c * (s[i] + s[i + 1])) + offset);
                }
            }
            const double *restrict q = r + 2 * from;
            int64_t j = 0;
            for (; j + 8 <= m; j += 8)
                for (int k = 0; k < 8; k++) {
                    const double v = y[j + k] - q[j + k];
                    a[k] += v * v;
                }
            for (; j < m; j++) a[0] += (y[j] - q[j]) * (y[j] - q[j]);
        }
        for (int k = 0; k < 8; k++) f->acc[k] += a[k];
    } else if (f->last && p) {
        for (int64_t i = lo; i < e; i++) {
            out[2 * i] = rint_exact((s[i] + offset) + p[2 * i]);
            out[2 * i + 1] = rint_exact(((d[i] + c * (s[i] + s[i + 1])) + offset) + p[2 * i + 1]);
        }
    } else if (f->last) {
        for (int64_t i = lo; i < e; i++) {
            out[2 * i] = rint_exact(s[i] + offset);
            out[2 * i + 1] = rint_exact((d[i] + c * (s[i] + s[i + 1])) + offset);
        }
    } else {
        for (int64_t i = lo; i < e; i++) {
            out[2 * i] = s[i];
            out[2 * i + 1] = d[i] + c * (s[i] + s[i + 1]);
        }
    }
    for (int64_t i = lo > body ? lo : body; i < hi && i < nd; i++) {
        put(out, f, 2 * i, finished(s[i], f, 2 * i));
        put(out, f, 2 * i + 1, finished(d[i] + c * (s[i] + s[ns - 1]), f, 2 * i + 1));
    }
    if (ns > nd && lo <= ns - 1 && ns - 1 < hi) put(out, f, 2 * (ns - 1), finished(s[ns - 1], f, 2 * (ns - 1)));
}

/* One level of wavelet.inverse: the approximation (ns values) and details (nd) in `bands` to the level's output,
 * interleaved into `bands` and finished as `f` says; `work`: ns + nd scratch values. Two sweeps in blocks
 * (LIFT_BLOCK): the details' scaling and the first update into `work`, over the whole level first (the output
 * would overwrite bands not yet read); then the predict and the update to the block's end (the predict reads the
 * approximation the update has not reached yet), the last predict with its interleaving one value short (it reads
 * the next updated approximation value). */
LIFT_INLINE void inverse_level(double *restrict bands, int64_t ns, int64_t nd, double *restrict work, finish *f) {
    double *restrict s = work, *restrict d = work + ns;
    int64_t scaled = 0, delta = 0;
    for (int64_t t = LIFT_BLOCK;; t += LIFT_BLOCK) {
        if (t >= ns) t = LEVEL_END;
        int64_t e = span_end(t, 0, nd);
        for (int64_t i = scaled; i < e; i++) d[i] = bands[ns + i] * K;
        scaled = e;
        scaled_update_span(s, bands, ns, d, nd, -DELTA, delta, e = span_end(t, 0, ns));
        delta = e;
        if (t == LEVEL_END) break;
    }
    int64_t gamma = 0, beta = 0, alpha = 0;
    for (int64_t t = LIFT_BLOCK;; t += LIFT_BLOCK) {
        if (t >= ns) t = LEVEL_END;
        int64_t e = span_end(t, 0, nd);
        predict_span(d, nd, s, ns, -GAMMA, gamma, e);
        gamma = e;
        update_span(s, ns, d, nd, -BETA, beta, e = span_end(t, 0, ns));
        beta = e;
        predict_interleave_span(d, nd, s, ns, -ALPHA, bands, f, alpha, e = span_end(t, 1, ns));
        alpha = e;
        if (t == LEVEL_END) return;
    }
}

/* wavelet.inverse of `bands` (n values, concatenated coarsest first) in place, the last level's values
 * finished as `f` says; `work`: n scratch values. Each level reads its bands and writes its output once. */
TARGET_CLONES static void inverse_levels(double *bands, int64_t n, int levels, double *work, finish *f) {
    int64_t len[13];
    lengths(n, levels, len);
    int64_t ns = len[0];
    finish plain = {0, 0.0, NULL, NULL, 0, NULL, NULL};
    if (levels == 0) {
        for (int64_t i = 0; i < n; i++) put(bands, f, i, finished(bands[i], f, i));
        return;
    }
    for (int l = 1; l <= levels; l++) {
        inverse_level(bands, ns, len[l], work, l == levels ? f : &plain);
        ns += len[l];
    }
}

/* wavelet.inverse: `bands` (n values, concatenated coarsest first) to the signal, in place; `work`:
 * n scratch values. */
EXPORT void san_cdf97_inverse(double *bands, int64_t n, int levels, double *work) {
    finish plain = {0, 0.0, NULL, NULL, 0, NULL, NULL};
    inverse_levels(bands, n, levels, work, &plain);
}

/* waveletframe.quantise of one value: sign(b) * floor(|b| / delta + rounding), as int64; INT64_MIN where that is past
 * int64 or nan, as waveletframe.quantise says (C leaves that conversion undefined: x86's instruction gives INT64_MIN,
 * but a build for AVX-512 CPUs alone, -march=x86-64-v4, converted such values otherwise). */
static inline int64_t dead_zone(double b, double delta, double rounding) {
    const double v = copysign(floor(fabs(b) / delta + rounding), b);
    return fabs(v) < 0x1p63 ? (int64_t)v : INT64_MIN;  /* (-2^63 is INT64_MIN either way) */
}

/* The cell index floor(|b| / delta + rounding) of a value, as a double: an integer, or nan. */
static inline double cell(double b, double delta, double rounding) {
    return floor_nonnegative(fabs(b) / delta + rounding);
}

#define TWO52_BITS 0x4330000000000000LL /* the bits of 2**52 */

/* A cell index m below 2**52 as int64, from the bits of m + 2**52 (exact there: its low 52 bits hold m) with no
 * float-to-int conversion, which SSE2 and AVX2 have no vector form of; 0 where m is not below 2**52. */
static inline int64_t small_cell(double m) {
    double s = (m < TWO52 ? m : 0.0) + TWO52;
    int64_t bits;
    memcpy(&bits, &s, sizeof bits);
    return bits - TWO52_BITS;
}

/* waveletframe.quantise on bands concatenated: dead_zone of each value in a loop that vectorises (the cell index
 * made branch-free and converted through its bits, the sign put back by a select); the values whose index
 * reaches 2**52 (or is nan), if any, then take dead_zone's own conversion. The same int64s. */
TARGET_CLONES EXPORT void san_dead_zone_quantise(const double *b, int64_t n, double delta, double rounding,
                                                  int64_t *q) {
    int64_t wide = 0;
    for (int64_t i = 0; i < n; i++) {
        double m = cell(b[i], delta, rounding);
        int64_t v = small_cell(m);
        q[i] = b[i] < 0.0 ? -v : v;
        wide |= !(m < TWO52);
    }
    if (wide)
        for (int64_t i = 0; i < n; i++)
            if (!(cell(b[i], delta, rounding) < TWO52)) q[i] = dead_zone(b[i], delta, rounding);
}

/* The bit length of each of n values' cell index (waveletframe.quantise's |q|) into out, in a loop that vectorises:
 * below 2**53 the index is an exact double whose frexp exponent is its bit length (0 for 0); returns whether an
 * index reached 2**53 (or is nan), whose length the caller takes from the quantised value instead. */
TARGET_CLONES static int64_t cell_lengths(const double *b, int64_t n, double delta, double rounding, int32_t *out) {
    int64_t wide = 0;
    for (int64_t i = 0; i < n; i++) {
        double m = cell(b[i], delta, rounding);
        uint64_t bits;
        memcpy(&bits, &m, sizeof bits);
        int32_t length = (int32_t)(bits >> 52) - 1022;
        out[i] = m == 0.0 ? 0 : length;
        wide |= !(m < 0x1p53);
    }
    return wide;
}

#define LENGTH_CHUNK 512 /* cell_lengths' values at a time: its lengths stay in L1 for the count that follows */

/* san_band_histograms of the bands b (nb runs of lengths[b] values) quantised at delta (san_dead_zone_quantise),
 * without the quantised values: the bit lengths of a chunk of cell indices (cell_lengths), then counted; an index
 * from 2**53 on (or nan) takes the quantised value's own route. Four histograms per band, summed at the end, so
 * that runs of one bit length do not wait on one counter. The same counts. */
EXPORT void san_quantised_histograms(const double *b, const int64_t *lengths, int64_t nb, double delta,
                                     double rounding, int64_t *hist) {
    int64_t part[4][66];
    int32_t chunk[LENGTH_CHUNK];
    for (int64_t k = 0; k < nb; k++) {
        memset(part, 0, sizeof part);
        for (int64_t lo = 0; lo < lengths[k]; lo += LENGTH_CHUNK) {
            int64_t n = lengths[k] - lo < LENGTH_CHUNK ? lengths[k] - lo : LENGTH_CHUNK;
            if (cell_lengths(b + lo, n, delta, rounding, chunk))
                for (int64_t i = 0; i < n; i++) {
                    if (cell(b[lo + i], delta, rounding) < 0x1p53) continue;
                    chunk[i] = frexp_exponent(dead_zone(b[lo + i], delta, rounding));
                }
            int64_t i = 0;
            for (; i + 4 <= n; i += 4) {
                part[0][chunk[i]]++;
                part[1][chunk[i + 1]]++;
                part[2][chunk[i + 2]]++;
                part[3][chunk[i + 3]]++;
            }
            for (; i < n; i++) part[0][chunk[i]]++;
        }
        for (int j = 0; j < 66; j++) hist[66 * k + j] = part[0][j] + part[1][j] + part[2][j] + part[3][j];
        b += lengths[k];
    }
}

/* rint(inverse(out) + offset (+ prediction where `predicted`)) in place, `levels` levels; `work`: n scratch
 * values (the caller's: a scratch allocated and freed here on every call costs page faults). */
static int synthesise(double *out, int64_t n, int levels, double offset, const double *prediction, int predicted,
                      double *work, int64_t *ints) {
    finish f = {1, offset, predicted ? prediction : NULL, ints, 0, NULL, NULL};
    inverse_levels(out, n, levels, work, &f);
    return f.slow;
}

/* waveletframe.reconstruct on bands concatenated (`levels` levels): rint(inverse(dequantised q) + offset
 * (+ prediction where `predicted`)), each step the IEEE operation numpy does, to `out` (`work`: n scratch
 * values). The dequantiser puts a nonzero q at (q + sign(q) * shift) * delta
 * (q * delta where shift is 0, bit for bit the same). */
static void dequantise(const int64_t *q, int64_t n, double delta, double shift, double *out) {
    if (shift == 0.0) {
        for (int64_t i = 0; i < n; i++) out[i] = (double)q[i] * delta;
    } else {
        for (int64_t i = 0; i < n; i++) {
            double sign = q[i] > 0 ? 1.0 : q[i] < 0 ? -1.0 : 0.0;
            out[i] = q[i] == 0 ? 0.0 : ((double)q[i] + sign * shift) * delta;
        }
    }
}

EXPORT void san_wavelet_synthesis(const int64_t *q, int64_t n, int levels, double delta, double shift, double offset,
                                  const double *prediction, int predicted, double *out, double *work) {
    dequantise(q, n, delta, shift, out);
    synthesise(out, n, levels, offset, prediction, predicted, work, NULL);
}

/* san_wavelet_synthesis with the decoder's int64 samples written to `ints` instead of doubles to `out` (which
 * the lifting still uses): 0, or 1 where a sample is not below 2^51 in magnitude or not finite, whose ints are
 * then not all set (the caller rebuilds the doubles with san_wavelet_synthesis and checks them). */
EXPORT int san_wavelet_samples(const int64_t *q, int64_t n, int levels, double delta, double shift, double offset,
                               const double *prediction, int predicted, double *out, double *work, int64_t *ints) {
    dequantise(q, n, delta, shift, out);
    return synthesise(out, n, levels, offset, prediction, predicted, work, ints);
}

/* Each value of b quantised and put back at its cell's centre, copysign(cell, b) * delta, into out, in a loop that
 * vectorises; returns whether any |q| reached 2**63 (or is nan), whose int64 conversion in dead_zone decides it:
 * then |out| is at least 2**62 delta (a product rounds monotonically), which this looks for. */
TARGET_CLONES static int64_t requantise(const double *b, int64_t n, double delta, double rounding, double *out) {
    double limit = 0x1p62 * delta;
    int64_t wide = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = copysign(cell(b[i], delta, rounding), b[i]) * delta;
        out[i] = v;
        wide |= !(fabs(v) < limit);
    }
    return wide;
}

/* san_dead_zone_quantise then san_wavelet_synthesis at the cell's centre (shift 0), without the
 * quantised array: the channel the decoder rebuilds from bands quantised at `delta`. */
/* The bands b quantised at delta and put back at their cells' centres, into out: requantise, or where it saw a |q|
 * past int64, every value redone through dead_zone. A negative b quantised to 0 gives -0.0 here where dead_zone's
 * int64 gives 0.0: the lifting treats them alike, and the offset added at the end (0.0 at least) makes any -0.0
 * left +0.0. */
static void requantised_bands(const double *b, int64_t n, double delta, double rounding, double *out) {
    if (requantise(b, n, delta, rounding, out))
        for (int64_t i = 0; i < n; i++) out[i] = (double)dead_zone(b[i], delta, rounding) * delta;
}

EXPORT void san_wavelet_requantised(const double *b, int64_t n, int levels, double delta, double rounding,
                                    double offset, const double *prediction, int predicted, double *out, double *work) {
    requantised_bands(b, n, delta, rounding, out);
    synthesise(out, n, levels, offset, prediction, predicted, work, NULL);
}

/* Whether every one of ref's n values is an integer (a pass with eight running flags, so that it vectorises). */
TARGET_CLONES static int integral_values(const double *ref, int64_t n) {
    int64_t fraction[8] = {0, 0, 0, 0, 0, 0, 0, 0}, i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) fraction[k] |= floor(ref[i + k]) != ref[i + k];
    for (; i < n; i++) fraction[0] |= floor(ref[i]) != ref[i];
    for (int k = 0; k < 8; k++)
        if (fraction[k]) return 0;
    return 1;
}

/* san_wavelet_requantised's channel and its squared error against ref, in one call: where every value of ref is an
 * integer, the rebuild's last level sums the squared differences of its rounded samples instead of writing them
 * (each difference and its square an integer; a total below 2^53 means every partial sum was one, exact, so any
 * order of summing, numpy's einsum's among them, gives these bits) and returns that total, with nothing written to
 * `out`. Elsewhere (a reference not of integers, a total of 2^53 or more, an infinite or nan value) it returns -1
 * with the channel rebuilt in `out`, for the caller to sum its own way. */
EXPORT double san_wavelet_requantised_error(const double *b, int64_t n, int levels, double delta, double rounding,
                                            double offset, const double *prediction, int predicted, double *out,
                                            double *work, const double *ref) {
    if (integral_values(ref, n)) {
        requantised_bands(b, n, delta, rounding, out);
        double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        finish f = {1, offset, predicted ? prediction : NULL, NULL, 0, ref, acc};
        inverse_levels(out, n, levels, work, &f);
        double sum = 0.0;
        for (int k = 0; k < 8; k++) sum += acc[k];
        if (sum < 0x1p53) return sum;
    }
    san_wavelet_requantised(b, n, levels, delta, rounding, offset, prediction, predicted, out, work);
    return -1.0;
}

/* san_wavelet_requantised_error in pieces, for two threads (lossyrate.Prepared.decoded_error): the same sum,
 * bit for bit. (1) san_requantised_range on each half of the values: the bands requantised into `out` and whether
 * ref's values there are all integers; (2) san_cdf97_inverse of the levels but the last on out's first
 * n - n / 2 values, on one thread; (3) san_last_level_error on each half of the last level's approximation
 * indices, each thread with its own `work` (n values): the squared differences of that range's rounded samples
 * from ref, in eight running sums. Every value takes the operations, in the order, the one-call route gives it
 * (each thread makes the few values past its range's ends that its own need, in its own scratch), and where the
 * total is below 2^53 every partial sum is an exact integer, so the halves' sums add to the one call's. */

/* (1): b's values [lo, hi) requantised into out's (requantised_bands, each value alone); returns 1 where ref's
 * values there are all integers (integral_values), else 0. */
EXPORT int san_requantised_range(const double *b, int64_t lo, int64_t hi, double delta, double rounding,
                                 double *out, const double *ref) {
    requantised_bands(b + lo, hi - lo, delta, rounding, out + lo);
    return integral_values(ref + lo, hi - lo);
}

/* min(t - lag, end), at least `from`: a block's span for a step `lag` values behind the block's end t. */
static inline int64_t ranged_end(int64_t t, int64_t lag, int64_t from, int64_t end) {
    int64_t e = t - lag;
    return e < from ? from : e > end ? end : e;
}

/* (3): the last level of the inverse on bands (its approximation's ns values, then its nd details) for the
 * approximation indices [lo, hi) (samples 2 lo to 2 hi, the lone last one too where hi is ns and ns > nd),
 * finished as san_wavelet_requantised_error finishes them (rint(v + offset (+ prediction))), their squared
 * differences from ref added to acc's eight sums. Each lifting step is taken over the span the next one reads
 * (the details scaled over [lo - 2, hi + 2), the first update over [lo - 1, hi + 2), the first predict over
 * [lo - 1, hi + 1), the second update over [lo, hi + 1), within the level), in `work`'s own places (s at its
 * front, d after ns values, as inverse_level keeps them), a block at a time as inverse_level goes. */
TARGET_CLONES EXPORT void san_last_level_error(const double *bands, int64_t ns, int64_t nd, int64_t lo, int64_t hi,
                                               double offset, const double *prediction, int predicted,
                                               const double *ref, double *work, double *acc) {
    double *restrict s = work, *restrict d = work + ns;
    finish f = {1, offset, predicted ? prediction : NULL, NULL, 0, ref, acc};
    int64_t d_lo = lo - 2 < 0 ? 0 : lo - 2, d_hi = hi + 2 > nd ? nd : hi + 2;
    int64_t u_lo = lo - 1 < 0 ? 0 : lo - 1, u_hi = hi + 2 > ns ? ns : hi + 2;
    int64_t p_lo = u_lo, p_hi = hi + 1 > nd ? nd : hi + 1;
    int64_t v_hi = hi + 1 > ns ? ns : hi + 1;
    if (d_lo > d_hi) d_lo = d_hi;  /* a range past the details' end (ns = nd + 1, the lone last sample) */
    if (p_lo > p_hi) p_lo = p_hi;
    int64_t scaled = d_lo, delta = u_lo;
    for (int64_t t = u_lo + LIFT_BLOCK;; t += LIFT_BLOCK) {
        if (t >= u_hi) t = LEVEL_END;
        int64_t e = ranged_end(t, 0, d_lo, d_hi);
        for (int64_t i = scaled; i < e; i++) d[i] = bands[ns + i] * K;
        scaled = e;
        scaled_update_span(s, bands, ns, d, nd, -DELTA, delta, e = ranged_end(t, 0, u_lo, u_hi));
        delta = e;
        if (t == LEVEL_END) break;
    }
    int64_t gamma = p_lo, beta = lo, alpha = lo;
    for (int64_t t = lo + LIFT_BLOCK;; t += LIFT_BLOCK) {
        if (t >= hi) t = LEVEL_END;
        int64_t e = ranged_end(t, -1, p_lo, p_hi);
        predict_span(d, nd, s, ns, -GAMMA, gamma, e);
        gamma = e;
        update_span(s, ns, d, nd, -BETA, beta, e = ranged_end(t, -1, lo, v_hi));
        beta = e;
        predict_interleave_span(d, nd, s, ns, -ALPHA, NULL, &f, alpha, e = ranged_end(t, 0, lo, hi));
        alpha = e;
        if (t == LEVEL_END) return;
    }
}
