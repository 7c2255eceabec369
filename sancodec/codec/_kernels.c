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
#include <stdlib.h>
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

static inline int frexp_exponent(int64_t v) {
    uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if (m < (1ULL << 53)) return bit_length(m);
    int exp = 0;
    frexp((double)(int64_t)m, &exp);
    return exp > 65 ? 65 : exp;
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

/* ------------------------------------------------------------------------------------------------
 * Range coder, bit-compatible with constriction 0.4/0.5's RangeEncoder/RangeDecoder (32-bit words,
 * 64-bit state) and its Categorical(perfect=False) model at 24-bit precision. The model's
 * cumulative table cum[0..N] (cum[N] = 2**24) comes from Python (kernels.cumulative). State is
 * eight uint64 slots owned by the caller: lower, range, inverted count, first inverted word,
 * output position, output capacity, point, input position.
 */
#define RC_PRECISION 24
enum { RC_LOWER, RC_RANGE, RC_INVERTED, RC_FIRST, RC_POS, RC_CAP, RC_POINT, RC_READ };

static int rc_emit(uint64_t *st, uint32_t *out, uint32_t word) {
    if (st[RC_POS] >= st[RC_CAP]) return -1;
    out[st[RC_POS]++] = word;
    return 0;
}

static int rc_flush_inverted(uint64_t *st, uint32_t *out, int carry) {
    uint32_t first = (uint32_t)st[RC_FIRST] + (carry ? 1u : 0u), rest = carry ? 0u : 0xFFFFFFFFu;
    if (rc_emit(st, out, first)) return -1;
    for (uint64_t i = 1; i < st[RC_INVERTED]; i++)
        if (rc_emit(st, out, rest)) return -1;
    st[RC_INVERTED] = 0;
    return 0;
}

EXPORT void san_rc_init(uint64_t *st, int64_t capacity) {
    memset(st, 0, 8 * sizeof(uint64_t));
    st[RC_RANGE] = UINT64_MAX;
    st[RC_CAP] = (uint64_t)capacity;
}

/* Encode segments of symbols, segment g with model seg_model[g] (row of cums, size sizes[row]).
 * 0 on success, -1 when the output is full, -2 for a symbol outside its model. */
EXPORT int san_rc_encode(uint64_t *st, uint32_t *out, const int32_t *sym, const int64_t *seg_len,
                         const int32_t *seg_model, int64_t nseg, const uint32_t *cums, const int32_t *sizes,
                         int64_t stride) {
    int64_t k = 0;
    for (int64_t g = 0; g < nseg; g++) {
        const uint32_t *cum = cums + (int64_t)seg_model[g] * stride;
        int32_t n_symbols = sizes[seg_model[g]];
        for (int64_t i = 0; i < seg_len[g]; i++, k++) {
            int32_t x = sym[k];
            if (x < 0 || x >= n_symbols) return -2;
            uint64_t scale = st[RC_RANGE] >> RC_PRECISION;
            uint64_t range = scale * (uint64_t)(cum[x + 1] - cum[x]);
            uint64_t lower = st[RC_LOWER] + scale * (uint64_t)cum[x];
            if (st[RC_INVERTED] && lower + range > lower) {
                if (rc_flush_inverted(st, out, lower < st[RC_LOWER])) return -1;
            }
            st[RC_LOWER] = lower;
            st[RC_RANGE] = range;
            if (range < (1ULL << 32)) {
                st[RC_RANGE] = range << 32;
                uint32_t word = (uint32_t)(lower >> 32);
                st[RC_LOWER] = lower << 32;
                if (st[RC_INVERTED]) {
                    st[RC_INVERTED]++;
                } else if (st[RC_LOWER] + st[RC_RANGE] > st[RC_LOWER]) {
                    if (rc_emit(st, out, word)) return -1;
                } else {
                    st[RC_INVERTED] = 1;
                    st[RC_FIRST] = word;
                }
            }
        }
    }
    return 0;
}

/* Seal the stream (constriction's get_compressed); returns the word count or -1 when full. */
EXPORT int64_t san_rc_finish(uint64_t *st, uint32_t *out) {
    if (st[RC_RANGE] == UINT64_MAX) return (int64_t)st[RC_POS]; /* nothing encoded: no words */
    uint64_t point = st[RC_LOWER] + ((1ULL << 32) - 1);
    if (st[RC_INVERTED] && rc_flush_inverted(st, out, point < st[RC_LOWER])) return -1;
    uint32_t point_word = (uint32_t)(point >> 32);
    if (rc_emit(st, out, point_word)) return -1;
    uint32_t upper_word = (uint32_t)((st[RC_LOWER] + st[RC_RANGE]) >> 32);
    if (upper_word == point_word && rc_emit(st, out, 0)) return -1;
    return (int64_t)st[RC_POS];
}

/* ------------------------------------------------------------------------------------------------
 * One entropy-coded array (entropy.encode_arrays with a single array), decoded in one call: the
 * frequency tables, the range-coded tokens (block classes first when contextual) and the raw
 * bits. The same checks as the Python reader, in the same order; the error codes map to its
 * messages in kernels.decode_block.
 */
enum { BLK_OK = 0, BLK_TRUNCATED = 1, BLK_VARINT_LONG = 2, BLK_LIMIT = 3, BLK_EMPTY_TABLE = 4, BLK_TABLE_SUM = 5,
       BLK_TRAILING = 6, BLK_RANGE = 7, BLK_RAW_BITS = 8, BLK_MEMORY = 9 };
#define TOKENS 76
#define CLASSES 16
#define TABLE_TOTAL (1 << 14)

typedef struct { const uint8_t *p; int64_t len, pos; } byte_reader;

static int read_varint(byte_reader *r, uint64_t limit, uint64_t *out) {
    uint64_t value = 0;
    int shift = 0;
    for (;;) {
        if (r->pos >= r->len) return BLK_TRUNCATED;
        uint8_t byte = r->p[r->pos++];
        uint64_t bits = byte & 0x7F;
        if (shift == 63 && bits > 1) return BLK_LIMIT; /* at least 2**64: beyond every limit */
        value |= bits << shift;
        if (!(byte & 0x80)) break;
        shift += 7;
        if (shift > 63) return BLK_VARINT_LONG;
    }
    if (value > limit) return BLK_LIMIT;
    *out = value;
    return BLK_OK;
}

/* A frequency table over `alphabet` symbols, as its coder cumulative (alphabet + 1 entries). */
static int read_table(byte_reader *r, int alphabet, uint32_t *cum, int *nonzero) {
    uint64_t size, f, freq[TOKENS] = {0}, total = 0;
    int status = read_varint(r, (uint64_t)alphabet, &size);
    if (status) return status;
    if (size == 0) return BLK_EMPTY_TABLE;
    for (uint64_t i = 0; i < size; i++) {
        if ((status = read_varint(r, TABLE_TOTAL, &f))) return status;
        freq[i] = f;
        total += f;
    }
    if (total != TABLE_TOTAL) return BLK_TABLE_SUM;
    uint64_t left = 0;
    for (int i = 0; i < alphabet; i++) {
        cum[i] = (uint32_t)(((left * (uint64_t)((1 << RC_PRECISION) - alphabet)) >> 14) + (uint64_t)i);
        left += freq[i];
        if (nonzero) nonzero[i] = freq[i] > 0;
    }
    cum[alphabet] = 1u << RC_PRECISION;
    return BLK_OK;
}

typedef struct { const uint8_t *words; uint64_t n, read, lower, range, point; } range_decoder;

static uint32_t word_at(const range_decoder *d, uint64_t i) {
    const uint8_t *w = d->words + 4 * i;
    return (uint32_t)w[0] | ((uint32_t)w[1] << 8) | ((uint32_t)w[2] << 16) | ((uint32_t)w[3] << 24);
}

static void rd_start(range_decoder *d) {
    d->lower = 0;
    d->range = UINT64_MAX;
    d->point = 0;
    d->read = 0;
    while (d->read < 2 && d->read < d->n) d->point = (d->point << 32) | word_at(d, d->read++);
    if (d->read == 1) d->point <<= 32;
}

/* floor(diff / scale), the integer quotient, through a float estimate corrected exactly (a 64-bit
 * integer division costs several times more); UINT64_MAX when the quotient is far beyond 2**24. */
static inline uint64_t quotient(uint64_t diff, uint64_t scale) {
    double estimate = (double)diff / (double)scale;
    if (estimate >= (double)(1ULL << RC_PRECISION) + 64.0) return UINT64_MAX;
    uint64_t q = (uint64_t)estimate;
    while (q && q * scale > diff) q--;
    while ((q + 1) * scale <= diff) q++;
    return q;
}

/* Symbol search: `start[quantile >> 16]` is the first symbol whose interval reaches that 2**16 bucket. */
typedef struct { const uint32_t *cum; int n; uint8_t start[256]; } symbol_table;

static void table_index(symbol_table *t, const uint32_t *cum, int n) {
    t->cum = cum;
    t->n = n;
    int x = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t q = (uint32_t)b << 16;
        while (x + 1 < n && cum[x + 1] <= q) x++;
        t->start[b] = (uint8_t)x;
    }
}

static int rd_symbol(range_decoder *d, const symbol_table *t) {
    uint64_t scale = d->range >> RC_PRECISION;
    uint64_t quantile = quotient(d->point - d->lower, scale);
    if (quantile >= (1ULL << RC_PRECISION)) return -1;
    const uint32_t *cum = t->cum;
    int lo = t->start[quantile >> 16];
    while (lo + 1 < t->n && cum[lo + 1] <= quantile) lo++;
    d->lower += scale * (uint64_t)cum[lo];
    d->range = scale * (uint64_t)(cum[lo + 1] - cum[lo]);
    if (d->range < (1ULL << 32)) {
        d->lower <<= 32;
        d->range <<= 32;
        d->point <<= 32;
        if (d->read < d->n) d->point |= word_at(d, d->read++);
    }
    return lo;
}

/* The segment decoder behind rangecoder.RangeDecoder: its state lives in eight uint64 slots
 * (RC_LOWER, RC_RANGE, RC_POINT, RC_READ, RC_CAP: the word count) between calls; `words` are the
 * stream's little-endian bytes. */
EXPORT void san_rd_init(uint64_t *st, const uint8_t *words, int64_t n) {
    range_decoder d = {words, (uint64_t)n, 0, 0, 0, 0};
    rd_start(&d);
    memset(st, 0, 8 * sizeof(uint64_t));
    st[RC_LOWER] = d.lower, st[RC_RANGE] = d.range, st[RC_POINT] = d.point, st[RC_READ] = d.read;
    st[RC_CAP] = (uint64_t)n;
}

/* Decode segments (as san_rc_encode); 0 on success, -3 for data no encoder could have written. */
EXPORT int san_rd_decode(uint64_t *st, const uint8_t *words, int32_t *sym, const int64_t *seg_len,
                         const int32_t *seg_model, int64_t nseg, const uint32_t *cums, const int32_t *sizes,
                         int64_t stride) {
    range_decoder d = {words, st[RC_CAP], st[RC_READ], st[RC_LOWER], st[RC_RANGE], st[RC_POINT]};
    int64_t k = 0;
    int status = 0;
    for (int64_t g = 0; g < nseg && !status; g++) {
        symbol_table t;
        table_index(&t, cums + (int64_t)seg_model[g] * stride, sizes[seg_model[g]]);
        for (int64_t i = 0; i < seg_len[g]; i++, k++) {
            int x = rd_symbol(&d, &t);
            if (x < 0) {
                status = -3;
                break;
            }
            sym[k] = x;
        }
    }
    st[RC_LOWER] = d.lower, st[RC_RANGE] = d.range, st[RC_POINT] = d.point, st[RC_READ] = d.read;
    return status;
}

EXPORT int san_block_decode(const uint8_t *data, int64_t len, int64_t n, int contextual, int64_t *out) {
    byte_reader r = {data, len, 0};
    uint32_t ccum[CLASSES + 1], cums[CLASSES][TOKENS + 1];
    int present[CLASSES] = {0}, n_tables = 0, status;
    if (n > 0) {
        if (contextual) {
            if ((status = read_table(&r, CLASSES, ccum, present))) return status;
            for (int c = 0; c < CLASSES; c++)
                if (present[c] && (status = read_table(&r, TOKENS, cums[c], NULL))) return status;
        } else if ((status = read_table(&r, TOKENS, cums[0], NULL))) {
            return status;
        }
        n_tables = 1;
    }
    uint64_t n_words, n_extra;
    if ((status = read_varint(&r, (uint64_t)(r.len - r.pos) / 4, &n_words))) return status;
    if (4 * n_words > (uint64_t)(r.len - r.pos)) return BLK_TRUNCATED;
    range_decoder d = {data + r.pos, n_words, 0, 0, 0, 0};
    r.pos += 4 * (int64_t)n_words;
    if ((status = read_varint(&r, (uint64_t)(r.len - r.pos), &n_extra))) return status;
    if (n_extra > (uint64_t)(r.len - r.pos)) return BLK_TRUNCATED;
    const uint8_t *extra = data + r.pos;
    r.pos += (int64_t)n_extra;
    if (r.pos != r.len) return BLK_TRAILING;
    if (!n_tables) return BLK_OK;
    symbol_table ctable, tables[CLASSES];
    if (contextual) {
        table_index(&ctable, ccum, CLASSES);
        for (int c = 0; c < CLASSES; c++)
            if (present[c]) table_index(&tables[c], cums[c], TOKENS);
    } else {
        table_index(&tables[0], cums[0], TOKENS);
    }
    int32_t *tok = (int32_t *)calloc((size_t)n, sizeof(int32_t));
    if (!tok) return BLK_MEMORY;
    rd_start(&d);
    status = BLK_OK;
    if (!contextual) {
        for (int64_t i = 0; i < n && !status; i++) {
            int x = rd_symbol(&d, &tables[0]);
            if (x < 0) status = BLK_RANGE; else tok[i] = x;
        }
    } else {
        int64_t blocks = (n + 15) / 16;
        uint8_t *cls = (uint8_t *)malloc((size_t)blocks);
        if (!cls) { free(tok); return BLK_MEMORY; }
        for (int64_t b = 0; b < blocks && !status; b++) {
            int x = rd_symbol(&d, &ctable);
            if (x < 0) status = BLK_RANGE; else cls[b] = (uint8_t)x;
        }
        /* each present class in turn, its positions in order; others keep token 0 */
        for (int c = 0; c < CLASSES && !status; c++) {
            if (!present[c]) continue;
            for (int64_t b = 0; b < blocks && !status; b++) {
                if (cls[b] != c) continue;
                int64_t end = (b + 1) * 16 < n ? (b + 1) * 16 : n;
                for (int64_t i = b * 16; i < end; i++) {
                    int x = rd_symbol(&d, &tables[c]);
                    if (x < 0) { status = BLK_RANGE; break; }
                    tok[i] = x;
                }
            }
        }
        free(cls);
    }
    if (!status) {
        int s = san_unpack(tok, n, extra, (int64_t)n_extra, out);
        status = s == 0 ? BLK_OK : BLK_RAW_BITS;
    }
    free(tok);
    return status;
}

/* The encoder twin of san_block_decode: entropy.encode_arrays([e], [contextual]) in one call.
 * Returns the byte count written to `out` (capacity `cap`), or -1 when it does not fit. */
static void quantize_table(const int64_t *counts, int alphabet, uint64_t *freq) {
    int64_t total = 0;
    int n_used = 0, order[TOKENS];
    for (int i = 0; i < alphabet; i++) {
        total += counts[i];
        n_used += counts[i] > 0;
    }
    int64_t sum = 0;
    for (int i = 0; i < alphabet; i++) {
        freq[i] = counts[i] > 0 ? 1 + (uint64_t)((counts[i] * (TABLE_TOTAL - n_used)) / (total > 0 ? total : 1)) : 0;
        sum += (int64_t)freq[i];
    }
    /* the used symbols by descending count, ties by index (numpy's stable argsort of -counts) */
    int k = 0;
    for (int i = 0; i < alphabet; i++) {
        if (counts[i] <= 0) continue;
        int j = k++;
        while (j > 0 && counts[order[j - 1]] < counts[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int64_t short_by = TABLE_TOTAL - sum;
    for (int i = 0; i < (int)(short_by % n_used); i++) freq[order[i]] += 1;
    for (int i = 0; i < n_used; i++) freq[order[i]] += (uint64_t)(short_by / n_used);
}

typedef struct { uint8_t *p; int64_t cap, pos; } byte_writer;

static int put_varint(byte_writer *w, uint64_t value) {
    do {
        if (w->pos >= w->cap) return -1;
        uint8_t byte = value & 0x7F;
        value >>= 7;
        w->p[w->pos++] = byte | (value ? 0x80 : 0);
    } while (value);
    return 0;
}

static int put_table(byte_writer *w, const uint64_t *freq, int alphabet, uint32_t *cum) {
    int last = 0;
    for (int i = 0; i < alphabet; i++)
        if (freq[i]) last = i + 1;
    if (put_varint(w, (uint64_t)last)) return -1;
    for (int i = 0; i < last; i++)
        if (put_varint(w, freq[i])) return -1;
    uint64_t left = 0;
    for (int i = 0; i < alphabet; i++) {
        cum[i] = (uint32_t)(((left * (uint64_t)((1 << RC_PRECISION) - alphabet)) >> 14) + (uint64_t)i);
        left += freq[i];
    }
    cum[alphabet] = 1u << RC_PRECISION;
    return 0;
}

EXPORT int64_t san_block_encode(const int64_t *e, int64_t n, int contextual, const int8_t *class_table, int64_t row,
                                uint8_t *out, int64_t cap) {
    byte_writer w = {out, cap, 0};
    int64_t blocks = (n + 15) / 16, result = -1;
    int32_t *tok = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    uint64_t *val = (uint64_t *)malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    int32_t *sym = (int32_t *)malloc((size_t)(n + blocks + 1) * sizeof(int32_t));
    int32_t *cls = (int32_t *)malloc((size_t)(blocks ? blocks : 1) * sizeof(int32_t));
    uint32_t *words = (uint32_t *)malloc((size_t)(n + blocks + 8) * sizeof(uint32_t));
    uint32_t cums[CLASSES + 1][TOKENS + 1];
    int32_t sizes[CLASSES + 1];
    int64_t seg_len[CLASSES + 1];
    int32_t seg_model[CLASSES + 1];
    int nseg = 0;
    if (!tok || !val || !sym || !cls || !words) goto done;
    san_tokenize(e, n, tok, val);
    if (n > 0) {
        int64_t counts[TOKENS];
        uint64_t freq[TOKENS];
        if (!contextual) {
            memset(counts, 0, sizeof(counts));
            for (int64_t i = 0; i < n; i++) counts[tok[i]]++;
            quantize_table(counts, TOKENS, freq);
            if (put_table(&w, freq, TOKENS, cums[0])) goto done;
            memcpy(sym, tok, (size_t)n * sizeof(int32_t));
            sizes[0] = TOKENS, seg_len[0] = n, seg_model[0] = 0, nseg = 1;
        } else {
            san_classes(tok, n, class_table, row, cls);
            memset(counts, 0, sizeof(counts));
            for (int64_t b = 0; b < blocks; b++) counts[cls[b]]++;
            quantize_table(counts, CLASSES, freq);
            if (put_table(&w, freq, CLASSES, cums[0])) goto done;
            for (int64_t b = 0; b < blocks; b++) sym[b] = cls[b];
            sizes[0] = CLASSES, seg_len[0] = blocks, seg_model[0] = 0, nseg = 1;
            int64_t k = blocks;
            for (int c = 0; c < CLASSES; c++) {
                int64_t start = k;
                memset(counts, 0, sizeof(counts));
                for (int64_t b = 0; b < blocks; b++) {
                    if (cls[b] != c) continue;
                    int64_t end = (b + 1) * 16 < n ? (b + 1) * 16 : n;
                    for (int64_t i = b * 16; i < end; i++) {
                        sym[k++] = tok[i];
                        counts[tok[i]]++;
                    }
                }
                if (k == start) continue;
                quantize_table(counts, TOKENS, freq);
                if (put_table(&w, freq, TOKENS, cums[nseg])) goto done;
                sizes[nseg] = TOKENS, seg_len[nseg] = k - start, seg_model[nseg] = nseg;
                nseg++;
            }
        }
    }
    uint64_t st[8];
    san_rc_init(st, n + blocks + 8);
    if (nseg && san_rc_encode(st, words, sym, seg_len, seg_model, nseg, &cums[0][0], sizes, TOKENS + 1)) goto done;
    int64_t n_words = san_rc_finish(st, words);
    if (n_words < 0 || put_varint(&w, (uint64_t)n_words)) goto done;
    if (w.pos + 4 * n_words > w.cap) goto done;
    for (int64_t i = 0; i < n_words; i++) {
        uint32_t x = words[i];
        w.p[w.pos++] = x & 0xFF, w.p[w.pos++] = (x >> 8) & 0xFF, w.p[w.pos++] = (x >> 16) & 0xFF,
        w.p[w.pos++] = x >> 24;
    }
    int64_t extra = (san_raw_bits(tok, n) + 7) / 8;
    if (put_varint(&w, (uint64_t)extra) || w.pos + extra > w.cap) goto done;
    w.pos += san_pack_bits(val, tok, n, w.p + w.pos);
    result = w.pos;
done:
    free(tok), free(val), free(sym), free(cls), free(words);
    return result;
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "sancodec's compiled kernels (use via ctypes)",
                                    -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
