/* Integer LPC: residual, synthesis, and the float autocorrelation of the analysis. */
#include "kernels.h"

#define RESIDUAL_BLOCK 256

/* The prediction sums of san_lpc_residual from `head` to `end`, lag-major over blocks of positions, in float64:
 * exact where the caller checked max|v| * sum|coefs| below 2^53 (every product and partial sum is then an integer
 * below 2^53, the int64 sum in any order), and vector multiply-adds where int64 products have none. vd: v as
 * doubles. */
TARGET_CLONES static void residual_in_doubles(const int64_t *v, const double *vd, int64_t head, int64_t end,
                                           const double *c, int order, int shift, int64_t half, int64_t *out) {
    double acc[RESIDUAL_BLOCK];
    for (int64_t b = head; b < end; b += RESIDUAL_BLOCK) {
        int64_t m = end - b < RESIDUAL_BLOCK ? end - b : RESIDUAL_BLOCK;
        for (int64_t i = 0; i < m; i++) acc[i] = 0.0;
        for (int k = 1; k <= order; k++) {
            const double ck = c[k - 1], *src = vd + b - k;
            for (int64_t i = 0; i < m; i++) acc[i] += ck * src[i];
        }
        for (int64_t i = 0; i < m; i++) out[b + i] = v[b + i] - (((int64_t)acc[i] + half) >> shift);
    }
}

/* Open-loop LPC residual; segments of `segment` samples restart the predictor (see lpc.py). The
 * prediction sums run lag-major over blocks of 256 positions, so the multiply-adds of neighbouring
 * positions are independent (integer arithmetic: the same sums in any order), in float64 where that is exact
 * (residual_in_doubles), else in int64. */
EXPORT void san_lpc_residual(const int64_t *u, int64_t n, const int64_t *coefs, int order, int shift, int64_t bias,
                             int64_t segment, int64_t *out) {
    int64_t half = ((int64_t)1 << shift) >> 1;
    int64_t *v = (int64_t *)malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    double *vd = (double *)malloc((size_t)(n ? n : 1) * sizeof(double));
    int64_t acc[RESIDUAL_BLOCK];
    if (!v || !vd) { /* fall back to the plain loop without scratch memory */
        free(v);
        free(vd);
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
    double largest = 0.0, weight = 0.0, c[64];
    for (int64_t t = 0; t < n; t++) {
        v[t] = u[t] - bias;
        vd[t] = (double)v[t];
        largest = fabs(vd[t]) > largest ? fabs(vd[t]) : largest;
    }
    for (int k = 0; k < order && k < 64; k++) {
        c[k] = (double)coefs[k];
        weight += fabs(c[k]);
    }
    /* a margin of 2^-10 covers the rounding of `largest` and `weight` themselves */
    int in_doubles = order <= 64 && largest * weight < 0x1p53 * (1.0 - 0x1p-10);
    for (int64_t start = 0; start < n; start += segment) {
        int64_t end = start + segment < n ? start + segment : n;
        int64_t head = start + order < end ? start + order : end;
        if (start < end) out[start] = v[start];
        for (int64_t t = start + 1; t < head; t++) out[t] = v[t] - v[t - 1];
        if (in_doubles) {
            residual_in_doubles(v, vd, head, end, c, order, shift, half, out);
            continue;
        }
        for (int64_t b = head; b < end; b += RESIDUAL_BLOCK) {
            int64_t m = end - b < RESIDUAL_BLOCK ? end - b : RESIDUAL_BLOCK;
            for (int64_t i = 0; i < m; i++) acc[i] = 0;
            for (int k = 1; k <= order; k++) {
                const int64_t ck = coefs[k - 1], *src = v + b - k;
                for (int64_t i = 0; i < m; i++) acc[i] += ck * src[i];
            }
            for (int64_t i = 0; i < m; i++) out[b + i] = v[b + i] - ((acc[i] + half) >> shift);
        }
    }
    free(v);
    free(vd);
}

/* Autocorrelation r[0..order] of y (float64): per lag, the products summed in sample order. */
/* Lags handled at once by san_autocorrelation: their running sums stay in registers (four vectors of four: two
 * SSE registers each on x86-64's baseline, one of AVX2) while the samples stream past, instead of a load and a
 * store of each sum for every sample. Written with vector types: left to itself the compiler vectorised over the
 * samples, each lag's sum a chain of in-order reductions. */
#define AUTOCORR_LAGS 36
typedef double autocorr_vec __attribute__((vector_size(32)));
typedef double autocorr_unaligned __attribute__((vector_size(32), aligned(8), may_alias)); /* a load anywhere */

/* r[k] = sum_t y[t] y[t + k] for k = 0..order, each sum in sample order (kernels.autocorrelation's numpy
 * reference sums alike: the same bits), a block of AUTOCORR_LAGS lags at a time, a vector lane per lag (no sum
 * across lanes). One function, so that each clone's loop has its own vectors. */
TARGET_CLONES EXPORT void san_autocorrelation(const double *y, int64_t n, int order, double *r) {
    for (int k0 = 0; k0 <= order; k0 += AUTOCORR_LAGS) {
        autocorr_vec acc[AUTOCORR_LAGS / 4] = {{0.0}};
        const int kn = order + 1 - k0 < AUTOCORR_LAGS ? order + 1 - k0 : AUTOCORR_LAGS;
        /* below `full`, every lag of the block has its sample: all AUTOCORR_LAGS sums run (those past `order`, in
         * the last block, are dropped), with no test within */
        const int64_t full = n - (k0 + AUTOCORR_LAGS - 1);
        int64_t t = 0;
        for (; t < full; t++) {
            const double yt = y[t];
            const autocorr_vec w = {yt, yt, yt, yt};
            const autocorr_unaligned *v = (const autocorr_unaligned *)(y + t + k0);
            for (int q = 0; q < AUTOCORR_LAGS / 4; q++) acc[q] += w * v[q];
        }
        double sums[AUTOCORR_LAGS];
        memcpy(sums, acc, sizeof sums);
        for (; t < n; t++) {
            const double yt = y[t];
            for (int j = 0; j < kn && t + k0 + j < n; j++) sums[j] += yt * y[t + k0 + j];
        }
        for (int j = 0; j < kn; j++) r[k0 + j] = sums[j];
    }
}

/* Levinson-Durbin over the autocorrelation r[0..order] (lpc.levinson's numpy reference, operation for operation:
 * the reflection's dot product summed from 0 in index order, as numpy sums a reversed view, and the update
 * a[j] - k a[i-1-j] from the previous coefficients): row p - 1 of `coefs` (order x order) holds the predictor of
 * order p, zero past p, and errors[p - 1] its error power. Where the error power stops being positive, the orders
 * past it repeat the last predictor and keep errors at r[0], as the reference pads them. */
EXPORT void san_levinson(const double *r, int order, double *coefs, double *errors) {
    double a[65] = {0.0}, b[65];
    double err = r[0];
    int i = 0;
    for (int p = 0; p < order; p++) errors[p] = r[0];
    for (int64_t j = 0; j < (int64_t)order * order; j++) coefs[j] = 0.0;
    for (; i < order && i < 64; i++) {
        if (err <= 0) break;
        double dot = 0.0;
        for (int j = 0; j < i; j++) dot += a[j] * r[i - j];
        const double k = (r[i + 1] - dot) / err;
        for (int j = 0; j < i; j++) b[j] = a[j] - k * a[i - 1 - j];
        for (int j = 0; j < i; j++) a[j] = b[j];
        a[i] = k;
        err *= 1 - k * k;
        for (int j = 0; j <= i; j++) coefs[(int64_t)i * order + j] = a[j];
        errors[i] = err;
    }
    for (int p = i; p < order; p++)  /* stopped early: the last predictor (none: zeros), padded */
        for (int j = 0; j < i; j++) coefs[(int64_t)p * order + j] = coefs[(int64_t)(i - 1) * order + j];
}

/* Inverse of san_lpc_residual: 0 on success, -1 if a value leaves +-limit (hostile filter).
 *
 * The prediction is a recurrence (each value feeds the next sum), so it cannot run lag-major as the residual
 * does. Only the lag-1 term waits for the value just made: it stays an int64 product, while the sum of the
 * others runs ahead in float64, four accumulators apart, which the compiler turns into vector multiply-adds
 * (int64 products have no vector form on x86-64's baseline). That is exact: while every value so far is at most
 * `bound` in magnitude, with bound * sum|coefs| below 2^53, each product and partial sum is an integer below
 * 2^53, so the float sum equals the int64 one in any order. A value past `bound` (or no scratch memory) sends
 * the rest of the frame through the plain int64 loop, which gives the same values. */
#define LPC_LANES 4

/* sum_i rc[i] * window[i] for i < padded (a multiple of LPC_LANES), as an int64: exact under the bound below.
 * Both arrays run forward in time, so the compiler vectorises the lanes. */
static inline int64_t lag_sum(const double *rc, const double *window, int padded) {
    double acc[LPC_LANES] = {0.0};
    for (int k = 0; k < padded; k += LPC_LANES)
        for (int j = 0; j < LPC_LANES; j++) acc[j] += rc[k + j] * window[k + j];
    return (int64_t)((acc[0] + acc[1]) + (acc[2] + acc[3]));
}

EXPORT int san_lpc_synthesize(const int64_t *e, int64_t n, const int64_t *coefs, int order, int shift, int64_t bias,
                              int64_t segment, int64_t limit, int64_t *out) {
    const int64_t half = ((int64_t)1 << shift) >> 1;
    for (int64_t t = 0; t < n; t++) {
        if (e[t] > limit || e[t] < -limit) return -1;
    }
    if (order < 1 || order > 64 || segment < 1) return -1;
    /* rc[i]: the coefficient of the value padded + 1 - i back (0 past the order), `padded` of them: the lags
     * 2 .. padded + 1 in the order of their values in time */
    const int padded = (order - 1 + LPC_LANES - 1) / LPC_LANES * LPC_LANES;
    double rc[64], total = fabs((double)coefs[0]);
    for (int i = 0; i < padded; i++) {
        const int lag = padded + 1 - i;
        rc[i] = lag <= order ? (double)coefs[lag - 1] : 0.0;
        total += fabs(rc[i]);
    }
    const double exact = 9007199254740992.0 / (total + 1.0); /* 2^53 */
    const int64_t bound = exact < (double)limit ? (int64_t)exact : limit, c1 = coefs[0];
    /* dv[t + padded + 2] holds out[t] as float64; the slots before stay 0, read only times a 0 coefficient */
    double *dv = (double *)calloc((size_t)(n + padded + 2), sizeof(double));
    int64_t t = 0;
    for (int64_t pos = 0; dv && t < n; t++, pos = pos + 1 == segment ? 0 : pos + 1) { /* pos: t % segment */
        int64_t pred;
        if (pos == 0) {
            pred = 0;
        } else if (pos < order) {
            pred = out[t - 1];
        } else {
            const int64_t rest = lag_sum(rc, dv + t + 1, padded); /* dv[t + 1]: the value padded + 1 back */
            pred = (rest + c1 * out[t - 1] + half) >> shift;
        }
        const int64_t v = e[t] + pred;
        if (v > bound || v < -bound) break; /* past the exact range: the int64 loop takes over from here */
        out[t] = v;
        dv[padded + 2 + t] = (double)v;
    }
    free(dv);
    for (; t < n; t++) {
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
    for (int64_t i = 0; i < n; i++) out[i] += bias;
    return 0;
}
