/* The sign-sign LMS stage of lossless residuals (see residual.py): an adaptive predictor of a residual
 * from its own last `order` values. Integer arithmetic only, so the bitstream is the same everywhere:
 *   h[t] = clip(x[t]) to +-(2^31 - 1),
 *   pred[t] = (sum_{k=1..order} w[k] * h[t-k] + 2^(LMS_SHIFT-1)) >> LMS_SHIFT   (h before 0 is 0),
 *   out[t] = x[t] - pred[t],   then w[k] += sign(out[t]) * sign(h[t-k]).
 * A weight moves by at most 1 per sample and a channel-frame holds at most 2^24 samples, so
 * |w| <= 2^24 and |sum| <= 32 * 2^24 * 2^31 = 2^60: nothing wraps. The history is kept oldest
 * first in int32 beside its signs (weights reversed to match), and the loops are compiled for the
 * orders the encoder uses (8, 16) as constants, so they unroll. */
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

static inline void lms_adapt(int32_t *w, const int32_t *sg, int64_t err, const int order) {
    int32_t d = (err > 0) - (err < 0);
    for (int j = 0; j < order; j++) w[j] += d * sg[j];
}

/* Forward (inverse = 0) or inverse pass; h and sg hold order zeros, then the n values pushed. */
static inline int lms_run(const int64_t *in, int64_t n, const int order, int inverse, int64_t limit,
                          int64_t *out, int32_t *h, int32_t *sg) {
    int32_t w[LMS_MAX_ORDER] = {0};
    for (int64_t t = 0; t < n; t++) {
        int64_t pred = lms_predict(w, h + t, order), x, err;
        if (inverse) {
            if (in[t] > limit || in[t] < -limit) return -1;
            x = in[t] + pred;
            if (x > limit || x < -limit) return -1;
            err = in[t];
            out[t] = x;
        } else {
            x = in[t];
            err = x - pred;
            out[t] = err;
        }
        lms_adapt(w, sg + t, err, order);
        h[t + order] = clip31(x);
        sg[t + order] = (x > 0) - (x < 0);
    }
    return 0;
}

static int lms(const int64_t *in, int64_t n, int order, int inverse, int64_t limit, int64_t *out) {
    if (order < 1 || order > LMS_MAX_ORDER) return -1;
    int32_t *h = (int32_t *)calloc((size_t)(2 * (n + order)), sizeof(int32_t));
    if (!h) return -1;
    int32_t *sg = h + n + order;
    int status;
    switch (order) { /* constant orders: unrolled loops */
        case 8: status = lms_run(in, n, 8, inverse, limit, out, h, sg); break;
        case 16: status = lms_run(in, n, 16, inverse, limit, out, h, sg); break;
        default: status = lms_run(in, n, order, inverse, limit, out, h, sg);
    }
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
 * gain, in order, x[a + i] += (g_k * x[ref + i] + 4) >> 3 over the window. The reader has checked
 * that windows lie inside the block and every reference window ends before its beat's window;
 * returns -1 if a value leaves +-limit (a hostile block). */
EXPORT int san_ltp_inverse(const int64_t *o2, int64_t n, const int64_t *pos, const int64_t *shift, const int64_t *gain,
                           int64_t count, int64_t before, int64_t after, int64_t limit, int64_t *x) {
    for (int64_t t = 0; t < n; t++) {
        if (o2[t] > limit || o2[t] < -limit) return -1;
        x[t] = o2[t];
    }
    int64_t width = before + after;
    for (int64_t k = 1; k < count; k++) {
        if (!gain[k]) continue;
        int64_t a = pos[k] - before, ref = pos[k - 1] - before + shift[k];
        for (int64_t i = 0; i < width; i++) {
            int64_t v = x[a + i] + ((gain[k] * x[ref + i] + 4) >> 3);
            if (v > limit || v < -limit) return -1;
            x[a + i] = v;
        }
    }
    return 0;
}
