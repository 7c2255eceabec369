/* The CDF 9/7 lifting steps of wavelet.py in the same IEEE operations in the same order (built with
 * -ffp-contract=off: no fused multiply-adds), so they give numpy's bits. The ends are handled apart
 * so the inner loops have no branches and vectorise. */
#include "kernels.h"

#define ALPHA (-1.586134342059924)
#define BETA (-0.052980118572961)
#define GAMMA 0.882911075530934
#define DELTA 0.443506852043971
#define K 1.230174104914001

/* d[i] += c * (s[i] + s[i + 1]), s mirrored past its end (len(s) is len(d) or len(d) + 1). */
static void predict(double *restrict d, int64_t nd, const double *restrict s, int64_t ns, double c) {
    int64_t body = ns > nd ? nd : nd - 1;
    for (int64_t i = 0; i < body; i++) d[i] = d[i] + c * (s[i] + s[i + 1]);
    for (int64_t i = body; i < nd; i++) d[i] = d[i] + c * (s[i] + s[ns - 1]);
}

/* s[i] += c * (d[i - 1] + d[i]), d mirrored at both ends (len(d) is len(s) or len(s) - 1). */
static void update(double *restrict s, int64_t ns, const double *restrict d, int64_t nd, double c) {
    s[0] = s[0] + c * (d[0] + d[0]);
    int64_t body = nd < ns ? nd : ns;
    for (int64_t i = 1; i < body; i++) s[i] = s[i] + c * (d[i - 1] + d[i]);
    for (int64_t i = body > 1 ? body : 1; i < ns; i++) s[i] = s[i] + c * (d[i - 1] + d[nd - 1]);
}

/* The band lengths of an n-value signal over `levels` levels, coarsest first (wavelet.band_lengths). */
static void lengths(int64_t n, int levels, int64_t *out) {  /* out: levels + 1 values */
    for (int l = levels; l >= 1; l--) {
        out[l] = n / 2;
        n = (n + 1) / 2;
    }
    out[0] = n;
}

/* wavelet.forward: x (n values, kept) to its bands, concatenated coarsest first, in `bands` (n values);
 * `work`: n scratch values. Each level's input has at least 4 values (wavelet.levels_for). */
EXPORT void san_cdf97_forward(const double *x, int64_t n, int levels, double *bands, double *work) {
    memcpy(work, x, (size_t)n * sizeof(double));
    int64_t m = n, end = n;
    for (int l = levels; l >= 1; l--) {
        int64_t ns = (m + 1) / 2, nd = m / 2;
        double *s = bands, *d = bands + end - nd;  /* s at the front (scratch for now), d at its place */
        for (int64_t i = 0; i < ns; i++) s[i] = work[2 * i];
        for (int64_t i = 0; i < nd; i++) d[i] = work[2 * i + 1];
        predict(d, nd, s, ns, ALPHA);
        update(s, ns, d, nd, BETA);
        predict(d, nd, s, ns, GAMMA);
        update(s, ns, d, nd, DELTA);
        for (int64_t i = 0; i < ns; i++) work[i] = s[i] * K;
        for (int64_t i = 0; i < nd; i++) d[i] = d[i] / K;
        end -= nd;
        m = ns;
    }
    memcpy(bands, work, (size_t)m * sizeof(double));
}

/* wavelet.inverse: `bands` (n values, concatenated coarsest first) to the signal, in place; `work`:
 * n scratch values. */
EXPORT void san_cdf97_inverse(double *bands, int64_t n, int levels, double *work) {
    int64_t len[13];
    lengths(n, levels, len);
    int64_t ns = len[0];
    for (int l = 1; l <= levels; l++) {
        int64_t nd = len[l];
        double *s = work, *d = work + ns;
        for (int64_t i = 0; i < ns; i++) s[i] = bands[i] / K;
        for (int64_t i = 0; i < nd; i++) d[i] = bands[ns + i] * K;
        update(s, ns, d, nd, -DELTA);
        predict(d, nd, s, ns, -GAMMA);
        update(s, ns, d, nd, -BETA);
        predict(d, nd, s, ns, -ALPHA);
        for (int64_t i = 0; i < ns; i++) bands[2 * i] = s[i];
        for (int64_t i = 0; i < nd; i++) bands[2 * i + 1] = d[i];
        ns += nd;
    }
}

/* waveletframe.quantise of one value: sign(b) * floor(|b| / delta + rounding), as int64. */
static inline int64_t dead_zone(double b, double delta, double rounding) {
    return (int64_t)copysign(floor(fabs(b) / delta + rounding), b);
}

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

/* waveletframe.quantise on bands concatenated. */
EXPORT void san_dead_zone_quantise(const double *b, int64_t n, double delta, double rounding, int64_t *q) {
    for (int64_t i = 0; i < n; i++) q[i] = dead_zone(b[i], delta, rounding);
}

/* rint(inverse(out) + offset (+ prediction where `predicted`)) in place, `levels` levels; `work`: n scratch
 * values (the caller's: a scratch allocated and freed here on every call costs page faults). */
static void synthesise(double *out, int64_t n, int levels, double offset, const double *prediction, int predicted,
                       double *work) {
    san_cdf97_inverse(out, n, levels, work);
    if (predicted) {
        for (int64_t i = 0; i < n; i++) out[i] = rint_exact((out[i] + offset) + prediction[i]);
    } else {
        for (int64_t i = 0; i < n; i++) out[i] = rint_exact(out[i] + offset);
    }
}

/* waveletframe.reconstruct on bands concatenated (`levels` levels): rint(inverse(dequantised q) + offset
 * (+ prediction where `predicted`)), each step the IEEE operation numpy does, to `out` (`work`: n scratch
 * values). The dequantiser puts a nonzero q at (q + sign(q) * shift) * delta
 * (q * delta where shift is 0, bit for bit the same). */
EXPORT void san_wavelet_synthesis(const int64_t *q, int64_t n, int levels, double delta, double shift, double offset,
                                  const double *prediction, int predicted, double *out, double *work) {
    if (shift == 0.0) {
        for (int64_t i = 0; i < n; i++) out[i] = (double)q[i] * delta;
    } else {
        for (int64_t i = 0; i < n; i++) {
            double sign = q[i] > 0 ? 1.0 : q[i] < 0 ? -1.0 : 0.0;
            out[i] = q[i] == 0 ? 0.0 : ((double)q[i] + sign * shift) * delta;
        }
    }
    synthesise(out, n, levels, offset, prediction, predicted, work);
}

/* san_dead_zone_quantise then san_wavelet_synthesis at the cell's centre (shift 0), without the
 * quantised array: the channel the decoder rebuilds from bands quantised at `delta`. */
EXPORT void san_wavelet_requantised(const double *b, int64_t n, int levels, double delta, double rounding,
                                    double offset, const double *prediction, int predicted, double *out, double *work) {
    /* a negative b quantised to 0 gives -0.0 here where dead_zone's int64 gives 0.0: the lifting treats
     * them alike, and the offset added at the end (0.0 at least) makes any -0.0 left +0.0 */
    for (int64_t i = 0; i < n; i++) out[i] = copysign(floor_nonnegative(fabs(b[i]) / delta + rounding), b[i]) * delta;
    /* the same as dead_zone but where |q| reaches 2**63 (or is nan), whose int64 conversion decides it: then
     * |out| is at least 2**62 delta (a product rounds monotonically), which this looks for, and redoes them all */
    double limit = 0x1p62 * delta;
    int wide = 0;
    for (int64_t i = 0; i < n && !wide; i++) wide = !(fabs(out[i]) < limit);
    if (wide)
        for (int64_t i = 0; i < n; i++) out[i] = (double)dead_zone(b[i], delta, rounding) * delta;
    synthesise(out, n, levels, offset, prediction, predicted, work);
}
