/* The long adaptive stage of lossless residuals (format 1.8, see cascade.py): one or more filters of
 * 16-512 taps (a multiple of 16) in cascade, each predicting its input from its own last `order` values
 * with weights adapted sample by sample (the "NN filters" of Monkey's Audio). Integer arithmetic only,
 * in the widths Monkey's Audio uses, so the multiply-adds vectorise:
 *   h[t] = clamp(x[t], +-32767)  (int16),
 *   s[t] = sum_{k=1..order} w[k] * h[t-k]  modulo 2^32,  pred[t] = int32(s[t] + 2^(shift-1)) >> shift,
 *   out[t] = x[t] - pred[t],   w[k] += sign(out[t]) * d[t-k]  modulo 2^16 (int16 weights),
 * where d[t] = sign(x[t]) * (32 if |x| > 3a, 16 if |x| > floor(4a / 3), 8 if |x| > 0, else 0), a the
 * running mean a += (min(|x|, 2^31) - a) / 16 (C's division, toward zero) taken before x, and d is
 * halved (exactly: the values are 32, 16, 8 and their halves) when it is 1, 2 and 8 samples old. So
 * the weights move fast where the input is large against its recent level. Every product fits int32
 * and the sums wrap by definition: any summation order gives the same bits. */
#include "kernels.h"

#define CASCADE_MIN_ORDER 16
#define CASCADE_MAX_ORDER 512
#define CASCADE_SAT 32767
#define CASCADE_MEAN_CAP ((int64_t)1 << 31)

static inline int32_t sat15(int64_t v) { return (int32_t)(v > CASCADE_SAT ? CASCADE_SAT : (v < -CASCADE_SAT ? -CASCADE_SAT : v)); }

/* One stage, forward (inverse = 0: out = x - pred) or inverse (out = x from the coded values, refusing
 * values beyond +-limit: -1). h and d hold `order` zeros, then the pushed values. */
/* TARGET_CLONES: integer arithmetic, so the same results in either clone. */
TARGET_CLONES static int cascade_stage(const int64_t *in, int64_t n, int order, int shift, int inverse, int64_t limit, int64_t *out) {
    if (order < CASCADE_MIN_ORDER || order > CASCADE_MAX_ORDER || order % 16 || shift < 1 || shift > 24) return -2;
    int16_t *w = (int16_t *)calloc((size_t)(order + 2 * (n + order)), sizeof(int16_t));
    if (!w) return -2;
    int16_t *h = w + order, *d = h + n + order;
    const uint32_t half = (uint32_t)1 << (shift - 1);
    int64_t mean = 0;
    int status = 0;
    /* The dot product of sample t + 1 runs in the same pass as the update of sample t (one sweep over
     * the weights a sample); the sums are the same. */
    uint32_t acc = 0; /* the sum modulo 2^32: the same in any order, so the loops vectorise */
    for (int64_t t = 0; t < n; t++) {
        const int16_t *next = h + t + 1;
        int16_t *dt = d + t;
        const int64_t pred = (int64_t)(int32_t)(acc + half) >> shift;
        int64_t x, err;
        if (inverse) {
            if (in[t] > limit || in[t] < -limit) { status = -1; break; }
            x = in[t] + pred;
            if (x > limit || x < -limit) { status = -1; break; }
            err = in[t];
            out[t] = x;
        } else {
            x = in[t];
            err = x - pred;
            out[t] = err;
        }
        h[t + order] = (int16_t)sat15(x);
        acc = 0;
        if (err > 0) {
            for (int j = 0; j < order; j++) {
                w[j] = (int16_t)(uint16_t)((uint16_t)w[j] + (uint16_t)dt[j]);
                acc += (uint32_t)((int32_t)w[j] * next[j]);
            }
        } else if (err < 0) {
            for (int j = 0; j < order; j++) {
                w[j] = (int16_t)(uint16_t)((uint16_t)w[j] - (uint16_t)dt[j]);
                acc += (uint32_t)((int32_t)w[j] * next[j]);
            }
        } else {
            for (int j = 0; j < order; j++) acc += (uint32_t)((int32_t)w[j] * next[j]);
        }
        int64_t a = x < 0 ? -x : x;
        if (a > CASCADE_MEAN_CAP) a = CASCADE_MEAN_CAP;
        int16_t mag = a > 3 * mean ? 32 : (a > (4 * mean) / 3 ? 16 : (a > 0 ? 8 : 0));
        dt[order] = x < 0 ? (int16_t)-mag : mag;
        dt[order - 1] /= 2;
        dt[order - 2] /= 2;
        dt[order - 8] /= 2;
        mean += (a - mean) / 16; /* truncated toward zero: the mean settles at a level, not under it */
    }
    free(w);
    return status;
}

/* The stages' output for input x (the encoder), stage 0 first: 0, or -2 (bad stage, no memory). */
EXPORT int san_cascade_forward(const int64_t *x, int64_t n, const int32_t *orders, const int32_t *shifts, int stages,
                               int64_t *out) {
    if (stages < 1) return -2;
    const int64_t *src = x;
    for (int s = 0; s < stages; s++) {
        int status = cascade_stage(src, n, orders[s], shifts[s], 0, 0, out);
        if (status) return status;
        src = out; /* in place from the second stage on: a stage reads in[t] before it writes out[t] */
    }
    return 0;
}

/* x = the stages' input from their output o (the decoder), the last stage undone first: 0; -1 if a value
 * leaves +-limit (a hostile block); -2 bad stage or no memory. In place when x == o. */
EXPORT int san_cascade_inverse(const int64_t *o, int64_t n, const int32_t *orders, const int32_t *shifts, int stages,
                               int64_t limit, int64_t *x) {
    if (stages < 1) return -2;
    const int64_t *src = o;
    for (int s = stages - 1; s >= 0; s--) {
        int status = cascade_stage(src, n, orders[s], shifts[s], 1, limit, x);
        if (status) return status;
        src = x;
    }
    return 0;
}
