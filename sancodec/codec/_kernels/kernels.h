/* Shared declarations of sancodec's compiled kernels (see kernels.py, which calls them through ctypes).
 *
 * Each exported function mirrors a numpy reference in kernels.py and gives identical results:
 * integer arithmetic only, except the LPC autocorrelation, whose float sums run in a fixed order
 * (built with -ffp-contract=off). ctypes releases the GIL around every call.
 */
#ifndef SANCODEC_KERNELS_H
#define SANCODEC_KERNELS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

#define DIRECT 16      /* tokens below this are the value itself */
#define BLOCK 16       /* tokens per envelope class */
#define TOKENS 76      /* 16 direct tokens + bit lengths 5..64 */
#define CLASSES 16
#define TABLE_TOTAL (1 << 14)
#define RC_PRECISION 24

/* A vectorised loop three times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2, LZCNT) and the baseline, chosen at
 * load time through glibc's ifunc (GCC's target_clones): AVX2 doubles the values per instruction where the CPU has
 * it, AVX-512 doubles them again (the wavelet's lifting a third faster again on an EPYC that has it) and counts
 * leading zeros in vectors (the tokens). No fused multiply-adds any way (-ffp-contract=off) and no reassociation,
 * so all give the same bits. */
#if defined(SANCODEC_CLONE_BASELINE) /* scripts/clones.sh: one clone alone, to test it on a CPU that picks another */
#define TARGET_CLONES
#define WIDER_CLONES 0
#elif defined(SANCODEC_CLONE_AVX2)
#define TARGET_CLONES __attribute__((target("arch=x86-64-v3")))
#define WIDER_CLONES 1
#elif defined(__AVX512F__) /* a build for AVX-512 CPUs alone (CFLAGS="-march=native" on one, or x86-64-v4): its baseline
 * is the widest clone, and GCC 12 stopped with an internal compiler error making beats.c's narrower clones of it */
#define TARGET_CLONES
#define WIDER_CLONES 0
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
#define TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define WIDER_CLONES 1
#else
#define TARGET_CLONES
#define WIDER_CLONES 0
#endif
/* WIDER_CLONES: whether this build may run a clone wider than the baseline (an AVX2 one, where the CPU has it: a
 * kernel with a choice asks __builtin_cpu_supports, dependent.c's blocked trellis) */

static inline int bit_length(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }
/* bit_length without a branch (0 from v | 1's length less one): where zeros and nonzeros mix at random (a
 * histogram of quantised bands), a mispredicted branch per value costs more than the count. */
static inline int bit_length_branchless(uint64_t v) { return 64 - __builtin_clzll(v | 1) - (v == 0); }

/* The exponent numpy's frexp gives float64(|v|), capped at 65 (a histogram's last slot): below 2**53 the float is
 * exact and the exponent is the integer bit length. */
static inline int frexp_exponent(int64_t v) {
    uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if (m < (1ULL << 53)) return bit_length_branchless(m);
    int exp = 0;
    frexp((double)(int64_t)m, &exp);
    return exp > 65 ? 65 : exp;
}

/* tokens.c */
void san_tokenize(const int64_t *e, int64_t n, int32_t *tok, uint64_t *val);
int64_t san_pack_bits(const uint64_t *val, const int32_t *tok, int64_t n, uint8_t *out);
int64_t san_raw_bits(const int32_t *tok, int64_t n);
int san_unpack(const int32_t *tok, int64_t n, const uint8_t *data, int64_t nbytes, int64_t *out);
int64_t pack_low_bits(const uint64_t *val, const int32_t *tok, int64_t n, int skip, uint8_t *out);
int64_t raw_bit_count(const int32_t *tok, int64_t n, int skip);
int unpack_values(const int32_t *tok, const uint8_t *hi, int skip, int64_t n, const uint8_t *data, int64_t nbytes,
                  int64_t *out);
void san_classes(const int32_t *tok, int64_t n, const int8_t *table, int64_t row, int32_t *cls);

/* rangecoder.c: the encoder's state slots, and the decoder used by blocks.c */
enum { RC_LOWER, RC_RANGE, RC_INVERTED, RC_FIRST, RC_POS, RC_CAP, RC_POINT, RC_READ };
void san_rc_init(uint64_t *st, int64_t capacity);
int san_rc_encode(uint64_t *st, uint32_t *out, const int32_t *sym, const int64_t *seg_len, const int32_t *seg_model,
                  int64_t nseg, const uint32_t *cums, const int32_t *sizes, int64_t stride);
int64_t san_rc_finish(uint64_t *st, uint32_t *out);
int rc_flush_inverted(uint64_t *st, uint32_t *out, int carry);

/* Append one output word; 0, or -1 when the output is full. */
static inline int rc_emit(uint64_t *st, uint32_t *out, uint32_t word) {
    if (st[RC_POS] >= st[RC_CAP]) return -1;
    out[st[RC_POS]++] = word;
    return 0;
}

/* The interval [lower, lower + range) a symbol narrowed the coder's to, taken: a carry into the words held back
 * flushed, and a range below 2^32 shifted by a word (out). 0, or -1 when the output is full. */
static inline int rc_take(uint64_t *st, uint32_t *out, uint64_t lower, uint64_t range) {
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
    return 0;
}

/* Encode one symbol `x` under the cumulative table `cum`; 0, or -1 when the output is full. Inline: the
 * encoders' inner loop (one call per value). */
static inline int rc_put(uint64_t *st, uint32_t *out, const uint32_t *cum, int32_t x) {
    uint64_t scale = st[RC_RANGE] >> RC_PRECISION;
    return rc_take(st, out, st[RC_LOWER] + scale * (uint64_t)cum[x], scale * (uint64_t)(cum[x + 1] - cum[x]));
}

/* rc_put of one binary symbol under the table {0, c1, 2^24} (bit_cum), bit for bit, without the table: the
 * encoders' inner loop in adaptive bands and MSB mode, one call per binary decision (a table on the stack put a
 * store and a load between a decision and the next). */
static inline int rc_put_bit(uint64_t *st, uint32_t *out, uint32_t c1, int bit) {
    uint64_t scale = st[RC_RANGE] >> RC_PRECISION;
    uint64_t split = scale * (uint64_t)c1;  /* scale * cum[1]; scale * (cum[2] - cum[1]) is scale * 2^24 - split */
    return rc_take(st, out, st[RC_LOWER] + (bit ? split : 0), bit ? (scale << RC_PRECISION) - split : split);
}

/* `offset`: the point read so far less the interval's lower end (mod 2^64), the one difference the
 * decoding needs of the two (the encoder's lower end and the stream's point move together). */
typedef struct { const uint8_t *words; uint64_t n, read, range, offset; } range_decoder;
typedef struct { const uint32_t *cum; int n; uint8_t start[256]; } symbol_table;
void rd_start(range_decoder *d);
void table_index(symbol_table *t, const uint32_t *cum, int n);

/* The input word i (little-endian). */
static inline uint32_t word_at(const range_decoder *d, uint64_t i) {
    const uint8_t *w = d->words + 4 * i;
    return (uint32_t)w[0] | ((uint32_t)w[1] << 8) | ((uint32_t)w[2] << 16) | ((uint32_t)w[3] << 24);
}

/* After a symbol: a range below 2^32 shifts in the next input word. */
static inline void rd_renormalize(range_decoder *d) {
    if (d->range < (1ULL << 32)) {
        d->range <<= 32;
        d->offset <<= 32;  /* (point << 32 | word) - (lower << 32) = (point - lower) << 32 | word */
        if (d->read < d->n) d->offset |= word_at(d, d->read++);
    }
}

/* One symbol under table t, or -1 for a stream no encoder wrote. Inline: it is the decoders' inner
 * loop (running.c, blocks.c), one call per residual value. */
static inline int rd_symbol_at(range_decoder *d, const uint32_t *cum, const uint8_t *start, int n) {
    uint64_t scale = d->range >> RC_PRECISION;
    /* the first symbol (a zero token: most of a sparse band's) without the division, as rd_bit tests:
     * floor(offset / scale) < cum[1] <=> offset < cum[1] * scale, which cannot wrap (cum[1] <= 2^24);
     * its interval [0, cum[1]) is that product, and cum[0] = 0 */
    uint64_t first = scale * (uint64_t)cum[1];
    if (d->offset < first) {
        d->range = first;
        rd_renormalize(d);
        return 0;
    }
    uint64_t quantile = d->offset / scale;
    if (quantile >= (1ULL << RC_PRECISION)) return -1;
    int lo = start[quantile >> 16];
    while (lo + 1 < n && cum[lo + 1] <= quantile) lo++;
    d->offset -= scale * (uint64_t)cum[lo];
    d->range = scale * (uint64_t)(cum[lo + 1] - cum[lo]);
    rd_renormalize(d);
    return lo;
}

static inline int rd_symbol(range_decoder *d, const symbol_table *t) { return rd_symbol_at(d, t->cum, t->start, t->n); }

/* The cumulative of a 0 under probability f / 2^14: the coder's rule for the table {f, 2^14 - f}, which
 * rangecoder.cumulative spells out (running contexts' MSB mode, adaptive bands). */
static inline uint32_t bit_cum(uint16_t f) {
    return (uint32_t)((((uint64_t)f * ((1u << RC_PRECISION) - 2)) >> 14) + 1);
}

/* One binary symbol whose 0 takes the cumulative [0, c1) of 2^24 (bit_cum), or -1 for a stream no encoder
 * wrote. */
static inline int rd_bit(range_decoder *d, uint32_t c1) {
    /* the quantile offset / scale compared without the division: floor(a / s) >= c <=> a >= c * s, and
     * scale << RC_PRECISION is at most the range (no wrap) */
    uint64_t scale = d->range >> RC_PRECISION;
    if (d->offset >= scale << RC_PRECISION) return -1;
    /* both intervals from the one product scale * c1: a multiplication less between a decision and the next */
    uint64_t split = scale * c1;
    int bit = d->offset >= split;
    d->offset -= bit ? split : 0;
    d->range = bit ? (scale << RC_PRECISION) - split : split;
    rd_renormalize(d);
    return bit;
}

/* blocks.c: one entropy-coded array (0, or an error code > 0), and the pieces running.c shares */
enum { BLK_OK = 0, BLK_TRUNCATED = 1, BLK_VARINT_LONG = 2, BLK_LIMIT = 3, BLK_EMPTY_TABLE = 4, BLK_TABLE_SUM = 5,
       BLK_TRAILING = 6, BLK_RANGE = 7, BLK_RAW_BITS = 8, BLK_MEMORY = 9 };
typedef struct { const uint8_t *p; int64_t len, pos; } byte_reader;
typedef struct { uint8_t *p; int64_t cap, pos; } byte_writer;
typedef struct { const uint8_t *p; int64_t len; } raw_bits;
int san_block_decode(const uint8_t *data, int64_t len, int64_t n, int contextual, int64_t *out);
int read_varint(byte_reader *r, uint64_t limit, uint64_t *out);
int read_table(byte_reader *r, int alphabet, uint32_t *cum, int *nonzero);
int read_streams(byte_reader *r, range_decoder *d, raw_bits *extra);
void quantize_table(const int64_t *counts, int alphabet, uint64_t *freq);
int put_varint(byte_writer *w, uint64_t value);
int put_table(byte_writer *w, const uint64_t *freq, int alphabet, uint32_t *cum);
int write_streams(byte_writer *w, uint64_t *st, uint32_t *words, const int32_t *tok, const uint64_t *val, int64_t n);
int put_streams(byte_writer *w, const uint32_t *words, int64_t n_words, const int32_t *tok, const uint64_t *val,
                int64_t n, int skip);

/* running.c: residual tokens under running contexts (format 1.5) */
int running_decode(const uint8_t *data, int64_t len, int64_t n, int64_t *out);

/* cascade.c: the long adaptive stages (format 1.8) */
int san_cascade_inverse(const int64_t *o, int64_t n, const int32_t *orders, const int32_t *shifts, int stages,
                        int64_t limit, int64_t *x);

/* The coder's cumulative table of frequencies summing to 2**14 (see rangecoder.py). */
void cumulative_table(const uint64_t *freq, int alphabet, uint32_t *cum);

#endif
