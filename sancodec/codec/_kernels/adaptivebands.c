/* Adaptive band coding (format 1.9, adaptivebands.py): a wavelet frame's bands in one range-coded stream
 * without frequency tables. Each value's token (tokens.c) is coded in unary, one binary decision per step
 * ("is the token above k?", k = 0, 1, ... until a no, or the last token), each decision under an adaptive
 * probability of its own: by band, by the context of the band's previous token (0, 1-2, 3-6, more) and by
 * step (steps from AB_STEPS on share one). A probability starts at one half and moves towards each coded
 * bit by 1/4 of the way at first, then by less as the model is used (1/32 after 12 uses). The raw low bits
 * of large values follow the stream as in every entropy-coded block. Short records, whose tables cost as
 * much as their values, gain most.
 *
 * With `parent` (format 1.13), each band from the third on (a detail band below the coarsest) also splits its
 * contexts by its parent's token, the value at half its index in the band before it (the next coarser, which the
 * decoder has already): 0, 1-2 or more. A detail coefficient's magnitude follows its parent's where the signal's
 * energy comes and goes (a QRS left over by the template, muscle bursts), which the previous token alone sees only
 * after the fact. */
#include "kernels.h"

#define AB_CONTEXTS 4
#define AB_STEPS 24 /* steps 0..23 have their own probability; later steps share the 25th */
#define AB_PARENTS 3 /* the parent's token: 0, 1-2, more */
#define AB_MODELS (AB_CONTEXTS * AB_PARENTS * (AB_STEPS + 1))
#define AB_START 8192 /* of 2^14: one half */
#define AB_MIN 32
#define AB_FIRST_RATE 2
#define AB_LAST_RATE 5
#define AB_USES_PER_RATE 4

typedef struct { uint16_t p[AB_MODELS]; uint8_t uses[AB_MODELS]; } ab_models;

static void ab_reset(ab_models *m) {
    for (int j = 0; j < AB_MODELS; j++) m->p[j] = AB_START, m->uses[j] = 0;
}

static inline int ab_context(int32_t previous) {
    return previous == 0 ? 0 : previous <= 2 ? 1 : previous <= 6 ? 2 : 3;
}

static inline int ab_index(int c, int k) { return c * (AB_STEPS + 1) + (k < AB_STEPS ? k : AB_STEPS); }

/* The parent class of a token: 0, 1-2, more (ab_context's first three classes, the last two joined). */
static inline int ab_parent_class(int32_t t) { return t == 0 ? 0 : t <= 2 ? 1 : 2; }

/* The context of value i (counted from its band's first) of band b: the previous token's class times AB_PARENTS,
 * and with `parent` from the third band on, plus the parent class of the token at i / 2 of band b - 1 (its last
 * where the band is more than twice as long; none, class 0, where it is empty), which starts at `up`. */
static inline int ab_full_context(int32_t previous, int parent, int64_t b, const int32_t *tok, int64_t up,
                                  int64_t parent_len, int64_t i) {
    int c = ab_context(previous) * AB_PARENTS;
    if (!parent || b < 2 || parent_len <= 0) return c;
    int64_t j = i >> 1;
    return c + ab_parent_class(tok[up + (j < parent_len ? j : parent_len - 1)]);
}

static inline void ab_update(ab_models *m, int j, int bit) {
    int used = m->uses[j];
    int rate = AB_FIRST_RATE + used / AB_USES_PER_RATE;
    if (rate > AB_LAST_RATE) rate = AB_LAST_RATE;
    if (used < 255) m->uses[j] = (uint8_t)(used + 1);
    int f = m->p[j];
    int v = bit ? f - (f >> rate) : f + ((TABLE_TOTAL - f) >> rate);
    m->p[j] = (uint16_t)(v < AB_MIN ? AB_MIN : (v > TABLE_TOTAL - AB_MIN ? TABLE_TOTAL - AB_MIN : v));
}

/* One value's token `t` coded under `models`' context `c`: its unary decisions, into the coder `st`; 0, or -1 when
 * the output is full. */
static inline int ab_put_token(uint64_t *st, uint32_t *words, ab_models *models, int c, int32_t t) {
    for (int k = 0; k < TOKENS - 1; k++) {
        const int bit = t > k, j = ab_index(c, k);
        if (rc_put_bit(st, words, bit_cum(models->p[j]), bit)) return -1;
        ab_update(models, j, bit);
        if (!bit) break;
    }
    return 0;
}

/* One value's token `t` coded both ways at once: under `models[0]`'s context `c0` into the coder `st0`, and under
 * `models[1]`'s context `c1` into `st1` (ab_put_token twice, in one loop: the two ways take the same decisions, so
 * the loop's end, which depends on the token, is reached once a value, not once a way); 0, or -1 when an output is
 * full. */
static inline int ab_put_token_twice(uint64_t *st0, uint32_t *words0, uint64_t *st1, uint32_t *words1,
                                     ab_models *models, int c0, int c1, int32_t t) {
    for (int k = 0; k < TOKENS - 1; k++) {
        const int bit = t > k, j0 = ab_index(c0, k), j1 = ab_index(c1, k);
        if (rc_put_bit(st0, words0, bit_cum(models[0].p[j0]), bit)) return -1;
        if (rc_put_bit(st1, words1, bit_cum(models[1].p[j1]), bit)) return -1;
        ab_update(&models[0], j0, bit);
        ab_update(&models[1], j1, bit);
        if (!bit) break;
    }
    return 0;
}

/* The bands laid end to end in `e` (`lengths`, `count` of them) coded adaptively, with parent contexts where
 * `parent` is 1, or where it is 2 both ways in one pass over the tokens, the stream with fewer range-coder words
 * kept (the one without on a tie: the raw bits are the same), and `kept[0]` set to whether it has parent contexts;
 * the byte count written to `out` (capacity `cap`), -1 when it does not fit, memory runs out or `parent` is none of
 * these, or -2 (nothing coded) where they would take more than `max_decisions` binary decisions (a value's token
 * plus one, at most TOKENS - 1; no limit where it is negative): the work, counted from the tokens before any is
 * coded. */
EXPORT int64_t san_adaptive_bands_encode(const int64_t *e, const int64_t *lengths, int64_t count,
                                         int64_t max_decisions, int parent, uint8_t *out, int64_t cap,
                                         int64_t *kept) {
    byte_writer w = {out, cap, 0};
    int64_t n = 0, decisions = 0, result = -1;
    const int ways = parent == 2 ? 2 : 1;
    if (parent < 0 || parent > 2) return -1;
    for (int64_t b = 0; b < count; b++) n += lengths[b];
    int32_t *tok = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    uint64_t *val = (uint64_t *)malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    ab_models *models = (ab_models *)malloc(2 * sizeof(ab_models));
    uint32_t *words = NULL;
    if (!tok || !val || !models) goto done;
    san_tokenize(e, n, tok, val);
    for (int64_t i = 0; i < n; i++) decisions += tok[i] < TOKENS - 1 ? tok[i] + 1 : TOKENS - 1;
    if (max_decisions >= 0 && decisions > max_decisions) {
        result = -2;
        goto done;
    }
    decisions += 8;
    /* a decision takes under 10 bits: each way's words, one after the other */
    words = (uint32_t *)malloc((size_t)ways * (size_t)decisions * sizeof(uint32_t));
    if (!words) goto done;
    uint64_t st[2][8];
    for (int way = 0; way < ways; way++) san_rc_init(st[way], decisions);
    const int first = parent == 1; /* the first way's parent contexts; a second way has them */
    for (int64_t b = 0, at = 0; b < count; at += lengths[b], b++) {
        for (int way = 0; way < ways; way++) ab_reset(&models[way]);
        int32_t previous = 0;
        const int64_t parent_len = b ? lengths[b - 1] : 0, up = at - parent_len;
        for (int64_t i = at; i < at + lengths[b]; i++) {
            const int32_t t = tok[i];
            const int c0 = ab_full_context(previous, first, b, tok, up, parent_len, i - at);
            if (ways == 2 ? ab_put_token_twice(st[0], words, st[1], words + decisions, models, c0,
                                               ab_full_context(previous, 1, b, tok, up, parent_len, i - at), t)
                          : ab_put_token(st[0], words, &models[0], c0, t))
                goto done;
            previous = t;
        }
    }
    int64_t n_words[2] = {san_rc_finish(st[0], words), ways == 2 ? san_rc_finish(st[1], words + decisions) : 0};
    if (n_words[0] < 0 || n_words[1] < 0) goto done;
    const int way = ways == 2 && n_words[1] < n_words[0];
    if (!put_streams(&w, words + (way ? decisions : 0), n_words[way], tok, val, n, 0)) {
        result = w.pos;
        kept[0] = ways == 2 ? way : first;
    }
done:
    free(tok), free(val), free(models), free(words);
    return result;
}

/* The inverse: `count` bands of `lengths` from `data`, laid end to end in `out`; 0, or an entropy-block error
 * code (blocks.c) for data no encoder wrote. */
EXPORT int san_adaptive_bands_decode(const uint8_t *data, int64_t len, const int64_t *lengths, int64_t count,
                                     int parent, int64_t *out) {
    byte_reader r = {data, len, 0};
    range_decoder d;
    raw_bits extra;
    int64_t n = 0;
    for (int64_t b = 0; b < count; b++) {
        if (lengths[b] < 0) return BLK_LIMIT;
        n += lengths[b];
    }
    int status = read_streams(&r, &d, &extra);
    if (status || n == 0) return status;
    int32_t *tok = (int32_t *)malloc((size_t)n * sizeof(int32_t));
    ab_models *models = (ab_models *)malloc(sizeof(ab_models));
    if (!tok || !models) {
        free(tok), free(models);
        return BLK_MEMORY;
    }
    rd_start(&d);
    for (int64_t b = 0, at = 0; b < count && !status; at += lengths[b], b++) {
        ab_reset(models);
        int32_t previous = 0;
        const int64_t parent_len = b ? lengths[b - 1] : 0, up = at - parent_len;
        for (int64_t i = at; i < at + lengths[b] && !status; i++) {
            const int c = ab_full_context(previous, parent, b, tok, up, parent_len, i - at);
            int32_t t = 0;
            for (int k = 0; k < TOKENS - 1; k++) {
                const int j = ab_index(c, k);
                const int bit = rd_bit(&d, bit_cum(models->p[j]));
                if (bit < 0) {
                    status = BLK_RANGE;
                    break;
                }
                ab_update(models, j, bit);
                if (!bit) break;
                t++;
            }
            tok[i] = previous = t;
        }
    }
    if (!status && san_unpack(tok, n, extra.p, extra.len, out) != 0) status = BLK_RAW_BITS;
    free(tok), free(models);
    return status;
}
