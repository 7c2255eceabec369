/* Integer LPC: residual, synthesis, and the float autocorrelation of the analysis. */
#include "kernels.h"


/* Open-loop LPC residual; segments of `segment` samples restart the predictor (see lpc.py). The
 * prediction sums run lag-major over blocks of 256 positions, so the multiply-adds of neighbouring
 * positions are independent (integer arithmetic: the same sums in any order). */
EXPORT void san_lpc_residual(const int64_t *u, int64_t n, const int64_t *coefs, int order, int shift, int64_t bias,
                             int64_t segment, int64_t *out) {
    int64_t half = ((int64_t)1 << shift) >> 1;
    int64_t *v = (int64_t *)malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    int64_t acc[256];
    if (!v) { /* fall back to the plain loop without scratch memory */
        for (int64_t t = 0; t < n; t++) {
            int64_t pos = t % segment, pred;
            if (pos == 0) pred = 0;
            else if (pos < order) pred = u[t - 1] - bias;
            else {
                int64_t a = 0;
                for (int k = 1; k <= order; k++) a += coefs[k - 1] * (u[t - k] - bias);
                pred = (a + half) >> shift;
            }
            out[t] = u[t] - bias - pred;
        }
        return;
    }
    for (int64_t t = 0; t < n; t++) v[t] = u[t] - bias;
    for (int64_t start = 0; start < n; start += segment) {
        int64_t end = start + segment < n ? start + segment : n;
        int64_t head = start + order < end ? start + order : end;
        if (start < end) out[start] = v[start];
        for (int64_t t = start + 1; t < head; t++) out[t] = v[t] - v[t - 1];
        for (int64_t b = head; b < end; b += 256) {
            int64_t m = end - b < 256 ? end - b : 256;
            for (int64_t i = 0; i < m; i++) acc[i] = 0;
            for (int k = 1; k <= order; k++) {
                const int64_t c = coefs[k - 1], *src = v + b - k;
                for (int64_t i = 0; i < m; i++) acc[i] += c * src[i];
            }
            for (int64_t i = 0; i < m; i++) out[b + i] = v[b + i] - ((acc[i] + half) >> shift);
        }
    }
    free(v);
}

/* Autocorrelation r[0..order] of y (float64): per lag, the products summed in sample order. */
EXPORT void san_autocorrelation(const double *y, int64_t n, int order, double *r) {
    double acc[65];
    for (int k = 0; k <= order; k++) acc[k] = 0.0;
    for (int64_t t = 0; t < n; t++) {
        int top = (int64_t)order < n - 1 - t ? order : (int)(n - 1 - t);
        double yt = y[t];
        for (int k = 0; k <= top; k++) acc[k] += yt * y[t + k];
    }
    for (int k = 0; k <= order; k++) r[k] = acc[k];
}

/* Inverse of san_lpc_residual: 0 on success, -1 if a value leaves +-limit (hostile filter). */
EXPORT int san_lpc_synthesize(const int64_t *e, int64_t n, const int64_t *coefs, int order, int shift, int64_t bias,
                              int64_t segment, int64_t limit, int64_t *out) {
    int64_t half = ((int64_t)1 << shift) >> 1;
    for (int64_t t = 0; t < n; t++) {
        if (e[t] > limit || e[t] < -limit) return -1;
    }
    for (int64_t t = 0; t < n; t++) {
        int64_t pos = t % segment, pred; /* out holds v = u - bias until the end */
        if (pos == 0) {
            pred = 0;
        } else if (pos < order) {
            pred = out[t - 1];
        } else {
            int64_t acc = 0;
            for (int k = 1; k <= order; k++) acc += coefs[k - 1] * out[t - k];
            pred = (acc + half) >> shift;
        }
        int64_t v = e[t] + pred;
        if (v > limit || v < -limit) return -1;
        out[t] = v;
    }
    for (int64_t t = 0; t < n; t++) out[t] += bias;
    return 0;
}

