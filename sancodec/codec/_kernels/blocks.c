/* Whole entropy-coded arrays (entropy.encode_arrays / decode_arrays of one array) in one call. */
#include "kernels.h"

/* ------------------------------------------------------------------------------------------------
 * One entropy-coded array (entropy.encode_arrays with a single array), decoded in one call: the
 * frequency tables, the range-coded tokens (block classes first when contextual) and the raw
 * bits. The same checks as the Python reader, in the same order; the error codes map to its
 * messages in kernels.decode_block.
 */
int read_varint(byte_reader *r, uint64_t limit, uint64_t *out) {
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
int read_table(byte_reader *r, int alphabet, uint32_t *cum, int *nonzero) {
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
    cumulative_table(freq, alphabet, cum);
    for (int i = 0; nonzero && i < alphabet; i++) nonzero[i] = freq[i] > 0;
    return BLK_OK;
}

/* The range-coded words and the raw bits that end every block, and nothing after them. */
int read_streams(byte_reader *r, range_decoder *d, raw_bits *extra) {
    uint64_t n_words, n_extra;
    int status;
    if ((status = read_varint(r, (uint64_t)(r->len - r->pos) / 4, &n_words))) return status;
    if (4 * n_words > (uint64_t)(r->len - r->pos)) return BLK_TRUNCATED;
    *d = (range_decoder){r->p + r->pos, n_words, 0, 0, 0};
    r->pos += 4 * (int64_t)n_words;
    if ((status = read_varint(r, (uint64_t)(r->len - r->pos), &n_extra))) return status;
    if (n_extra > (uint64_t)(r->len - r->pos)) return BLK_TRUNCATED;
    *extra = (raw_bits){r->p + r->pos, (int64_t)n_extra};
    r->pos += (int64_t)n_extra;
    return r->pos != r->len ? BLK_TRAILING : BLK_OK;
}

/* One array's tokens (`n`, plain or under block classes) from the range decoder into `tok`: each present
 * class in turn, its positions in order; positions of a class the table leaves out keep token 0. */
static int decode_tokens(range_decoder *d, int64_t n, int contextual, const symbol_table *ctable,
                         const symbol_table *tables, const int *present, uint8_t *cls, int32_t *tok) {
    if (!contextual) {
        for (int64_t i = 0; i < n; i++) {
            int x = rd_symbol(d, &tables[0]);
            if (x < 0) return BLK_RANGE;
            tok[i] = x;
        }
        return BLK_OK;
    }
    int64_t blocks = (n + 15) / 16;
    for (int64_t b = 0; b < blocks; b++) {
        int x = rd_symbol(d, ctable);
        if (x < 0) return BLK_RANGE;
        cls[b] = (uint8_t)x;
    }
    for (int c = 0; c < CLASSES; c++) {
        if (!present[c]) continue;
        for (int64_t b = 0; b < blocks; b++) {
            if (cls[b] != c) continue;
            int64_t end = (b + 1) * 16 < n ? (b + 1) * 16 : n;
            for (int64_t i = b * 16; i < end; i++) {
                int x = rd_symbol(d, &tables[c]);
                if (x < 0) return BLK_RANGE;
                tok[i] = x;
            }
        }
    }
    return BLK_OK;
}

/* entropy.decode_arrays: `count` arrays of `lengths` (flags `contextual`) from one blob, laid end to end in
 * `out`; the same checks as the Python reader, in the same order (tables, streams, symbols, raw bits). */
EXPORT int san_arrays_decode(const uint8_t *data, int64_t len, const int64_t *lengths, const int32_t *contextual,
                             int64_t count, int64_t *out) {
    byte_reader r = {data, len, 0};
    int64_t total = 0, longest = 1;
    for (int64_t a = 0; a < count; a++) {
        if (lengths[a] < 0) return BLK_LIMIT;
        total += lengths[a];
        if ((lengths[a] + 15) / 16 > longest) longest = (lengths[a] + 15) / 16;
    }
    /* per array: row 0 the class table (or the one plain table), rows 1..CLASSES the classes' tables */
    uint32_t(*cums)[TOKENS + 1] = malloc((size_t)(count ? count : 1) * (CLASSES + 1) * sizeof(*cums));
    symbol_table *tables = malloc((size_t)(count ? count : 1) * (CLASSES + 1) * sizeof(symbol_table));
    int *present = calloc((size_t)(count ? count : 1) * CLASSES, sizeof(int));
    int32_t *tok = calloc((size_t)(total ? total : 1), sizeof(int32_t));
    uint8_t *cls = malloc((size_t)longest);
    int status = BLK_OK, any = 0;
    if (!cums || !tables || !present || !tok || !cls) { status = BLK_MEMORY; goto done; }
    for (int64_t a = 0; a < count && !status; a++) {
        uint32_t(*own)[TOKENS + 1] = cums + a * (CLASSES + 1);
        if (lengths[a] == 0) continue;
        any = 1;
        if (!contextual[a]) {
            status = read_table(&r, TOKENS, own[0], NULL);
            continue;
        }
        if ((status = read_table(&r, CLASSES, own[0], present + a * CLASSES))) break;
        for (int c = 0; c < CLASSES && !status; c++)
            if (present[a * CLASSES + c]) status = read_table(&r, TOKENS, own[1 + c], NULL);
    }
    if (status) goto done;
    range_decoder d;
    raw_bits extra;
    if ((status = read_streams(&r, &d, &extra)) || !any) goto done;
    rd_start(&d);
    for (int64_t a = 0, at = 0; a < count && !status; at += lengths[a], a++) {
        if (lengths[a] == 0) continue;
        symbol_table *own = tables + a * (CLASSES + 1);
        const int *has = present + a * CLASSES;
        if (!contextual[a]) {
            table_index(&own[1], cums[a * (CLASSES + 1)], TOKENS);
        } else {
            table_index(&own[0], cums[a * (CLASSES + 1)], CLASSES);
            for (int c = 0; c < CLASSES; c++)
                if (has[c]) table_index(&own[1 + c], cums[a * (CLASSES + 1) + 1 + c], TOKENS);
        }
        status = decode_tokens(&d, lengths[a], contextual[a], &own[0], &own[1], has, cls, tok + at);
    }
    if (!status && san_unpack(tok, total, extra.p, extra.len, out) != 0) status = BLK_RAW_BITS;
done:
    free(cums), free(tables), free(present), free(tok), free(cls);
    return status;
}

EXPORT int san_block_decode(const uint8_t *data, int64_t len, int64_t n, int contextual, int64_t *out) {
    /* a residual block (contextual 2) whose first byte is 0 uses running contexts (format 1.5, running.c) */
    if (contextual == 2 && len > 0 && data[0] == 0) return running_decode(data, len, n, out);
    int32_t flag = contextual != 0;
    return san_arrays_decode(data, len, &n, &flag, 1, out);
}

/* entropy.quantize_table: integer frequencies summing to 2^14, every used symbol at least 1. */
void quantize_table(const int64_t *counts, int alphabet, uint64_t *freq) {
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

int put_varint(byte_writer *w, uint64_t value) {
    do {
        if (w->pos >= w->cap) return -1;
        uint8_t byte = value & 0x7F;
        value >>= 7;
        w->p[w->pos++] = byte | (value ? 0x80 : 0);
    } while (value);
    return 0;
}

int put_table(byte_writer *w, const uint64_t *freq, int alphabet, uint32_t *cum) {
    int last = 0;
    for (int i = 0; i < alphabet; i++)
        if (freq[i]) last = i + 1;
    if (put_varint(w, (uint64_t)last)) return -1;
    for (int i = 0; i < last; i++)
        if (put_varint(w, freq[i])) return -1;
    cumulative_table(freq, alphabet, cum);
    return 0;
}

/* Seal the range coder `st` and write its words, then the raw bits of `val`; 0, or -1 when full. */
int write_streams(byte_writer *w, uint64_t *st, uint32_t *words, const int32_t *tok, const uint64_t *val, int64_t n) {
    int64_t n_words = san_rc_finish(st, words);
    return n_words < 0 ? -1 : put_streams(w, words, n_words, tok, val, n, 0);
}

/* The words of a finished range coder stream, then the raw bits (`skip`: top mantissa bits left out). */
int put_streams(byte_writer *w, const uint32_t *words, int64_t n_words, const int32_t *tok, const uint64_t *val,
                int64_t n, int skip) {
    if (put_varint(w, (uint64_t)n_words)) return -1;
    if (w->pos + 4 * n_words > w->cap) return -1;
    for (int64_t i = 0; i < n_words; i++) {
        uint32_t x = words[i];
        w->p[w->pos++] = x & 0xFF, w->p[w->pos++] = (x >> 8) & 0xFF, w->p[w->pos++] = (x >> 16) & 0xFF,
        w->p[w->pos++] = x >> 24;
    }
    int64_t extra = (raw_bit_count(tok, n, skip) + 7) / 8;
    if (put_varint(w, (uint64_t)extra) || w->pos + extra > w->cap) return -1;
    w->pos += pack_low_bits(val, tok, n, skip, w->p + w->pos);
    return 0;
}

/* The tables of one array's `n` tokens appended to `w`, its segments (block classes first when contextual, then
 * each class's tokens) to sym / seg_len / seg_model from segment *nseg and symbol *k on, as encode_arrays does. */
static int add_array(byte_writer *w, const int32_t *tok, int64_t n, int contextual, const int8_t *class_table,
                     int64_t row, int32_t *cls, int32_t *sym, int64_t *k, uint32_t (*cums)[TOKENS + 1],
                     int32_t *sizes, int64_t *seg_len, int32_t *seg_model, int64_t *nseg) {
    int64_t counts[TOKENS], blocks = (n + 15) / 16, g = *nseg;
    uint64_t freq[TOKENS];
    if (n == 0) return 0;
    if (!contextual) {
        memset(counts, 0, sizeof(counts));
        for (int64_t i = 0; i < n; i++) counts[tok[i]]++;
        quantize_table(counts, TOKENS, freq);
        if (put_table(w, freq, TOKENS, cums[g])) return -1;
        memcpy(sym + *k, tok, (size_t)n * sizeof(int32_t));
        *k += n;
        sizes[g] = TOKENS, seg_len[g] = n, seg_model[g] = (int32_t)g;
        *nseg = g + 1;
        return 0;
    }
    san_classes(tok, n, class_table, row, cls);
    memset(counts, 0, sizeof(counts));
    for (int64_t b = 0; b < blocks; b++) counts[cls[b]]++;
    quantize_table(counts, CLASSES, freq);
    if (put_table(w, freq, CLASSES, cums[g])) return -1;
    for (int64_t b = 0; b < blocks; b++) sym[(*k)++] = cls[b];
    sizes[g] = CLASSES, seg_len[g] = blocks, seg_model[g] = (int32_t)g;
    g++;
    for (int c = 0; c < CLASSES; c++) {
        int64_t start = *k;
        memset(counts, 0, sizeof(counts));
        for (int64_t b = 0; b < blocks; b++) {
            if (cls[b] != c) continue;
            int64_t end = (b + 1) * 16 < n ? (b + 1) * 16 : n;
            for (int64_t i = b * 16; i < end; i++) {
                sym[(*k)++] = tok[i];
                counts[tok[i]]++;
            }
        }
        if (*k == start) continue;
        quantize_table(counts, TOKENS, freq);
        if (put_table(w, freq, TOKENS, cums[g])) return -1;
        sizes[g] = TOKENS, seg_len[g] = *k - start, seg_model[g] = (int32_t)g;
        g++;
    }
    *nseg = g;
    return 0;
}

/* entropy.encode_arrays: `count` arrays laid end to end in `e` (`lengths`, `contextual` flags), their tables in
 * order, every segment in one range-coded stream, then the raw bits of all of them; the byte count, or -1. */
EXPORT int64_t san_arrays_encode(const int64_t *e, const int64_t *lengths, const int32_t *contextual, int64_t count,
                                 const int8_t *class_table, int64_t row, uint8_t *out, int64_t cap) {
    byte_writer w = {out, cap, 0};
    int64_t n = 0, blocks = 0, longest = 1, result = -1, nseg = 0, k = 0;
    for (int64_t a = 0; a < count; a++) {
        n += lengths[a], blocks += (lengths[a] + 15) / 16;
        if ((lengths[a] + 15) / 16 > longest) longest = (lengths[a] + 15) / 16;
    }
    int64_t rows = count * (CLASSES + 1) + 1;
    int32_t *tok = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    uint64_t *val = (uint64_t *)malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    int32_t *sym = (int32_t *)malloc((size_t)(n + blocks + 1) * sizeof(int32_t));
    int32_t *cls = (int32_t *)malloc((size_t)longest * sizeof(int32_t));
    uint32_t *words = (uint32_t *)malloc((size_t)(n + blocks + 8) * sizeof(uint32_t));
    uint32_t(*cums)[TOKENS + 1] = malloc((size_t)rows * sizeof(*cums));
    int32_t *sizes = (int32_t *)malloc((size_t)rows * sizeof(int32_t));
    int64_t *seg_len = (int64_t *)malloc((size_t)rows * sizeof(int64_t));
    int32_t *seg_model = (int32_t *)malloc((size_t)rows * sizeof(int32_t));
    if (!tok || !val || !sym || !cls || !words || !cums || !sizes || !seg_len || !seg_model) goto done;
    san_tokenize(e, n, tok, val);
    for (int64_t a = 0, at = 0; a < count; at += lengths[a], a++)
        if (add_array(&w, tok + at, lengths[a], contextual[a], class_table, row, cls, sym, &k, cums, sizes, seg_len,
                      seg_model, &nseg))
            goto done;
    uint64_t st[8];
    san_rc_init(st, n + blocks + 8);
    if (nseg && san_rc_encode(st, words, sym, seg_len, seg_model, nseg, &cums[0][0], sizes, TOKENS + 1)) goto done;
    if (!write_streams(&w, st, words, tok, val, n)) result = w.pos;
done:
    free(tok), free(val), free(sym), free(cls), free(words), free(cums), free(sizes), free(seg_len), free(seg_model);
    return result;
}

/* The byte counts of `count` arrays laid end to end in `e`, each coded alone plain (sizes[2a]) and with block
 * classes (sizes[2a + 1]): what waveletframe.code_bands weighs, in one call; 0, or -1 out of memory. */
EXPORT int san_arrays_sizes(const int64_t *e, const int64_t *lengths, int64_t count, const int8_t *class_table,
                            int64_t row, int64_t *sizes) {
    int64_t longest = 0;
    for (int64_t a = 0; a < count; a++)
        if (lengths[a] > longest) longest = lengths[a];
    int64_t cap = 17 * 160 + 4 * (longest + longest / 16 + 32) + 8 * longest + 64;
    uint8_t *scratch = (uint8_t *)malloc((size_t)cap);
    if (!scratch) return -1;
    int status = 0;
    for (int64_t a = 0, at = 0; a < count && !status; at += lengths[a], a++) {
        for (int32_t flag = 0; flag < 2 && !status; flag++) {
            sizes[2 * a + flag] = san_arrays_encode(e + at, &lengths[a], &flag, 1, class_table, row, scratch, cap);
            status = sizes[2 * a + flag] < 0 ? -1 : 0;
        }
    }
    free(scratch);
    return status;
}

/* a - b as numpy's int64 subtraction gives it (wrapping), without C's undefined signed overflow */
static inline int64_t wrapped_difference(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

/* beats.BeatTemplate._written in one call: the template's side information as its frame carries it (varints of the
 * taps' count, the anchor, the beats' count and, where shifted, the shift; then the smaller of the two blocks
 * entropy.encode_arrays makes of [taps' differences, gaps, gains less 64] with the gaps as they are and as their own
 * differences, after its length), into out (cap bytes), *second set where the second block was the one kept. The same
 * bytes as the numpy route: the differences wrap as numpy's do, the taps are shifted arithmetically as numpy's >> of
 * int64 is. Returns the byte count; -1 where out is too small or memory runs out, -2 where a count, the anchor or the
 * shift is negative (the caller's route raises). */
EXPORT int64_t san_template_side(const int64_t *t8, int64_t m, int64_t anchor, const int64_t *positions, int64_t count,
                                 const int64_t *g64, int64_t shift, const int8_t *class_table, int64_t row,
                                 uint8_t *out, int64_t cap, int32_t *second) {
    if (m < 0 || anchor < 0 || count < 0 || shift < 0 || shift > 63) return -2;
    const int64_t n = m + 2 * count;
    const int64_t room = 17 * 160 * 3 + 4 * (n + n / 16 + 16 * 4) + 8 * n + 64;  /* kernels.encode_arrays' buffer */
    int64_t *e = (int64_t *)malloc((size_t)(2 * (n ? n : 1)) * sizeof(int64_t));
    uint8_t *blocks = (uint8_t *)malloc((size_t)(2 * room));
    int64_t result = -1;
    if (!e || !blocks) goto done;
    int64_t *gaps = e + m, *gains = e + m + count, *again = e + n;  /* again: the second array list, its gaps */
    for (int64_t i = 0; i < m; i++)
        e[i] = wrapped_difference(t8[i] >> shift, i ? t8[i - 1] >> shift : 0);
    for (int64_t i = 0; i < count; i++) {
        gaps[i] = wrapped_difference(positions[i], i ? positions[i - 1] : 0);
        gains[i] = wrapped_difference(g64[i], 64);
    }
    memcpy(again, e, (size_t)n * sizeof(int64_t));
    for (int64_t i = 0; i < count; i++) again[m + i] = wrapped_difference(gaps[i], i ? gaps[i - 1] : 0);
    const int64_t lengths[3] = {m, count, count};
    const int32_t plain[3] = {0, 0, 0};
    int64_t sizes[2];
    for (int k = 0; k < 2; k++) {
        sizes[k] = san_arrays_encode(e + k * n, lengths, plain, 3, class_table, row, blocks + k * room, room);
        if (sizes[k] < 0) goto done;
    }
    const int kept = sizes[1] < sizes[0];
    byte_writer w = {out, cap, 0};
    if (put_varint(&w, (uint64_t)m) || put_varint(&w, (uint64_t)anchor) || put_varint(&w, (uint64_t)count) ||
        (shift && put_varint(&w, (uint64_t)shift)) || put_varint(&w, (uint64_t)sizes[kept]) ||
        w.pos + sizes[kept] > cap)
        goto done;
    memcpy(out + w.pos, blocks + kept * room, (size_t)sizes[kept]);
    *second = kept;
    result = w.pos + sizes[kept];
done:
    free(e), free(blocks);
    return result;
}
