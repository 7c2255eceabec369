/* Residual tokens under running contexts (format 1.5; running.py holds the Python reference).
 *
 * Each token is coded with the table of its context: a class of the running mean of the tokens before
 * it, which the decoder follows sample by sample, so the envelope costs no side information (block
 * classes send one class per 16 tokens; docs/PREDICTORS.md has what this saves). With `split`, each
 * context is halved again by whether the last token lies above the running mean (EMG residuals come
 * in bursts). A block is: varint 0 (what tells it from a block-class block, whose class table is
 * never empty), varint params = (k - 1) | m << 2 | split << 4, varint mask of the contexts that have
 * a table, those tables in context order, then the range-coded tokens and the raw bits exactly as
 * in a block-class block.
 */
#include "kernels.h"

#define RUN_CONTEXTS 64
#define RUN_MAX_PARAMS 31 /* k in 1..4, m in 0..2, split 0 or 1 */

/* The context of the running mean `acc` (16 x the mean token): 2^m steps per octave of 1 + mean, at
 * most 31; with `split`, doubled and 1 added when the last token `last` lies above the mean. */
static inline int running_context(uint32_t acc, int m, int split, int32_t last) {
    uint32_t y = acc + 16;
    int b = bit_length(y) - 5;
    int c = (b << m) | (int)((y >> (b + 4 - m)) & ((1u << m) - 1));
    c = c < 31 ? c : 31;
    return split ? 2 * c + ((uint32_t)last << 4 > acc) : c;
}

/* The running mean after token `t`, the newest weighted 2^-k (it stays below 16 * TOKENS + 2^k). */
static inline uint32_t running_next(uint32_t acc, int k, int32_t t) {
    return acc - (acc >> k) + ((uint32_t)t << (4 - k));
}

int running_decode(const uint8_t *data, int64_t len, int64_t n, int64_t *out) {
    byte_reader r = {data, len, 0};
    uint64_t zero, params, mask;
    uint32_t cums[RUN_CONTEXTS][TOKENS + 1];
    int status;
    if ((status = read_varint(&r, 0, &zero)) || (status = read_varint(&r, RUN_MAX_PARAMS, &params)) ||
        (status = read_varint(&r, UINT64_MAX, &mask)))
        return status;
    int k = (int)(params & 3) + 1, m = (int)(params >> 2 & 3), split = (int)(params >> 4);
    if (m > 2) return BLK_LIMIT;
    for (int c = 0; c < RUN_CONTEXTS; c++)
        if ((mask >> c & 1) && (status = read_table(&r, TOKENS, cums[c], NULL))) return status;
    range_decoder d;
    raw_bits extra;
    if ((status = read_streams(&r, &d, &extra)) || n == 0) return status;
    symbol_table tables[RUN_CONTEXTS];
    for (int c = 0; c < RUN_CONTEXTS; c++)
        if (mask >> c & 1) table_index(&tables[c], cums[c], TOKENS);
    int32_t *tok = (int32_t *)malloc((size_t)n * sizeof(int32_t));
    if (!tok) return BLK_MEMORY;
    rd_start(&d);
    uint32_t acc = 0;
    int32_t last = 0;
    for (int64_t i = 0; i < n && !status; i++) {
        int c = running_context(acc, m, split, last);
        int x = (mask >> c & 1) ? rd_symbol(&d, &tables[c]) : -1; /* a context without a table: no encoder's */
        if (x < 0) status = BLK_RANGE;
        else tok[i] = last = x, acc = running_next(acc, k, x);
    }
    if (!status) status = san_unpack(tok, n, extra.p, extra.len, out) ? BLK_RAW_BITS : BLK_OK;
    free(tok);
    return status;
}

/* The context of each token under `params` (into `ctx` when given) and the token counts by context
 * (`cnt[c * TOKENS + t]`, added to): the pass both the encoder and its choice of params make. */
static void count_contexts(const int32_t *tok, int64_t n, int params, int64_t *cnt, uint8_t *ctx) {
    const int k = (params & 3) + 1, m = params >> 2 & 3, split = params >> 4;
    uint32_t acc = 0;
    int32_t last = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t t = tok[i];
        int c = running_context(acc, m, split, last);
        if (ctx) ctx[i] = (uint8_t)c;
        cnt[c * TOKENS + t]++;
        acc = running_next(acc, k, t);
        last = t;
    }
}

/* Token counts by context (counts[j][c][t]) of the tokens `tok` under each of `np` param sets, one
 * pass per set: what the encoder's choice of params estimates from. */
EXPORT void san_running_counts(const int32_t *tok, int64_t n, const int32_t *params, int np, int64_t *counts) {
    memset(counts, 0, (size_t)np * RUN_CONTEXTS * TOKENS * sizeof(int64_t));
    for (int j = 0; j < np; j++) count_contexts(tok, n, params[j], counts + (int64_t)j * RUN_CONTEXTS * TOKENS, NULL);
}

/* The encoder: `e` coded under running contexts with `params`; the byte count written to `out`
 * (capacity `cap`), or -1 when it does not fit or memory runs out. */
EXPORT int64_t san_running_encode(const int64_t *e, int64_t n, int params, uint8_t *out, int64_t cap) {
    byte_writer w = {out, cap, 0};
    int64_t result = -1;
    int32_t *tok = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    uint64_t *val = (uint64_t *)malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    uint8_t *ctx = (uint8_t *)malloc((size_t)(n ? n : 1));
    uint32_t *words = (uint32_t *)malloc((size_t)(n + 8) * sizeof(uint32_t));
    int64_t(*counts)[TOKENS] = calloc(RUN_CONTEXTS, sizeof(*counts));
    uint32_t(*cums)[TOKENS + 1] = malloc(RUN_CONTEXTS * sizeof(*cums));
    if (!tok || !val || !ctx || !words || !counts || !cums || params < 0 || params > RUN_MAX_PARAMS ||
        (params >> 2 & 3) > 2)
        goto done;
    san_tokenize(e, n, tok, val);
    count_contexts(tok, n, params, &counts[0][0], ctx);
    uint64_t mask = 0, freq[TOKENS];
    for (int c = 0; c < RUN_CONTEXTS; c++)
        for (int t = 0; t < TOKENS && !(mask >> c & 1); t++) mask |= (uint64_t)(counts[c][t] > 0) << c;
    if (put_varint(&w, 0) || put_varint(&w, (uint64_t)params) || put_varint(&w, mask)) goto done;
    for (int c = 0; c < RUN_CONTEXTS; c++) {
        if (!(mask >> c & 1)) continue;
        quantize_table(counts[c], TOKENS, freq);
        if (put_table(&w, freq, TOKENS, cums[c])) goto done;
    }
    uint64_t st[8];
    san_rc_init(st, n + 8);
    for (int64_t i = 0; i < n; i++)
        if (rc_put(st, words, cums[ctx[i]], tok[i])) goto done;
    if (!write_streams(&w, st, words, tok, val, n)) result = w.pos;
done:
    free(tok), free(val), free(ctx), free(words), free(counts), free(cums);
    return result;
}
