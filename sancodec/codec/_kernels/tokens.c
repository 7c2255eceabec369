/* Tokens, raw bits, envelope classes and bit-length histograms of the residual coder. */
#include "kernels.h"


/* Zig-zag map and token of each value: tok = v below 16, else 11 + bit_length(v). */
TARGET_CLONES EXPORT void san_tokenize(const int64_t *e, int64_t n, int32_t *tok, uint64_t *val) {
    for (int64_t i = 0; i < n; i++) {
        uint64_t v = ((uint64_t)e[i] << 1) ^ (uint64_t)(e[i] >> 63);
        val[i] = v;
        tok[i] = v < DIRECT ? (int32_t)v : 11 + bit_length(v);
    }
}

static int token_width(int32_t t) { return t < DIRECT ? 0 : t - 12; }

/* Raw bits of a token after its `skip` top mantissa bits (coded elsewhere: running contexts' MSB mode). */
static inline int raw_width(int32_t t, int skip) {
    int w = token_width(t);
    return w > skip ? w - skip : 0;
}

/* Where 32 or more bits are pending in `acc` (`*fill` of them), the top 32 of them as four bytes at `out + *pos`,
 * the top byte first. */
static inline void flush32(uint64_t acc, int *fill, uint8_t *out, int64_t *pos) {
    if (*fill < 32) return;
    *fill -= 32;
    const uint32_t v = (uint32_t)(acc >> *fill);
    uint8_t *p = out + *pos;
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
    *pos += 4;
}

/* Raw low bits of every value, MSB first, zero-padded to whole bytes, leaving out the `skip` top bits of
 * each mantissa; returns the byte count. The bits gather in a 64-bit word, 32 of them written at a time (a value
 * of no raw bits adds none without a branch): a byte at a time and a test per value cost several times as much. */
int64_t pack_low_bits(const uint64_t *val, const int32_t *tok, int64_t n, int skip, uint8_t *out) {
    uint64_t acc = 0; /* pending bits, right-aligned: fewer than 32 between values */
    int fill = 0;
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        int w = raw_width(tok[i], skip);
        const uint64_t v = val[i];
        if (w > 32) { /* the bits above the low 32 first */
            const int high = w - 32;
            acc = (acc << high) | ((v >> 32) & ((1ULL << high) - 1));
            fill += high;
            flush32(acc, &fill, out, &pos);
            w = 32;
        }
        acc = (acc << w) | (v & ((1ULL << w) - 1));
        fill += w;
        flush32(acc, &fill, out, &pos);
    }
    while (fill >= 8) {
        fill -= 8;
        out[pos++] = (uint8_t)(acc >> fill);
    }
    if (fill) out[pos++] = (uint8_t)(acc << (8 - fill));
    return pos;
}

EXPORT int64_t san_pack_bits(const uint64_t *val, const int32_t *tok, int64_t n, uint8_t *out) {
    return pack_low_bits(val, tok, n, 0, out);
}

/* Bits needed for the raw bits of these tokens, `skip` top mantissa bits left out. */
int64_t raw_bit_count(const int32_t *tok, int64_t n, int skip) {
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += raw_width(tok[i], skip);
    return total;
}

/* Bytes needed for the raw bits of these tokens (the caller sizes the buffers). */
EXPORT int64_t san_raw_bits(const int32_t *tok, int64_t n) { return raw_bit_count(tok, n, 0); }

/* Eight bytes as a big-endian integer: one load and a byte swap where the compiler has them. */
static inline uint64_t load_be64(const uint8_t *p) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
#else
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v = (v << 8) | p[k];
    return v;
#endif
}

/* `w` (1..57) bits from bit `bit` on (MSB first), right-aligned; the data's tail read byte by byte. */
static inline uint64_t read_bits(const uint8_t *data, int64_t nbytes, int64_t bit, int w) {
    int64_t b = bit >> 3;
    uint64_t window = 0;
    if (b + 8 <= nbytes) {
        window = load_be64(data + b);
    } else {
        for (int k = 0; k < 8; k++) window = (window << 8) | (b + k < nbytes ? data[b + k] : 0);
    }
    return (window << (bit & 7)) >> (64 - w);
}

static inline int bad_token(int32_t t) { return t < 0 || t >= TOKENS; }

/* -1 when a token from i on is out of range, else -2 (the bits ran out): the same answer as checking
 * every token before any bit. */
static int unpack_error(const int32_t *tok, int64_t i, int64_t n) {
    for (; i < n; i++)
        if (bad_token(tok[i])) return -1;
    return -2;
}

/* Values from tokens and raw bits, the `skip` top bits of each mantissa taken from `hi` (NULL when skip
 * is 0); -1 when a token is out of range, -2 when bits run out. */
int unpack_values(const int32_t *tok, const uint8_t *hi, int skip, int64_t n, const uint8_t *data, int64_t nbytes,
                  int64_t *out) {
    const int64_t bits = nbytes * 8;
    int64_t bit = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t t = tok[i];
        if (bad_token(t)) return -1;
        int w = token_width(t), r = raw_width(t, skip);
        uint64_t v = (uint64_t)t;
        if (w) {
            if (bit + r > bits) return unpack_error(tok, i, n);
            uint64_t low = 0; /* r <= 63 (token 75): the high part first where it passes 57 bits */
            if (r > 57) {
                low = read_bits(data, nbytes, bit, r - 32) << 32;
                low |= read_bits(data, nbytes, bit + r - 32, 32);
            } else if (r) {
                low = read_bits(data, nbytes, bit, r);
            }
            bit += r;
            v = (1ULL << w) + low + (r < w ? (uint64_t)hi[i] << r : 0);
        }
        uint64_t half = v >> 1;
        out[i] = (v & 1) ? -(int64_t)half - 1 : (int64_t)half;
    }
    return 0;
}

EXPORT int san_unpack(const int32_t *tok, int64_t n, const uint8_t *data, int64_t nbytes, int64_t *out) {
    return unpack_values(tok, NULL, 0, n, data, nbytes, out);
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

#define LENGTH_RUN 512 /* values whose bit lengths are found in one vectorised pass, then counted */

/* The bit lengths (frexp_exponent) of n <= LENGTH_RUN values `v` counted into part (four histograms, summed into the
 * caller's by add_parts: runs of one length wait on no one counter): the lengths found first in a loop that
 * vectorises (below 2**53 a value's length is its integer bit length; a longer one takes frexp_exponent's own
 * route), then counted. */
TARGET_CLONES static void count_lengths(const int64_t *v, int64_t n, int64_t (*part)[66]) {
    int32_t lengths[LENGTH_RUN];
    int64_t wide = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t m = v[i] < 0 ? -(uint64_t)v[i] : (uint64_t)v[i];
        lengths[i] = bit_length_branchless(m);
        wide |= m >= (1ULL << 53);
    }
    if (wide)
        for (int64_t i = 0; i < n; i++) lengths[i] = frexp_exponent(v[i]);
    for (int64_t i = 0; i < n; i++) part[i & 3][lengths[i]]++;
}

/* count_lengths' four histograms added to hist (66 slots). */
static void add_parts(int64_t (*part)[66], int64_t *hist) {
    for (int j = 0; j < 66; j++) hist[j] += part[0][j] + part[1][j] + part[2][j] + part[3][j];
}

/* Histogram of bit lengths of |e| as numpy's frexp(float64(|e|)) counts them (hist: 66 slots, added to): a run of
 * count_lengths at a time. */
EXPORT void san_bit_length_histogram(const int64_t *e, int64_t n, int64_t *hist) {
    int64_t part[4][66];
    memset(part, 0, sizeof part);
    for (int64_t lo = 0; lo < n; lo += LENGTH_RUN)
        count_lengths(e + lo, n - lo < LENGTH_RUN ? n - lo : LENGTH_RUN, part);
    add_parts(part, hist);
}

/* san_bit_length_histogram of the n - 1 successive differences of x's values (ranks NULL; int64 differences
 * wrapping as numpy's do) or of their ranks (ranks[v - lowest]: value v's), added to hist, without the differences'
 * array: a run of them at a time, then counted. */
static void difference_lengths(const int64_t *x, int64_t n, const int64_t *ranks, int64_t lowest, int64_t *hist) {
    int64_t part[4][66], d[LENGTH_RUN];
    memset(part, 0, sizeof part);
    for (int64_t lo = 1; lo < n; lo += LENGTH_RUN) {
        int64_t k = n - lo < LENGTH_RUN ? n - lo : LENGTH_RUN;
        if (ranks)
            for (int64_t i = 0; i < k; i++) d[i] = ranks[x[lo + i] - lowest] - ranks[x[lo + i - 1] - lowest];
        else
            for (int64_t i = 0; i < k; i++) d[i] = (int64_t)((uint64_t)x[lo + i] - (uint64_t)x[lo + i - 1]);
        count_lengths(d, k, part);
    }
    add_parts(part, hist);
}

/* san_bit_length_histogram of np.diff(x) (its n - 1 values), added to hist: an exact coding's order-0 estimate
 * (timedomain). */
EXPORT void san_difference_histogram(const int64_t *x, int64_t n, int64_t *hist) {
    difference_lengths(x, n, NULL, 0, hist);
}

/* san_difference_histogram of the ranks of x's values among its distinct values (timedomain._rank_differences: 1
 * for the least): every value of x in [lowest, lowest + span], which the caller took from x itself; `ranks`: span + 1
 * scratch values (a value's presence, then its rank). */
EXPORT void san_rank_difference_histogram(const int64_t *x, int64_t n, int64_t lowest, int64_t span, int64_t *ranks,
                                          int64_t *hist) {
    memset(ranks, 0, (size_t)(span + 1) * sizeof *ranks);
    for (int64_t i = 0; i < n; i++) ranks[x[i] - lowest] = 1;
    for (int64_t v = 0, r = 0; v <= span; v++) r += ranks[v], ranks[v] = r;
    difference_lengths(x, n, ranks, lowest, hist);
}

/* Bit-length histograms (66 slots each) of the polynomial residuals of orders 0..3 of u (residual.py's
 * poly_residual: differenced k times, keeping the first value of each pass), in one pass and without
 * materialising them; two interleaved copies halve the store-to-load chains on the busiest slots. */
EXPORT void san_poly_histograms(const int64_t *u, int64_t n, int64_t *hist) {
    int64_t local[2][4][66];
    memset(local, 0, sizeof(local));
    int64_t last[3] = {0, 0, 0};
    for (int64_t t = 0; t < n; t++) {
        int64_t cur[4];
        cur[0] = u[t];
        if (t == 0) {
            cur[1] = cur[2] = cur[3] = u[0];
        } else {
            cur[1] = cur[0] - last[0];
            cur[2] = cur[1] - last[1];
            cur[3] = cur[2] - last[2];
        }
        last[0] = cur[0], last[1] = cur[1], last[2] = cur[2];
        int64_t (*h)[66] = local[t & 1];
        for (int k = 0; k < 4; k++) h[k][frexp_exponent(cur[k])]++;
    }
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < 66; b++) hist[k * 66 + b] = local[0][k][b] + local[1][k][b];
}

/* san_bit_length_histogram of each of nb consecutive runs of e (lengths[b] values each) into hist[b][66]. */
EXPORT void san_band_histograms(const int64_t *e, const int64_t *lengths, int64_t nb, int64_t *hist) {
    memset(hist, 0, (size_t)nb * 66 * sizeof *hist);
    for (int64_t b = 0; b < nb; b++) {
        san_bit_length_histogram(e, lengths[b], hist + 66 * b);
        e += lengths[b];
    }
}
