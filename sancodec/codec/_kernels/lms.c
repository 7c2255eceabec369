/* The sign-sign LMS stage of lossless residuals (see residual.py): an adaptive predictor of a residual
 * from its own last `order` values. Integer arithmetic only, so the bitstream is the same everywhere:
 *   h[t] = clip(x[t]) to +-(2^31 - 1),
 *   pred[t] = (sum_{k=1..order} w[k] * h[t-k] + 2^(LMS_SHIFT-1)) >> LMS_SHIFT   (h before 0 is 0),
 *   out[t] = x[t] - pred[t],   then w[k] += sign(out[t]) * sign(h[t-k]).
 * A weight moves by at most 1 per sample and a channel-frame holds at most 2^24 samples, so
 * |w| <= 2^24 and |sum| <= 32 * 2^24 * 2^31 = 2^60: nothing wraps. The history is kept oldest
 * first in int32 beside its signs (weights reversed to match); order 8, what the encoder writes, runs
 * with everything in registers (lms8), order 16 as a constant, so it unrolls. */
#include "kernels.h"

#define LMS_SHIFT 10
#define LMS_MAX_ORDER 32
#define LMS_CLIP 2147483647

static inline int32_t clip31(int64_t v) { return (int32_t)(v > LMS_CLIP ? LMS_CLIP : (v < -LMS_CLIP ? -LMS_CLIP : v)); }

/* One sample: the prediction from h[0..order-1] (oldest first); then, given the error, the update. */
static inline int64_t lms_predict(const int32_t *w, const int32_t *h, const int order) {
    int64_t acc = 0;
    for (int j = 0; j < order; j++) acc += (int64_t)w[j] * h[j];
    return (acc + (1 << (LMS_SHIFT - 1))) >> LMS_SHIFT;
}

/* One sample given its prediction: the encoder's output err = x - pred (inverse = 0), or the decoder's
 * x = err + pred from the coded err, refusing values beyond +-limit (-1). */
static inline int lms_apply(int64_t in, int64_t pred, int inverse, int64_t limit, int64_t *x, int64_t *err,
                            int64_t *out) {
    if (inverse) {
        if (in > limit || in < -limit) return -1;
        *x = in + pred;
        if (*x > limit || *x < -limit) return -1;
        *err = in;
        *out = *x;
    } else {
        *x = in;
        *err = in - pred;
        *out = *err;
    }
    return 0;
}

static inline void lms_adapt(int32_t *w, const int32_t *sg, int64_t err, const int order) {
    int32_t d = (err > 0) - (err < 0);
    for (int j = 0; j < order; j++) w[j] += d * sg[j];
}

/* Forward (inverse = 0) or inverse pass; h and sg hold order zeros, then the n values pushed. */
static inline int lms_run(const int64_t *in, int64_t n, const int order, int inverse, int64_t limit,
                          int64_t *out, int32_t *h, int32_t *sg) {
    int32_t w[LMS_MAX_ORDER] = {0};
    for (int64_t t = 0; t < n; t++) {
        int64_t x, err;
        if (lms_apply(in[t], lms_predict(w, h + t, order), inverse, limit, &x, &err, out + t)) return -1;
        lms_adapt(w, sg + t, err, order);
        h[t + order] = clip31(x);
        sg[t + order] = (x > 0) - (x < 0);
    }
    return 0;
}

/* Order 8 with the weights and the last 8 history values in registers (the hot case: what the
 * encoder writes): the same integers as lms_run. */
static int lms8(const int64_t *in, int64_t n, int inverse, int64_t limit, int64_t *out) {
    int64_t w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0; /* w_j multiplies h[t-8+j] */
    int64_t h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0; /* h7 is the newest */
    int64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0; /* their signs */
    for (int64_t t = 0; t < n; t++) {
        int64_t acc = w0 * h0 + w1 * h1 + w2 * h2 + w3 * h3 + w4 * h4 + w5 * h5 + w6 * h6 + w7 * h7;
        int64_t x, err;
        if (lms_apply(in[t], (acc + (1 << (LMS_SHIFT - 1))) >> LMS_SHIFT, inverse, limit, &x, &err, out + t)) return -1;
        int64_t d = (err > 0) - (err < 0);
        w0 += d * s0; w1 += d * s1; w2 += d * s2; w3 += d * s3;
        w4 += d * s4; w5 += d * s5; w6 += d * s6; w7 += d * s7;
        h0 = h1; h1 = h2; h2 = h3; h3 = h4; h4 = h5; h5 = h6; h6 = h7; h7 = clip31(x);
        s0 = s1; s1 = s2; s2 = s3; s3 = s4; s4 = s5; s5 = s6; s6 = s7; s7 = (x > 0) - (x < 0);
    }
    return 0;
}

static int lms(const int64_t *in, int64_t n, int order, int inverse, int64_t limit, int64_t *out) {
    if (order < 1 || order > LMS_MAX_ORDER) return -1;
    if (order == 8) return inverse ? lms8(in, n, 1, limit, out) : lms8(in, n, 0, limit, out);
    int32_t *h = (int32_t *)calloc((size_t)(2 * (n + order)), sizeof(int32_t));
    if (!h) return -1;
    int32_t *sg = h + n + order;
    int status;
    /* a constant order and direction: unrolled loops without a branch on the direction */
    if (order == 16 && inverse) status = lms_run(in, n, 16, 1, limit, out, h, sg);
    else if (order == 16) status = lms_run(in, n, 16, 0, limit, out, h, sg);
    else status = lms_run(in, n, order, inverse, limit, out, h, sg);
    free(h);
    return status;
}

/* out = the stage's output for input x (the encoder): 0, or -1 (bad order, no memory). */
EXPORT int san_lms_forward(const int64_t *x, int64_t n, int order, int64_t *out) {
    return lms(x, n, order, 0, 0, out);
}

/* x = the stage's input from its output o (the decoder): 0, or -1 if an output or a restored value
 * leaves +-limit (a hostile block), or bad order / no memory. */
EXPORT int san_lms_inverse(const int64_t *o, int64_t n, int order, int64_t limit, int64_t *x) {
    return lms(o, n, order, 1, limit, x);
}

/* Long-term prediction (see longterm.py), the decoder's side: x = o2, then for each beat k with a
 * gain, in order, x[a + i] += (g_k * x[ref + i] + 4) >> 3 over the window. Returns 0; -1 if a value
 * leaves +-limit (a hostile block); -2 if a window leaves the block, its reference does not end
 * before it starts, or it overlaps the previous predicted beat's window (a hostile side block). */
EXPORT int san_ltp_inverse(const int64_t *o2, int64_t n, const int64_t *pos, const int64_t *shift, const int64_t *gain,
                           int64_t count, int64_t before, int64_t after, int64_t limit, int64_t *x) {
    for (int64_t t = 0; t < n; t++) {
        if (o2[t] > limit || o2[t] < -limit) return -1;
        x[t] = o2[t];
    }
    int64_t width = before + after, done = 0;
    for (int64_t k = 1; k < count; k++) {
        if (!gain[k]) continue;
        int64_t a = pos[k] - before, ref = pos[k - 1] - before + shift[k];
        if (a < done || a + width > n || ref < 0 || ref + width > a) return -2;
        for (int64_t i = 0; i < width; i++) {
            int64_t v = x[a + i] + ((gain[k] * x[ref + i] + 4) >> 3);
            if (v > limit || v < -limit) return -1;
            x[a + i] = v;
        }
        done = a + width;
    }
    return 0;
}

/* numpy's pairwise summation of a[0..n) (the add.reduce of a contiguous run: a 1-D array's .sum(), a C-contiguous
 * 2-D array's .sum(1) row by row), its additions in its order, so the same bits: under 8 terms in turn, up to 128 in
 * eight running sums joined in pairs (the rest added after), more split in two at a multiple of 8 and each half
 * summed so. Its reduction starts from add's identity, 0: added too (a sum of -0.0 is then 0.0, as numpy's). */
static double pairwise_block(const double *a, int64_t n) {
    if (n < 8) {
        double res = 0.0;
        for (int64_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        int64_t i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_block(a, n2) + pairwise_block(a + n2, n - n2);
}

static double pairwise_sum(const double *a, int64_t n) { return 0.0 + pairwise_block(a, n); }

/* Long-term prediction, the encoder's fit (longterm._fit after its test of the windows, in numpy's order of
 * operations, the same bits): for each of `count` beats, the window target = o[cur - before ..) of `width` samples
 * and, for each shift s of shifts[0..ns) in turn, its reference r = o[prev - before + s ..) (as float64), the gain
 * g = clip(rint(8 * Σ t·r / max(Σ r·r, 1)), 0, max_gain) and the error Σ (t - g·r / 8)², each sum pairwise over
 * the window (numpy's .sum(1)); out_shift, out_gain: the first shift of least error and its gain (left as they are
 * where no error is below +inf). work: room for 3 * width doubles. */
EXPORT void san_ltp_fit(const int64_t *o, const int64_t *cur, const int64_t *prev, int64_t count, int64_t before,
                        int64_t width, const int64_t *shifts, int64_t ns, double max_gain, double *work,
                        int64_t *out_shift, int64_t *out_gain) {
    double *t = work, *r = work + width, *terms = work + 2 * width;
    for (int64_t k = 0; k < count; k++) {
        const int64_t *target = o + cur[k] - before;
        for (int64_t j = 0; j < width; j++) t[j] = (double)target[j];
        double best = INFINITY;
        for (int64_t m = 0; m < ns; m++) {
            const int64_t *ref = o + prev[k] - before + shifts[m];
            for (int64_t j = 0; j < width; j++) r[j] = (double)ref[j];
            for (int64_t j = 0; j < width; j++) terms[j] = t[j] * r[j];
            const double cross = pairwise_sum(terms, width);
            for (int64_t j = 0; j < width; j++) terms[j] = r[j] * r[j];
            const double energy = pairwise_sum(terms, width);
            double g = rint(8.0 * cross / (energy > 1.0 ? energy : 1.0)); /* np.maximum: the larger; never NaN here */
            g = g < 0.0 ? 0.0 : (g > max_gain ? max_gain : g);
            for (int64_t j = 0; j < width; j++) {
                const double e = t[j] - g * r[j] / 8.0;
                terms[j] = e * e;
            }
            const double err = pairwise_sum(terms, width);
            if (err < best) best = err, out_shift[k] = shifts[m], out_gain[k] = (int64_t)g;
        }
    }
}

/* A whole residual block in one call (the GIL released throughout): the entropy-coded array,
 * then the long-term prediction (count beats; 0: none), the LMS stage (taps; 0: none) and the long
 * adaptive stages (cascade.c; 0: none) undone in place. 0; an entropy-block error code (> 0); -1 values
 * too large; -2 a hostile long-term window; -3 a bad long stage or no memory. */
EXPORT int san_residual_decode(const uint8_t *data, int64_t len, int64_t n, int contextual, int taps,
                               const int64_t *pos, const int64_t *shift, const int64_t *gain, int64_t count,
                               int64_t before, int64_t after, int stages, const int32_t *orders,
                               const int32_t *shifts, int64_t limit, int64_t *out) {
    int status = san_block_decode(data, len, n, contextual, out);
    if (status) return status;
    if (count && (status = san_ltp_inverse(out, n, pos, shift, gain, count, before, after, limit, out))) return status;
    if (taps && lms(out, n, taps, 1, limit, out)) return -1;
    if (stages && (status = san_cascade_inverse(out, n, orders, shifts, stages, limit, out))) return status == -1 ? -1 : -3;
    return 0;
}
