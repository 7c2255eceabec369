/* Range coder, bit-compatible with constriction 0.4/0.5's RangeEncoder/RangeDecoder. */
#include "kernels.h"

/* floor(C_i * (2**24 - N) / 2**14) + i: constriction's Categorical(perfect=False) quantisation of the
 * probabilities freq / 2**14, which its float arithmetic computes exactly (dyadic products). */
void cumulative_table(const uint64_t *freq, int alphabet, uint32_t *cum) {
    uint64_t left = 0;
    for (int i = 0; i < alphabet; i++) {
        cum[i] = (uint32_t)(((left * (uint64_t)((1 << RC_PRECISION) - alphabet)) >> 14) + (uint64_t)i);
        left += freq[i];
    }
    cum[alphabet] = 1u << RC_PRECISION;
}

/* ------------------------------------------------------------------------------------------------
 * Range coder, bit-compatible with constriction 0.4/0.5's RangeEncoder/RangeDecoder (32-bit words,
 * 64-bit state) and its Categorical(perfect=False) model at 24-bit precision. The model's
 * cumulative table cum[0..N] (cum[N] = 2**24) comes from Python (kernels.cumulative). State is
 * eight uint64 slots owned by the caller: lower, range, inverted count, first inverted word,
 * output position, output capacity, point, input position.
 */

/* The words of an inverted run (the last word before it, then 0xFFFFFFFF each), settled by `carry`. */
int rc_flush_inverted(uint64_t *st, uint32_t *out, int carry) {
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
            if (rc_put(st, out, cum, x)) return -1;
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


void rd_start(range_decoder *d) {
    d->range = UINT64_MAX;
    d->offset = 0;  /* the lower end starts at 0: the offset is the point */
    d->read = 0;
    while (d->read < 2 && d->read < d->n) d->offset = (d->offset << 32) | word_at(d, d->read++);
    if (d->read == 1) d->offset <<= 32;
}

/* Symbol search: `start[quantile >> 16]` is the first symbol whose interval reaches that 2**16 bucket. */

void table_index(symbol_table *t, const uint32_t *cum, int n) {
    t->cum = cum;
    t->n = n;
    int x = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t q = (uint32_t)b << 16;
        while (x + 1 < n && cum[x + 1] <= q) x++;
        t->start[b] = (uint8_t)x;
    }
}

/* The segment decoder behind rangecoder.RangeDecoder: its state lives in eight uint64 slots
 * (RC_RANGE, RC_POINT: the decoder's offset, RC_READ, RC_CAP: the word count) between calls; `words` are
 * the stream's little-endian bytes. */
EXPORT void san_rd_init(uint64_t *st, const uint8_t *words, int64_t n) {
    range_decoder d = {words, (uint64_t)n, 0, 0, 0};
    rd_start(&d);
    memset(st, 0, 8 * sizeof(uint64_t));
    st[RC_RANGE] = d.range, st[RC_POINT] = d.offset, st[RC_READ] = d.read;
    st[RC_CAP] = (uint64_t)n;
}

/* Decode segments (as san_rc_encode); 0 on success, -3 for data no encoder could have written. */
EXPORT int san_rd_decode(uint64_t *st, const uint8_t *words, int32_t *sym, const int64_t *seg_len,
                         const int32_t *seg_model, int64_t nseg, const uint32_t *cums, const int32_t *sizes,
                         int64_t stride) {
    range_decoder d = {words, st[RC_CAP], st[RC_READ], st[RC_RANGE], st[RC_POINT]};
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
    st[RC_RANGE] = d.range, st[RC_POINT] = d.offset, st[RC_READ] = d.read;
    return status;
}

