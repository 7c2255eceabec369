/* Compiled hot paths of the lossless codec, called through ctypes (sancodec/codec/kernels.py).
 *
 * Each function mirrors a numpy reference in kernels.py and must give identical results:
 * integer arithmetic only (the float class rule arrives as a lookup table computed by numpy),
 * so the bitstream does not depend on whether these are compiled. Plain C99 on raw buffers;
 * ctypes releases the GIL around every call, so frames run in parallel threads.
 * The CPython module init below exists only so setuptools can build and locate the library.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define DIRECT 16
#define BLOCK 16

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

static int bit_length(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }

/* Zig-zag map and token of each value: tok = v below 16, else 11 + bit_length(v). */
EXPORT void san_tokenize(const int64_t *e, int64_t n, int32_t *tok, uint64_t *val) {
    for (int64_t i = 0; i < n; i++) {
        uint64_t v = ((uint64_t)e[i] << 1) ^ (uint64_t)(e[i] >> 63);
        val[i] = v;
        tok[i] = v < DIRECT ? (int32_t)v : 11 + bit_length(v);
    }
}

static int token_width(int32_t t) { return t < DIRECT ? 0 : t - 12; }

/* Raw low bits of every value, MSB first, zero-padded to whole bytes; returns the byte count. */
EXPORT int64_t san_pack_bits(const uint64_t *val, const int32_t *tok, int64_t n, uint8_t *out) {
    uint64_t acc = 0; /* pending bits, right-aligned */
    int fill = 0;
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        int w = token_width(tok[i]);
        if (w == 0) continue;
        uint64_t low = val[i] & ((w == 64) ? ~0ULL : ((1ULL << w) - 1));
        while (w > 0) { /* at most 56 bits at a time keep acc from overflowing */
            int take = w > 32 ? 32 : w;
            w -= take;
            acc = (acc << take) | ((low >> w) & ((1ULL << take) - 1));
            fill += take;
            while (fill >= 8) {
                fill -= 8;
                out[pos++] = (uint8_t)(acc >> fill);
            }
        }
    }
    if (fill) out[pos++] = (uint8_t)(acc << (8 - fill));
    return pos;
}

/* Bytes needed for the raw bits of these tokens (the caller sizes the buffers). */
EXPORT int64_t san_raw_bits(const int32_t *tok, int64_t n) {
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += token_width(tok[i]);
    return total;
}

/* Values from tokens and raw bits; -1 when a token is out of range, -2 when bits run out. */
EXPORT int san_unpack(const int32_t *tok, int64_t n, const uint8_t *data, int64_t nbytes, int64_t *out) {
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (tok[i] < 0 || tok[i] >= 76) return -1;
        total += token_width(tok[i]);
    }
    if (total > nbytes * 8) return -2;
    int64_t bit = 0;
    for (int64_t i = 0; i < n; i++) {
        int w = token_width(tok[i]);
        uint64_t v = (uint64_t)tok[i];
        if (w) {
            uint64_t low = 0;
            for (int k = 0; k < w;) { /* whole bytes where aligned, single bits otherwise */
                int64_t b = bit >> 3;
                int off = (int)(bit & 7);
                int take = 8 - off;
                if (take > w - k) take = w - k;
                uint64_t chunk = ((uint64_t)data[b] >> (8 - off - take)) & ((1ULL << take) - 1);
                low = (low << take) | chunk;
                k += take;
                bit += take;
            }
            v = (1ULL << w) + low; /* w <= 63 (token 75): no overflow */
        }
        uint64_t half = v >> 1;
        out[i] = (v & 1) ? -(int64_t)half - 1 : (int64_t)half;
    }
    return 0;
}

/* Envelope class of every block of 16 tokens: classes[size][sum] (size 1..16, sum 0..75*size)
 * is the float rule min(15, rint(2 log2(1 + sum/size))) tabulated by numpy. */
EXPORT void san_classes(const int32_t *tok, int64_t n, const int8_t *table, int64_t row, int32_t *cls) {
    int64_t blocks = (n + BLOCK - 1) / BLOCK;
    for (int64_t b = 0; b < blocks; b++) {
        int64_t start = b * BLOCK, end = start + BLOCK < n ? start + BLOCK : n;
        int64_t s = 0;
        for (int64_t i = start; i < end; i++) s += tok[i];
        cls[b] = table[(end - start) * row + s];
    }
}

/* Histogram of bit lengths of |e| as numpy's frexp(float64(|e|)) counts them (hist: 66 slots).
 * Below 2**53 the float is exact and the exponent is the integer bit length. */
EXPORT void san_bit_length_histogram(const int64_t *e, int64_t n, int64_t *hist) {
    for (int64_t i = 0; i < n; i++) {
        uint64_t m = e[i] < 0 ? -(uint64_t)e[i] : (uint64_t)e[i];
        if (m < (1ULL << 53)) {
            hist[bit_length(m)]++;
        } else {
            int exp = 0;
            frexp((double)(int64_t)m, &exp);
            hist[exp > 65 ? 65 : exp]++;
        }
    }
}

/* Open-loop LPC residual; segments of `segment` samples restart the predictor (see lpc.py). */
EXPORT void san_lpc_residual(const int64_t *u, int64_t n, const int64_t *coefs, int order, int shift, int64_t bias,
                             int64_t segment, int64_t *out) {
    int64_t half = ((int64_t)1 << shift) >> 1;
    for (int64_t t = 0; t < n; t++) out[t] = u[t] - bias; /* v, overwritten by the residual below */
    for (int64_t start = 0; start < n; start += segment) {
        int64_t end = start + segment < n ? start + segment : n;
        int64_t head = start + order < end ? start + order : end;
        /* positions from `order` on read v[t-1..t-order] before they are overwritten: go backwards */
        for (int64_t t = end - 1; t >= head; t--) {
            int64_t acc = 0;
            for (int k = 1; k <= order; k++) acc += coefs[k - 1] * out[t - k];
            out[t] -= (acc + half) >> shift;
        }
        for (int64_t t = head - 1; t > start; t--) out[t] -= out[t - 1];
        /* position 0 of a segment is predicted by 0: out[start] = v[start] already */
    }
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

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "sancodec's compiled kernels (use via ctypes)",
                                    -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
