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
 *
 * MSB mode (params bit 5, format 1.8): after each token of 16 or more, the top MSB_BITS (or fewer) bits of
 * its mantissa are range-coded too, each with an adaptive probability of its own (by context, token, bit
 * and, for the second, the first bit's value), and only the bits below them go raw. A residual's values
 * fall off within an octave, so those bits are not uniform: about 0.8 % of a103l's bytes.
 */
#include "kernels.h"

#define RUN_CONTEXTS 64
#define RUN_MAX_PARAMS 63 /* k in 1..4, m in 0..2, split 0 or 1, msb 0 or 1 */
#define RUN_MSB 32
#define RUN_EITHER 64 /* the encoder's request: with or without MSB mode, whichever is smaller */
/* running_next keeps the running mean at most 16 * (TOKENS - 1): from acc <= A = 16 * (TOKENS - 1) and a token
 * t <= TOKENS - 1 it gives at most A - (A >> k) + (A >> k) = A (A is a multiple of 2^k, k <= 4) */
#define RUN_ACC_LIMIT (16 * TOKENS)
#define MSB_BITS 2
#define MSB_SLOTS 3 /* the first bit; the second after a 0; the second after a 1 */
#define MSB_MODELS (RUN_CONTEXTS * (TOKENS - DIRECT) * MSB_SLOTS)
#define MSB_START 8192 /* 2^13 of 2^14: one half */
#define MSB_MIN 32
#define MSB_RATE 5

/* The adaptive probability of a 0, in 2^-14, after coding `bit`. */
static inline void msb_update(uint16_t *f, int bit) {
    int v = bit ? *f - (*f >> MSB_RATE) : *f + ((TABLE_TOTAL - *f) >> MSB_RATE);
    *f = (uint16_t)(v < MSB_MIN ? MSB_MIN : (v > TABLE_TOTAL - MSB_MIN ? TABLE_TOTAL - MSB_MIN : v));
}

/* Where the models of the mantissa bits of token t (>= DIRECT) in context c start. */
static inline uint16_t *msb_models(uint16_t *models, int c, int32_t t) {
    return models + ((int64_t)c * (TOKENS - DIRECT) + (t - DIRECT)) * MSB_SLOTS;
}

static inline int msb_count(int32_t t) {
    int w = t - 12;
    return w < MSB_BITS ? w : MSB_BITS;
}

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

/* running_context's class without the split for every running mean (below RUN_ACC_LIMIT: running_next keeps it
 * there) under m, into lut: a load per token in the counting passes instead of a bit length, two shifts and a
 * minimum (the decoder looks it up so too). */
static void context_table(int m, uint8_t *lut) {
    for (uint32_t a = 0; a < RUN_ACC_LIMIT; a++) lut[a] = (uint8_t)running_context(a, m, 0, 0);
}

/* running_context from the table of context_table: the same class. */
static inline int table_context(const uint8_t *lut, uint32_t acc, int split, int32_t last) {
    const int c = lut[acc];
    return split ? 2 * c + ((uint32_t)last << 4 > acc) : c;
}

int running_decode(const uint8_t *data, int64_t len, int64_t n, int64_t *out) {
    byte_reader r = {data, len, 0};
    uint64_t zero, params, mask;
    uint32_t cums[RUN_CONTEXTS][TOKENS + 1];
    int status;
    if ((status = read_varint(&r, 0, &zero)) || (status = read_varint(&r, RUN_MAX_PARAMS, &params)) ||
        (status = read_varint(&r, UINT64_MAX, &mask)))
        return status;
    int k = (int)(params & 3) + 1, m = (int)(params >> 2 & 3), split = (int)(params >> 4 & 1);
    int msb = (params & RUN_MSB) != 0;
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
    uint8_t *hi = msb ? (uint8_t *)malloc((size_t)n) : NULL;
    uint16_t *models = msb ? (uint16_t *)malloc(MSB_MODELS * sizeof(uint16_t)) : NULL;
    if (!tok || (msb && (!hi || !models))) {
        free(tok), free(hi), free(models);
        return BLK_MEMORY;
    }
    for (int64_t j = 0; msb && j < MSB_MODELS; j++) models[j] = MSB_START;
    rd_start(&d);
    uint8_t lut[RUN_ACC_LIMIT]; /* running_context's class without the split, by running mean: one load */
    context_table(m, lut);
    uint32_t acc = 0;
    int32_t last = 0;
    for (int64_t i = 0; i < n && !status; i++) {
        int c = table_context(lut, acc, split, last);
        /* a context without a table: no encoder's. The table's cumulatives are cums[c], an address computed
         * from c rather than loaded (tables[c].cum): one load less between a token and the next. */
        int x = (mask >> c & 1) ? rd_symbol_at(&d, cums[c], tables[c].start, TOKENS) : -1;
        if (x < 0) {
            status = BLK_RANGE;
            break;
        }
        tok[i] = last = x, acc = running_next(acc, k, x);
        if (!msb) continue;
        hi[i] = 0;
        if (x < DIRECT) continue;
        uint16_t *f = msb_models(models, c, x);
        for (int b = 0, slot = 0, count = msb_count(x); b < count; b++) {
            int bit = rd_bit(&d, bit_cum(f[slot]));
            if (bit < 0) {
                status = BLK_RANGE;
                break;
            }
            msb_update(&f[slot], bit);
            hi[i] = (uint8_t)(hi[i] << 1 | bit);
            slot = 1 + bit;
        }
    }
    if (!status) status = unpack_values(tok, hi, msb ? MSB_BITS : 0, n, extra.p, extra.len, out) ? BLK_RAW_BITS : BLK_OK;
    free(tok), free(hi), free(models);
    return status;
}

#define ZERO_BLOCK 8 /* the counting passes take zero tokens at once (zero_run) from two aligned blocks of this many */

/* Where the counting passes go one token at a time, [from, start), and where they take zeros at once,
 * [start, end): the zeros after the first of a run (so the last token before each is 0). */
typedef struct { int64_t start, end; } zero_stretch;

/* Whether the ZERO_BLOCK tokens from `t` are all 0 (no branch within: the ORs vectorise). */
static inline int zero_block(const int32_t *t) {
    int32_t any = 0;
    for (int j = 0; j < ZERO_BLOCK; j++) any |= t[j];
    return any == 0;
}

/* The next run of zero tokens from `i` on that holds two whole aligned blocks of ZERO_BLOCK, as a zero_stretch
 * from its first aligned block's second zero to the run's end; (n, n) where there is none. A block at a time:
 * a small part of a pass's time where zeros and other tokens mix. */
static inline zero_stretch next_zero_run(const int32_t *tok, int64_t i, int64_t n) {
    for (int64_t b = (i + ZERO_BLOCK - 1) / ZERO_BLOCK * ZERO_BLOCK; b + 2 * ZERO_BLOCK <= n; b += ZERO_BLOCK) {
        if (!zero_block(tok + b) || !zero_block(tok + b + ZERO_BLOCK)) continue;
        int64_t end = b + 2 * ZERO_BLOCK;
        while (end + ZERO_BLOCK <= n && zero_block(tok + end)) end += ZERO_BLOCK;
        while (end < n && tok[end] == 0) end++;
        return (zero_stretch){b + 1, end};
    }
    return (zero_stretch){n, n};
}

/* `len` zero tokens after a zero (so the last token is 0 throughout) under (k, m, split), from the running mean
 * `acc`: their contexts (into `ctx` when given) and counts (into `cnt` when given), and the running mean after
 * them. Where a zero leaves the mean as it is (acc >> k == 0) every zero after it has the same context: those
 * are counted and set at once, not one by one (most of a fine band at a loose target is long runs of zeros).
 * The same contexts and counts as a token-by-token pass makes. */
static uint32_t zero_run(uint32_t acc, int k, int m, int split, int64_t *cnt, uint8_t *ctx, int64_t len) {
    int64_t j = 0;
    for (; j < len && (acc >> k); j++) {
        int c = running_context(acc, m, split, 0);
        if (ctx) ctx[j] = (uint8_t)c;
        if (cnt) cnt[c * TOKENS]++;
        acc -= acc >> k; /* running_next(acc, k, 0) */
    }
    if (j < len) {
        int c = running_context(acc, m, split, 0);
        if (ctx) memset(ctx + j, c, (size_t)(len - j));
        if (cnt) cnt[c * TOKENS] += len - j;
    }
    return acc;
}

/* The context of each token under `params` (into `ctx` when given) and, when `cnt` is given, the token counts by
 * context (`cnt[c * TOKENS + t]`, added to): the pass both the encoder and its choice of params make. */
TARGET_CLONES static void count_contexts(const int32_t *tok, int64_t n, int params, int64_t *cnt, uint8_t *ctx) {
    const int k = (params & 3) + 1, m = params >> 2 & 3, split = params >> 4 & 1;
    uint8_t lut[RUN_ACC_LIMIT];
    context_table(m, lut);
    uint32_t acc = 0;
    int32_t last = 0;
    for (int64_t i = 0; i < n;) {
        zero_stretch run = next_zero_run(tok, i, n);
        for (; i < run.start; i++) {
            int32_t t = tok[i];
            int c = table_context(lut, acc, split, last);
            if (ctx) ctx[i] = (uint8_t)c;
            if (cnt) cnt[c * TOKENS + t]++;
            acc = running_next(acc, k, t);
            last = t;
        }
        acc = zero_run(acc, k, m, split, cnt, ctx ? ctx + i : NULL, run.end - i);
        i = run.end;
    }
}

/* Token counts by context (counts[j][c][t]) of the tokens `tok` under each of `np` param sets, one
 * pass per set: what the encoder's choice of params estimates from. */
TARGET_CLONES EXPORT void san_running_counts(const int32_t *tok, int64_t n, const int32_t *params, int np,
                                           int64_t *counts) {
    memset(counts, 0, (size_t)np * RUN_CONTEXTS * TOKENS * sizeof(int64_t));
    int j = 0;
    for (; j + 4 <= np; j += 4) { /* four sets in one pass: four independent running means overlap */
        int k[4], m[4], split[4];
        uint32_t acc[4] = {0, 0, 0, 0};
        int64_t *cnt[4];
        uint8_t lut[4][RUN_ACC_LIMIT];
        for (int q = 0; q < 4; q++) {
            k[q] = (params[j + q] & 3) + 1, m[q] = params[j + q] >> 2 & 3, split[q] = params[j + q] >> 4 & 1;
            cnt[q] = counts + (int64_t)(j + q) * RUN_CONTEXTS * TOKENS;
            context_table(m[q], lut[q]);
        }
        int32_t last = 0;
        for (int64_t i = 0; i < n;) {
            zero_stretch run = next_zero_run(tok, i, n);
            for (; i < run.start; i++) {
                const int32_t t = tok[i];
                for (int q = 0; q < 4; q++) {
                    cnt[q][table_context(lut[q], acc[q], split[q], last) * TOKENS + t]++;
                    acc[q] = running_next(acc[q], k[q], t);
                }
                last = t;
            }
            for (int q = 0; q < 4 && run.end > i; q++)
                acc[q] = zero_run(acc[q], k[q], m[q], split[q], cnt[q], NULL, run.end - i);
            i = run.end;
        }
    }
    for (; j < np; j++) count_contexts(tok, n, params[j], counts + (int64_t)j * RUN_CONTEXTS * TOKENS, NULL);
}

/* The encoder's estimate for each of `np` param sets from their counts (san_running_counts): bits of the tokens
 * under each context's table, plus 12 bits per table entry up to its last used token (running._estimates). */
EXPORT void san_running_costs(const int64_t *counts, int np, double *costs) {
    for (int j = 0; j < np; j++) {
        double info = 0.0;
        int64_t entries = 0;
        for (int c = 0; c < RUN_CONTEXTS; c++) {
            const int64_t *row = counts + ((int64_t)j * RUN_CONTEXTS + c) * TOKENS;
            int64_t total = 0;
            int last = 0;
            for (int t = 0; t < TOKENS; t++)
                if (row[t]) total += row[t], last = t + 1;
            for (int t = 0; t < last; t++)
                if (row[t]) info += (double)row[t] * log2((double)total / (double)row[t]);
            entries += last;
        }
        costs[j] = info + 12.0 * (double)entries;
    }
}

static int varint_size(uint64_t v) {
    int k = 1;
    for (; v >= 128; v >>= 7) k++;
    return k;
}

/* Bytes of the streams part of a block: the words' count, the words, the raw bytes' count, the raw bytes. */
static int64_t streams_size(int64_t n_words, int64_t raw_bytes) {
    return varint_size((uint64_t)n_words) + 4 * n_words + varint_size((uint64_t)raw_bytes) + raw_bytes;
}

/* The range-coded tokens (and, in MSB mode, their top mantissa bits) into a fresh stream; its word count,
 * or -1 when the words do not fit. */
static int64_t code_tokens(const int32_t *tok, const uint64_t *val, const uint8_t *ctx, int64_t n,
                           const uint32_t (*cums)[TOKENS + 1], int msb, uint16_t *models, uint32_t *words) {
    uint64_t st[8];
    san_rc_init(st, 3 * n + 8);
    for (int64_t j = 0; msb && j < MSB_MODELS; j++) models[j] = MSB_START;
    for (int64_t i = 0; i < n; i++) {
        const int32_t t = tok[i];
        if (rc_put(st, words, cums[ctx[i]], t)) return -1;
        if (!msb || t < DIRECT) continue;
        uint16_t *f = msb_models(models, ctx[i], t);
        const int w = t - 12;
        for (int b = 0, slot = 0, count = msb_count(t); b < count; b++) {
            const int bit = (int)(val[i] >> (w - 1 - b) & 1);
            if (rc_put_bit(st, words, bit_cum(f[slot]), bit)) return -1;
            msb_update(&f[slot], bit);
            slot = 1 + bit;
        }
    }
    return san_rc_finish(st, words);
}

/* The block san_running_encode makes of the tokens `tok` (values `val`), their contexts `ctx` under `params` and
 * their counts by context: its byte count in `out` (capacity `cap`), or -1 when it does not fit or memory runs
 * out; `either` as RUN_EITHER there. */
static int64_t running_block(const int32_t *tok, const uint64_t *val, const uint8_t *ctx, int64_t n, int params,
                             int either, const int64_t (*counts)[TOKENS], uint8_t *out, int64_t cap) {
    byte_writer w = {out, cap, 0};
    int64_t result = -1;
    uint32_t *words = (uint32_t *)malloc((size_t)(3 * n + 8) * sizeof(uint32_t)); /* MSB mode: 3 symbols a value */
    uint32_t *other = either ? (uint32_t *)malloc((size_t)(3 * n + 8) * sizeof(uint32_t)) : NULL;
    uint16_t *models = (uint16_t *)malloc(MSB_MODELS * sizeof(uint16_t));
    uint32_t(*cums)[TOKENS + 1] = malloc(RUN_CONTEXTS * sizeof(*cums));
    if (!words || (either && !other) || !cums || !models) goto done;
    uint64_t mask = 0, freq[TOKENS];
    for (int c = 0; c < RUN_CONTEXTS; c++)
        for (int t = 0; t < TOKENS && !(mask >> c & 1); t++) mask |= (uint64_t)(counts[c][t] > 0) << c;
    if (put_varint(&w, 0) || put_varint(&w, (uint64_t)params) || put_varint(&w, mask)) goto done;
    for (int c = 0; c < RUN_CONTEXTS; c++) {
        if (!(mask >> c & 1)) continue;
        quantize_table(counts[c], TOKENS, freq);
        if (put_table(&w, freq, TOKENS, cums[c])) goto done;
    }
    int msb = (params & RUN_MSB) != 0;
    int64_t n_words = code_tokens(tok, val, ctx, n, (const uint32_t(*)[TOKENS + 1])cums, msb, models, words);
    if (n_words < 0) goto done;
    if (either) { /* the same header; the streams decide */
        int64_t m_words = code_tokens(tok, val, ctx, n, (const uint32_t(*)[TOKENS + 1])cums, 1, models, other);
        if (m_words < 0) goto done;
        int64_t plain = streams_size(n_words, (raw_bit_count(tok, n, 0) + 7) / 8);
        int64_t coded = streams_size(m_words, (raw_bit_count(tok, n, MSB_BITS) + 7) / 8);
        if (coded < plain) { /* params is one byte, after the leading 0 */
            out[1] = (uint8_t)(params | RUN_MSB);
            uint32_t *swap = words;
            words = other, other = swap, n_words = m_words, msb = 1;
        }
    }
    if (!put_streams(&w, words, n_words, tok, val, n, msb ? MSB_BITS : 0)) result = w.pos;
done:
    free(words), free(other), free(cums), free(models);
    return result;
}

/* Whether `params` is a param set a block may carry (k, m, split and MSB mode within the format's range). */
static int valid_params(int params) { return params >= 0 && params <= RUN_MAX_PARAMS && (params >> 2 & 3) <= 2; }

/* The encoder: `e` coded under running contexts with `params`; the byte count written to `out`
 * (capacity `cap`), or -1 when it does not fit or memory runs out. With RUN_EITHER (not a format
 * bit), the smaller of the coding with and without MSB mode (ties: without), sharing the tables. */
EXPORT int64_t san_running_encode(const int64_t *e, int64_t n, int params, uint8_t *out, int64_t cap) {
    int64_t result = -1;
    const int either = (params & RUN_EITHER) != 0;
    params &= ~RUN_EITHER;
    int32_t *tok = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    uint64_t *val = (uint64_t *)malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    uint8_t *ctx = (uint8_t *)malloc((size_t)(n ? n : 1));
    int64_t(*counts)[TOKENS] = calloc(RUN_CONTEXTS, sizeof(*counts));
    if (!tok || !val || !ctx || !counts || !valid_params(params) || (either && (params & RUN_MSB))) goto done;
    san_tokenize(e, n, tok, val);
    count_contexts(tok, n, params, &counts[0][0], ctx);
    result = running_block(tok, val, ctx, n, params, either, (const int64_t(*)[TOKENS])counts, out, cap);
done:
    free(tok), free(val), free(ctx), free(counts);
    return result;
}

#define CHOOSE_ONLY_PAYING 1 /* san_running_choose_encode: no block where one table's estimate is no more */
#define CHOOSE_EITHER 2      /* ... its block with or without MSB mode, whichever is smaller (RUN_EITHER) */

/* running.weigh then running.encode (or encode_either) in one call, the tokens and counts made once: the param
 * set of `params` (`np` of them, none with MSB mode) whose estimate (san_running_costs) is least, the first of
 * equals, into info[0] (its index), and into info[1] whether that estimate is below the one-table estimate (the
 * counts of the first set summed over contexts); then, unless `flags` has CHOOSE_ONLY_PAYING and it is not, that
 * set's block as san_running_encode makes it (with RUN_EITHER where `flags` has CHOOSE_EITHER). Returns the
 * block's byte count in `out` (capacity `cap`), 0 where none was made, -1 on bad params, a block that does not
 * fit, or memory running out. */
EXPORT int64_t san_running_choose_encode(const int64_t *e, int64_t n, const int32_t *params, int np, int flags,
                                         uint8_t *out, int64_t cap, int64_t *info) {
    int64_t result = -1;
    for (int j = 0; j < np; j++)
        if (!valid_params(params[j]) || (params[j] & RUN_MSB)) return -1;
    if (np < 1) return -1;
    int32_t *tok = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    uint64_t *val = (uint64_t *)malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    uint8_t *ctx = (uint8_t *)malloc((size_t)(n ? n : 1));
    int64_t *counts = (int64_t *)malloc((size_t)np * RUN_CONTEXTS * TOKENS * sizeof(int64_t));
    int64_t(*one)[TOKENS] = calloc(RUN_CONTEXTS, sizeof(*one));
    double *costs = (double *)malloc((size_t)np * sizeof(double));
    if (!tok || !val || !ctx || !counts || !one || !costs) goto done;
    san_tokenize(e, n, tok, val);
    san_running_counts(tok, n, params, np, counts);
    san_running_costs(counts, np, costs);
    int best = 0;
    for (int j = 1; j < np; j++)
        if (costs[j] < costs[best]) best = j;
    for (int c = 0; c < RUN_CONTEXTS; c++)
        for (int t = 0; t < TOKENS; t++) one[0][t] += counts[(int64_t)c * TOKENS + t];
    double one_cost;
    san_running_costs(&one[0][0], 1, &one_cost);
    const int pays = costs[best] < one_cost;
    info[0] = best, info[1] = pays;
    if ((flags & CHOOSE_ONLY_PAYING) && !pays) {
        result = 0;
        goto done;
    }
    const int p = params[best];
    count_contexts(tok, n, p, NULL, ctx); /* the chosen set's contexts; its counts are made */
    result = running_block(tok, val, ctx, n, p, (flags & CHOOSE_EITHER) != 0,
                           (const int64_t(*)[TOKENS])(counts + (int64_t)best * RUN_CONTEXTS * TOKENS), out, cap);
done:
    free(tok), free(val), free(ctx), free(counts), free(one), free(costs);
    return result;
}
