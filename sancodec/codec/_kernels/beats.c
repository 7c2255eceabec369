/* The beat template's prediction (beats.py): acc = sum of g64 * t8 placed at each beat, in int64.
 * Integer sums: every order gives numpy's result. The reader's bounds (beats._exact) keep |acc| and
 * every partial sum within 2**53: each sample takes each tap from at most one beat. */
#include "kernels.h"

#define TAP_CHUNK 512 /* taps converted to doubles at a time, on the stack */

/* Each beat's taps first..first+chunk added at its place, in doubles: a tap times its beat's gain is an integer
 * within 2**53 (the caller checked |acc| <= max|g64| * sum|t8| <= 2^53: a sample takes at most one beat's tap of
 * each index), so the double product and every partial sum are exact, the int64 products' sum bit for bit in any
 * order, in a loop that vectorises (an int64 product converted to double per tap does not). */
TARGET_CLONES static void place_beats(const double *taps, int64_t first, int64_t chunk, int64_t anchor,
                                          const int64_t *positions, const int64_t *g64, int64_t count, int64_t length,
                                          double *out) {
    for (int64_t b = 0; b < count; b++) {
        int64_t start = positions[b] - anchor + first;
        double g = (double)g64[b];
        int64_t lo = start < 0 ? -start : 0;
        int64_t hi = length - start < chunk ? length - start : chunk;
        double *at = out + start;
        for (int64_t j = lo; j < hi; j++) at[j] += g * taps[j];
    }
}

EXPORT void san_template_prediction(const int64_t *t8, int64_t m, int64_t anchor, const int64_t *positions,
                                    const int64_t *g64, int64_t count, int64_t length, double *out) {
    double taps[TAP_CHUNK];
    for (int64_t i = 0; i < length; i++) out[i] = 0.0;
    for (int64_t first = 0; first < m; first += TAP_CHUNK) {
        int64_t chunk = m - first < TAP_CHUNK ? m - first : TAP_CHUNK;
        for (int64_t j = 0; j < chunk; j++) taps[j] = (double)t8[first + j];  /* |t8| within 2^40: exact */
        place_beats(taps, first, chunk, anchor, positions, g64, count, length, out);
    }
    for (int64_t i = 0; i < length; i++) out[i] = out[i] / 512.0;  /* numpy's acc / 512.0 */
}

/* ---------------------------------------------------------------- beat finding (encoder side)
 * An exact selection, no arithmetic: the same positions as numpy's reference (sparse.peaks). */

typedef struct { double v; int64_t p; } peak_candidate;

/* Larger value first; on a tie the earlier position: the order greedy Peaks keeps them in. */
static int by_value_then_position(const void *a, const void *b) {
    const peak_candidate *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->p > y->p) - (x->p < y->p);
}

/* c[0..count) (positions increasing, values above 0) into by_value_then_position's order by a stable radix sort
 * on the values' bits (a positive double's bits, as an unsigned integer, rise with it; inverted, larger values
 * come first, and the sort's stability keeps the earlier position first on a tie), a byte at a time, skipping the
 * bytes every value shares. qsort with a comparator call per comparison was most of the beat detector's peak
 * picking on long records. Returns 0 (c untouched) when out of memory for its second buffer. */
static int sort_candidates(peak_candidate *c, int64_t count) {
    if (count < 2) return 1;
    peak_candidate *other = malloc((size_t)count * sizeof *other), *from = c, *to = other;
    if (!other) return 0;
    for (int byte = 0; byte < 8; byte++) {
        int64_t start[256] = {0};
        for (int64_t i = 0; i < count; i++) {
            uint64_t key;
            memcpy(&key, &from[i].v, sizeof key);
            start[(~key >> (8 * byte)) & 255]++;
        }
        int shared = 0;
        for (int b = 0; b < 256; b++) shared |= start[b] == count;
        if (shared) continue;  /* one bucket holds every value: this byte orders nothing */
        int64_t total = 0;
        for (int b = 0; b < 256; b++) {
            int64_t here = start[b];
            start[b] = total;
            total += here;
        }
        for (int64_t i = 0; i < count; i++) {
            uint64_t key;
            memcpy(&key, &from[i].v, sizeof key);
            to[start[(~key >> (8 * byte)) & 255]++] = from[i];
        }
        peak_candidate *t = from;
        from = to;
        to = t;
    }
    if (from != c) memcpy(c, from, (size_t)count * sizeof *c);
    free(other);
    return 1;
}

/* Greedy Peaks of candidates c[0..count) (positions increasing) with minimum distance d over n samples: taken
 * largest first (earliest on a tie), each dropping the candidates within d of it. Writes the kept positions in
 * increasing order to out; returns their count, -1 when out of memory. Frees c. */
static int64_t kept_peaks(peak_candidate *c, int64_t count, int64_t n, int64_t d, int64_t *out) {
    int64_t kept = 0;
    if (!sort_candidates(c, count)) qsort(c, (size_t)count, sizeof *c, by_value_then_position);
    /* kept positions are more than d apart: a bucket of d + 1 samples holds at most one */
    int64_t width = d + 1, buckets = n / width + 1;
    int64_t *bucket = malloc((size_t)buckets * sizeof *bucket);
    if (!bucket) { free(c); return -1; }
    for (int64_t b = 0; b < buckets; b++) bucket[b] = -1;
    for (int64_t k = 0; k < count; k++) {
        int64_t p = c[k].p, b = p / width, free_here = 1;
        for (int64_t q = b - 1; q <= b + 1 && free_here; q++)
            if (q >= 0 && q < buckets && bucket[q] >= 0 && llabs(bucket[q] - p) <= d) free_here = 0;
        if (free_here) { bucket[b] = p; kept++; }
    }
    int64_t m = 0;
    for (int64_t b = 0; b < buckets; b++) if (bucket[b] >= 0) out[m++] = bucket[b];
    free(c);
    free(bucket);
    return kept;
}

/* The candidates of s[0..n) into c (room for n): the strict local maxima above 0 and the first sample of a plateau
 * above 0 that falls after it (zeros outside), each value as a double (a float's exactly: the same comparisons,
 * the same order). A macro for both element types: a float32 envelope (beats.kept_above's) is read as it is. */
#define PEAK_CANDIDATES(T)                                                                            \
    static int64_t peak_candidates_##T(const T *s, int64_t n, peak_candidate *c) {                     \
        int64_t count = 0;                                                                            \
        for (int64_t i = 0; i < n; i++) {                                                             \
            T prev = i ? s[i - 1] : (T)0;                                                             \
            if (!(s[i] > (T)0) || !(s[i] > prev)) continue;                                           \
            int64_t j = i + 1;                                                                        \
            while (j < n && s[j] == s[i]) j++; /* a plateau: what follows it decides */              \
            T next = j < n ? s[j] : (T)0;                                                             \
            if (next < s[i]) { c[count].v = (double)s[i]; c[count].p = i; count++; }                \
        }                                                                                             \
        return count;                                                                                 \
    }
PEAK_CANDIDATES(double)
PEAK_CANDIDATES(float)

/* Greedy Peaks of s[0..n) with minimum distance d (sparse.peaks on one row): the candidates (peak_candidates_*)
 * taken largest first (earliest on a tie), each dropping the candidates within d of it. Writes the kept
 * positions in increasing order to out (room for n); returns their count, -1 when out of memory. */
EXPORT int64_t san_greedy_peaks(const double *s, int64_t n, int64_t d, int64_t *out) {
    peak_candidate *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    if (!c) return -1;
    return kept_peaks(c, peak_candidates_double(s, n, c), n, d, out);
}

/* san_greedy_peaks of a float32 row, read as it is (no float64 copy of a long record's envelope first). */
EXPORT int64_t san_greedy_peaks_f32(const float *s, int64_t n, int64_t d, int64_t *out) {
    peak_candidate *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    if (!c) return -1;
    return kept_peaks(c, peak_candidates_float(s, n, c), n, d, out);
}

/* ---------------------------------------------------------------- the beat detector's envelope */
#define INTEGRAL_LIMIT 2251799813685248.0 /* 2^51: integers below it differ by less than 2^52 */

#define ROUNDER 6755399441055744.0 /* 1.5 * 2^52: (v + this) - this is v rounded to an integer for |v| < 2^51 */

/* Whether v is an integer below INTEGRAL_LIMIT in magnitude, without a branch and without converting to int64
 * (nothing out of its range, nan included, is ever converted; nan fails the first test). */
static inline int is_integral(double v) {
    return (fabs(v) < INTEGRAL_LIMIT) & ((v + ROUNDER) - ROUNDER == v);
}

/* Whether every x[i] is_integral (a digitised channel's samples), in a loop without a branch. */
TARGET_CLONES static int all_integral(const double *x, int64_t n) {
    int ok = 1;
    for (int64_t i = 0; i < n; i++) ok &= is_integral(x[i]);
    return ok;
}

/* The running sum of |x[i] - x[i - 1]| into total in int64, where the samples are integers (all_integral) and the
 * sum stays below 2^53: then every partial sum is an integer a double holds exactly, so numpy's float running sum
 * (each addition exact) is these values bit for bit, and an integer addition waits one cycle for the last where a
 * float one waits four. Returns 0 (total not all set) where the sum would pass 2^53. */
#define SUM_CHUNK 1024 /* values summed between checks: each adds under 2^52, so a chunk stays below 2^63 */

static int integral_running_sum(const double *x, int64_t n, double *total) {
    int64_t sum = 0, last = (int64_t)x[0];
    total[0] = 0.0;
    for (int64_t lo = 1; lo < n; lo += SUM_CHUNK) {
        const int64_t hi = n - lo < SUM_CHUNK ? n : lo + SUM_CHUNK;
        for (int64_t i = lo; i < hi; i++) {
            int64_t v = (int64_t)x[i], d = v - last;
            sum += d < 0 ? -d : d;
            last = v;
            total[i] = (double)sum;
        }
        if (sum >= (1LL << 53)) return 0; /* below 2^53 + 2^62 here: no wrap */
    }
    return 1;
}

/* beats._moving_average of |first difference| (the first difference 0), in numpy's order of operations:
 * total = running sum of d (numpy's cumsum adds in order), out[i] = total[min(i + ahead - 1, n - 1)] less
 * total[i - behind - 1] where that exists, divided by width. total: room for n. */
EXPORT void san_difference_envelope(const double *x, int64_t n, int64_t width, double *total, double *out) {
    if (n < 1) return;
    int64_t ahead = (width - 1) / 2 + 1, behind = width / 2;
    if (ahead > n) ahead = n;
    if (!(all_integral(x, n) && integral_running_sum(x, n, total))) {
        double sum = 0.0;
        total[0] = sum = sum + fabs(x[0] - x[0]);
        for (int64_t i = 1; i < n; i++) total[i] = sum = sum + fabs(x[i] - x[i - 1]);
    }
    /* out[i] = (total[min(i + ahead - 1, n - 1)] - (i > behind ? total[i - behind - 1] : 0)) / width, its three
     * stretches apart so that the middle one has no test */
    const double w = (double)width;
    int64_t first = behind + 1 < n ? behind + 1 : n;         /* from here on a sum before the window is taken off */
    int64_t last = n - ahead + 1 > first ? n - ahead + 1 : first; /* from here on the window's end is clamped */
    for (int64_t i = 0; i < first; i++) out[i] = total[i + ahead - 1 < n - 1 ? i + ahead - 1 : n - 1] / w;
    for (int64_t i = first; i < last; i++) out[i] = (total[i + ahead - 1] - total[i - behind - 1]) / w;
    for (int64_t i = last; i < n; i++) out[i] = (total[n - 1] - total[i - behind - 1]) / w;
}

/* ---------------------------------------------------------------- beat alignment (encoder side)
 * beats._best_shift's fit after its gather: for each beat p, span[p] holds width = count - 1 + length values
 * (less their mean); the window at shift s (0..count) is span[p][s .. s + length). Its least squared residual
 * energy - total^2 / length - cross^2 / qq, in numpy's order of operations (running sums from the start of the
 * span, cross summed over the taps in order), is compared over the shifts whose window lies inside the frame
 * (candidate position positions[p] - shift + s, window [c + first, c + last] inside [0, n)); out[p]: the first
 * shift of least residual, -1 where none lies inside. sums: room for width + 1 values. */
#define SHIFTS_AT_ONCE 64 /* san_best_shift's shifts weighed together (beats.MAX_SHIFT allows 25) */

TARGET_CLONES EXPORT void san_best_shift(const double *span, int64_t beats, int64_t width, const double *qrs, int64_t length,
                           double qq, const int64_t *positions, int64_t shift, int64_t first, int64_t last,
                           int64_t n, double *sums, double *squares, int64_t *out) {
    int64_t count = width - length + 1;
    for (int64_t p = 0; p < beats; p++) {
        const double *row = span + p * width;
        double s = 0.0, q = 0.0;
        sums[0] = squares[0] = 0.0;
        for (int64_t i = 0; i < width; i++) {
            sums[i + 1] = s = s + row[i];
            squares[i + 1] = q = q + row[i] * row[i];
        }
        /* every shift's cross product at once, tap by tap: each shift's sum still adds its taps in order (the same
         * bits), and the additions of the shifts vectorise, where one shift's taps are a chain of dependent adds */
        double cross[SHIFTS_AT_ONCE];
        const int at_once = count <= SHIFTS_AT_ONCE;
        if (at_once) {
            for (int64_t k = 0; k < count; k++) cross[k] = 0.0;
            for (int64_t j = 0; j < length; j++) {
                const double tap = qrs[j];
                const double *restrict r = row + j;
                for (int64_t k = 0; k < count; k++) cross[k] += r[k] * tap;
            }
        }
        int64_t best = -1;
        double least = INFINITY;
        for (int64_t k = 0; k < count; k++) {
            int64_t c = positions[p] - shift + k;
            if (!(c + first >= 0 && c + last < n)) continue;
            double product = 0.0;
            if (at_once) {
                product = cross[k];
            } else {
                for (int64_t j = 0; j < length; j++) product += row[k + j] * qrs[j];
            }
            double total = sums[k + length] - sums[k], energy = squares[k + length] - squares[k];
            double err = energy - total * total / (double)length - product * product / qq;
            if (err < least || best < 0) { least = err; best = k; }
        }
        out[p] = best;
    }
}

/* ---------------------------------------------------------------- mains hum (format 1.10, codec/mains.py)
 * out[t] = (a[k] * cosine[phase] + b[k] * sine[phase]) / 2^17 with k = t / block and phase the top 10 bits of
 * (t * step) mod 2^32, kept as a running 32-bit sum. The tables hold the sine table's integers (|v| <= 2^14) as
 * doubles and |a|, |b| <= 2^36 (checked by the caller), so every product and sum is an integer below 2^53,
 * exact in double: the same values as numpy's integer reference. a and b hold ceil(length / block) values. */
EXPORT void san_mains_prediction(const double *sine, const double *cosine, uint64_t step, int64_t block,
                                 const int64_t *a, const int64_t *b, int64_t length, int add, double *out) {
    uint32_t phase = 0, advance = (uint32_t)step;
    for (int64_t start = 0, k = 0; start < length; start += block, k++) {
        int64_t end = length - start > block ? start + block : length;
        double ak = (double)a[k], bk = (double)b[k];
        for (int64_t t = start; t < end; t++) {
            uint32_t i = phase >> 22;
            double hum = (ak * cosine[i] + bk * sine[i]) * (1.0 / 131072.0);
            out[t] = add ? out[t] + hum : hum; /* add: numpy's prediction + hum, element by element */
            phase += advance;  /* unsigned: wraps mod 2^32 */
        }
    }
}

/* The normal equations of fit_mains (codec/mains.py), block by block in one pass: over each block of ``size``
 * samples (the last one shorter where size does not divide n), the design rows cosine[phase] / 2^14,
 * sine[phase] / 2^14, 1 and the time from the block's middle, their products summed into gram (count x 4 x 4)
 * and their products with r into rhs (count x 4). Sums of doubles, as numpy's einsum sums them (in another
 * order: the fit rounds its amplitudes to integers, where a last-bit difference decides nothing). r's first sample
 * is at phase0 (0 for a frame's first: a later block's first sample, that sample's index times step mod 2^32, so that
 * a frame's blocks may be summed in parts, each block's sums the same). */
EXPORT void san_mains_sums(const double *sine, const double *cosine, uint64_t step, uint64_t phase0, const double *r,
                           int64_t n, int64_t size, double *gram, double *rhs) {
    uint32_t phase = (uint32_t)phase0, advance = (uint32_t)step;
    for (int64_t start = 0, k = 0; start < n; start += size, k++) {
        int64_t end = n - start > size ? start + size : n;
        double middle = 0.5 * (double)(end - start < size ? end - start : size);
        double cc = 0, cs = 0, ss = 0, c1 = 0, s1 = 0, ct = 0, st = 0, one = 0, t1 = 0, tt = 0;
        double rc = 0, rs = 0, r1 = 0, rt = 0;
        for (int64_t i = start; i < end; i++) {
            uint32_t j = phase >> 22;
            double c = cosine[j] * (1.0 / 16384.0), s = sine[j] * (1.0 / 16384.0);
            double t = (double)(i - start) - middle, v = r[i];
            cc += c * c; cs += c * s; ss += s * s; c1 += c; s1 += s; ct += c * t; st += s * t;
            one += 1.0; t1 += t; tt += t * t;
            rc += v * c; rs += v * s; r1 += v; rt += v * t;
            phase += advance;  /* unsigned: wraps mod 2^32 */
        }
        double *g = gram + 16 * k, *h = rhs + 4 * k;
        g[0] = cc; g[1] = cs; g[2] = c1; g[3] = ct;
        g[4] = cs; g[5] = ss; g[6] = s1; g[7] = st;
        g[8] = c1; g[9] = s1; g[10] = one; g[11] = t1;
        g[12] = ct; g[13] = st; g[14] = t1; g[15] = tt;
        h[0] = rc; h[1] = rs; h[2] = r1; h[3] = rt;
    }
}

/* out[L - lo] = the sum over i < n - L of e[i] * e[i + L], for each lag L in [lo, hi] (hi < n): each e[i] that is
 * not 0 adds its products to every lag's sum in turn, in the order of i (a zero adds nothing to a sum of
 * non-negative products, so the zeros are left out). beat_period's correlation of a sparse energy envelope (its
 * QRS complexes, a tenth of the samples) in a few of its values' times the lags, where an FFT takes the whole
 * padded length twice. kernels.lagged_products does the same additions in the same order. */
TARGET_CLONES EXPORT void san_lagged_products(const double *e, int64_t n, int64_t lo, int64_t hi, double *out) {
    for (int64_t j = 0; j <= hi - lo; j++) out[j] = 0.0;
    for (int64_t i = 0; i + lo < n; i++) {
        const double v = e[i];
        if (v == 0.0) continue;
        const int64_t top = hi < n - 1 - i ? hi : n - 1 - i;
        const double *restrict w = e + i + lo;
        double *restrict o = out;
        for (int64_t j = 0; j <= top - lo; j++) o[j] += v * w[j];
    }
}

/* ---------------------------------------------------------------- medians by counting (beat templates)
 * A beat template is the median of an integer channel's beat windows, each less its own median: every value a
 * multiple of 1/2. Where a row's values all are, below 2^50, and span at most cap halves, its median is counted in
 * one histogram of halves and a walk to the middle rank: the value numpy's selection finds, as a median's ranks name
 * one value whichever way it is found. Other rows are left to the caller (done[r] = 0): numpy 2's selection takes
 * them (a window's own values, across its QRS) in less time than counting them in buckets first did, which this
 * file did until 2026-12 (benchmarks/bench_encode_kernels.py --effort balanced: the medians took 10.2 ms a sweep
 * then, numpy's selection alone 0.9 of that on the same calls; 8.6 ms now, numpy's alone the same). */

#define HALVES_BLOCK 256 /* halves_within's values checked at a time: a row that fails stops soon after */

/* Whether every value of v[0..n) is a multiple of 1/2 below 2^50 in magnitude (twice it is_integral), spanning at
 * most limit - 1 halves; *lo: the least, *bins: the halves from it to the largest, plus one. */
TARGET_CLONES static int halves_within(const double *v, int64_t n, int64_t limit, double *lo, int64_t *bins) {
    double least = v[0], most = v[0];
    for (int64_t start = 0; start < n; start += HALVES_BLOCK) {
        int64_t end = n - start < HALVES_BLOCK ? n : start + HALVES_BLOCK;
        int halves = 1;
        for (int64_t i = start; i < end; i++) {
            double x = v[i];
            least = x < least ? x : least;
            most = x > most ? x : most;
            halves &= is_integral(2.0 * x);
        }
        if (!(halves && 2.0 * (most - least) <= (double)(limit - 1))) return 0;
    }
    *lo = least;
    *bins = (int64_t)(2.0 * (most - least)) + 1;
    return 1;
}

/* numpy's median from the two middle values: the upper alone for an odd count, else the mean of both. */
static inline double middle(int64_t n, double lower, double upper) {
    return n % 2 ? upper : (lower + upper) / 2.0;
}

/* hist[b] = how many of v[0..n) lie in bucket b of 2^shift halves from lo (b < buckets; the values checked by
 * halves_within from lo). */
static void count_halves(const double *v, int64_t n, double lo, int shift, int32_t *hist, int64_t buckets) {
    memset(hist, 0, (size_t)buckets * sizeof *hist);
    for (int64_t i = 0; i < n; i++) hist[(int64_t)(2.0 * (v[i] - lo)) >> shift]++;  /* exact: halves below 2^50 */
}

/* The bucket of rank want (from 0) in hist[0..) and how many values lie in the buckets before it. */
static int64_t rank_bucket(const int32_t *hist, int64_t want, int64_t *below) {
    int64_t b = 0, under = 0;
    while (under + hist[b] <= want) under += hist[b++];
    *below = under;
    return b;
}

/* The median of v[0..n) (n > 0) counted in hist[0..bins), its values checked by halves_within from lo. */
static double counted_median(const double *v, int64_t n, double lo, int32_t *hist, int64_t bins) {
    count_halves(v, n, lo, 0, hist, bins);
    int64_t k = n / 2, below;
    const int64_t b = rank_bucket(hist, k, &below);  /* rank k (from 0) lies in bin b */
    int64_t a = b;  /* rank k - 1: in bin b, or the last filled bin before it */
    if (n % 2 == 0 && below == k)
        do a--; while (hist[a] == 0);
    return middle(n, lo + 0.5 * (double)a, lo + 0.5 * (double)b);
}

#define COUNTED_TRIAL 8 /* rows of which none counts give up the counting: the rest are alike */

/* hist: cap + 1 counters (n < 2^31 values a row, as the caller's). Where none of the first COUNTED_TRIAL rows counts,
 * no other is tried (values not all halves, or spanning more than cap halves: a float channel's rows, a window's own
 * values across its QRS, are selected). */
EXPORT void san_counted_medians(const double *a, int64_t rows, int64_t n, int64_t cap, int32_t *hist, double *out,
                                uint8_t *done) {
    int64_t counted = 0;
    memset(done, 0, (size_t)rows);
    for (int64_t r = 0; r < rows && (r < COUNTED_TRIAL || counted); r++) {
        double lo = 0.0;
        int64_t bins = 0;
        if (n > 0 && halves_within(a + r * n, n, cap, &lo, &bins)) {  /* bins <= cap */
            out[r] = counted_median(a + r * n, n, lo, hist, bins);
            done[r] = 1;
            counted++;
        }
    }
}

/* ---------------------------------------------------------------- trimmed means (beat templates)
 * A beat template's value at each sample of the window: the mean of the beats' values there without the k lowest
 * and k highest (kernels.trimmed_means). Where a row's values all are multiples of 1/2 below 2^50 and its largest
 * |2 value| times the n - 2k kept stays within 2^62, the kept values' doubles are summed as integers (exact, in any
 * order) and out[r] = sum / (2 (n - 2k)): the numpy route's integer sum and division, so the same bits. The kept
 * values are found by counting where the row spans at most cap halves (one histogram), else by counting them in
 * at most n buckets and selecting in the two buckets that hold ranks k and n - k - 1 (their values gathered in
 * scratch[0..n)); a block's columns of at most NETWORK_MAX values are sorted instead, TRIM_TILE side by side, by a
 * sorting network (san_trimmed_column_means). Other rows are left to the caller (done[r] = 0). 0 < 2k < n. */

/* Rearrange a[lo..hi] (inclusive) so that a[want] holds the value of that rank, none after it smaller and none
 * before it larger: quickselect, a median-of-three pivot, the range narrowed to the side holding want. */
static void select_rank(int64_t *a, int64_t lo, int64_t hi, int64_t want) {
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int64_t x = a[lo], y = a[mid], z = a[hi];
        int64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                int64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else return;  /* between j and i: every value there is the pivot */
    }
}

/* The sum of v's doubled values of rank k to n - k - 1 (v's span: bins doubled values from 2 lo, more than
 * cap of them), counted in buckets of 2^shift doubled values (at most n of them, in hist): the values in the
 * buckets strictly between those of ranks k and n - k - 1 summed as counted, those in these two gathered into
 * scratch (the lower's from its start, the upper's from its end) and selected there. */
static int64_t bucketed_trimmed_sum(const double *v, int64_t n, int64_t k, double lo, int64_t bins, int32_t *hist,
                                    int64_t *scratch) {
    const int64_t low = (int64_t)(2.0 * lo);
    int shift = 0;
    while (((bins - 1) >> shift) + 1 > n) shift++;
    count_halves(v, n, lo, shift, hist, ((bins - 1) >> shift) + 1);
    int64_t below_lo, below_hi;
    const int64_t lo_bucket = rank_bucket(hist, k, &below_lo), hi_bucket = rank_bucket(hist, n - k - 1, &below_hi);
    int64_t sum = 0, lower = 0, upper = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t d = (int64_t)(2.0 * v[i]), b = (d - low) >> shift;
        sum += (b > lo_bucket && b < hi_bucket) ? d : 0;
        if (b == lo_bucket) scratch[lower++] = d;
        else if (b == hi_bucket) scratch[n - 1 - upper++] = d;
    }
    if (lo_bucket == hi_bucket) {  /* ranks k to n - k - 1 all in one bucket: select both ends among its values */
        const int64_t first = k - below_lo, last = n - k - 1 - below_lo;
        select_rank(scratch, 0, lower - 1, first);
        select_rank(scratch, first, lower - 1, last);
        for (int64_t i = first; i <= last; i++) sum += scratch[i];
        return sum;
    }
    const int64_t from = k - below_lo;  /* the lower bucket's values of rank k or more */
    select_rank(scratch, 0, lower - 1, from);
    for (int64_t i = from; i < lower; i++) sum += scratch[i];
    int64_t *top = scratch + n - upper;  /* the upper bucket's values of rank n - k - 1 or less */
    const int64_t to = n - k - 1 - below_hi;
    select_rank(top, 0, upper - 1, to);
    for (int64_t i = 0; i <= to; i++) sum += top[i];
    return sum;
}

/* Whether kept doubled values between low and high (the least and largest) sum within int64: the largest magnitude
 * times kept at most 2^62 (trimmed_row's and trimmed_by_network's test). */
static inline int sum_fits(int64_t low, int64_t high, int64_t kept) {
    const uint64_t a_low = (uint64_t)(low < 0 ? -low : low), a_high = (uint64_t)(high < 0 ? -high : high);
    return (a_low > a_high ? a_low : a_high) <= ((uint64_t)1 << 62) / (uint64_t)kept;
}

/* One row's trimmed mean into *out (san_trimmed_means); 0 where the row is left to the caller. */
static int trimmed_row(const double *v, int64_t n, int64_t k, int64_t cap, int32_t *hist, int64_t *scratch,
                       double *out) {
    const int64_t kept = n - 2 * k;
    double lo = 0.0;
    int64_t bins = 0;
    if (!halves_within(v, n, (int64_t)1 << 52, &lo, &bins)) return 0;  /* halves below 2^50: span < 2^52 */
    const int64_t low = (int64_t)(2.0 * lo), high = low + bins - 1;  /* the least and largest doubled value */
    if (!sum_fits(low, high, kept)) return 0;
    int64_t sum = 0;
    if (bins <= cap) {
        count_halves(v, n, lo, 0, hist, bins);
        int64_t skip = k, take = kept;
        for (int64_t b = 0; take > 0; b++) {
            int64_t c = hist[b];
            int64_t s = c < skip ? c : skip;
            skip -= s;
            c -= s;
            c = c < take ? c : take;
            sum += c * (low + b);
            take -= c;
        }
    } else {
        sum = bucketed_trimmed_sum(v, n, k, lo, bins, hist, scratch);
    }
    *out = (double)sum / (2.0 * (double)kept);
    return 1;
}

EXPORT void san_trimmed_means(const double *a, int64_t rows, int64_t n, int64_t k, int64_t cap, int32_t *hist,
                              int64_t *scratch, double *out, uint8_t *done) {
    for (int64_t r = 0; r < rows; r++) done[r] = (uint8_t)trimmed_row(a + r * n, n, k, cap, hist, scratch, out + r);
}

#define TRIM_TILE 8 /* san_trimmed_column_means copies this many columns at a time: a cache line of each row */

/* san_trimmed_means of each of the cols columns of a (n values each, a column's values ld apart: a block of columns
 * of a row-major matrix, such as a template's beat windows), the columns copied TRIM_TILE at a time into tile
 * (TRIM_TILE * n values): as rows, for trimmed_row (numpy's copy of the transposed block walks its rows a value at a
 * time), or, for n up to NETWORK_MAX, side by side as they lie, for trimmed_by_network (the same results). */
#if defined(__GNUC__)
typedef double lanes4 __attribute__((vector_size(32)));
typedef int64_t mask4 __attribute__((vector_size(32)));
#endif
#define NETWORK_MAX 256 /* columns of at most this many values are sorted by a network (trimmed_by_network): about
 * a comparator a value per lane at these sizes, where the bucketed route's branches and selections cost several times
 * that on the wide spans of a template's few dozen beats (a 1000 Hz ECG's); on narrow spans one histogram is about as
 * quick up to here and quicker past it (benchmarks/ab_revision.py: PTB s0010_re's encode 0.92-0.93 of the time) */
#define NETWORK_PAIRS 3839 /* merge_network's comparators for 2^8 inputs */

/* Batcher's odd-even merge sort for the next power of two from n, its comparators (lo, hi) written to pairs (at most
 * NETWORK_PAIRS of them, n up to NETWORK_MAX) and their count returned; those that reach an index n or more are left
 * out: the inputs from n on stand for +infinity, which every comparator leaves where they are, so the first n come
 * out sorted. */
static int64_t merge_network(int64_t n, int32_t *pairs) {
    int64_t size = 1, count = 0;
    while (size < n) size <<= 1;
    for (int64_t p = 1; p < size; p <<= 1)
        for (int64_t k = p; k >= 1; k >>= 1)
            for (int64_t j = k % p; j + k < size; j += 2 * k)
                for (int64_t i = 0; i < k && i + j + k < size; i++)
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n) {
                        pairs[2 * count] = (int32_t)(i + j);
                        pairs[2 * count + 1] = (int32_t)(i + j + k);
                        count++;
                    }
    return count;
}

/* trimmed_row's result for TRIM_TILE columns at once (width of them real), their n values sorted side by side in
 * tile (value i of column c at tile[i * TRIM_TILE + c]) by the network of pairs, each comparator a min and a max of
 * whole rows of the tile (vector instructions, no branch): the kept ranks' doubled values summed as integers, as
 * trimmed_row sums them (the same multiset, so the same sum), under the same tests (done[c] = 0 where they fail). */
TARGET_CLONES static void trimmed_by_network(double *restrict tile, int64_t n, int64_t k, const int32_t *pairs,
                                             int64_t count, int64_t width, double *out, uint8_t *done) {
    int halves[TRIM_TILE];
    for (int64_t c = 0; c < TRIM_TILE; c++) halves[c] = 1;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < TRIM_TILE; c++) halves[c] &= is_integral(2.0 * tile[i * TRIM_TILE + c]);
    for (int64_t m = 0; m < count; m++) {  /* the rows as vectors of 4 (GCC's vector extension: AVX2 where built) */
        double *lo = tile + pairs[2 * m] * TRIM_TILE, *hi = tile + pairs[2 * m + 1] * TRIM_TILE;
#if defined(__GNUC__)
        for (int64_t c = 0; c < TRIM_TILE; c += 4) {
            lanes4 x, y;
            memcpy(&x, lo + c, sizeof x);
            memcpy(&y, hi + c, sizeof y);
            const mask4 swap = y < x;  /* all ones where y < x */
            const mask4 xi = (mask4)x, yi = (mask4)y;
            const lanes4 least = (lanes4)((swap & yi) | (~swap & xi)), most = (lanes4)((swap & xi) | (~swap & yi));
            memcpy(lo + c, &least, sizeof least);
            memcpy(hi + c, &most, sizeof most);
        }
#else /* another compiler: the same comparators a value at a time */
        for (int64_t c = 0; c < TRIM_TILE; c++) {
            const double x = lo[c], y = hi[c];
            lo[c] = y < x ? y : x;
            hi[c] = y < x ? x : y;
        }
#endif
    }
    const int64_t kept = n - 2 * k;
    for (int64_t c = 0; c < width; c++) {
        const double least = tile[c], most = tile[(n - 1) * TRIM_TILE + c];
        /* halves_within's tests (every value a half below 2^50, the span under 2^52), then trimmed_row's bound */
        if (!(halves[c] && 2.0 * (most - least) <= (double)(((int64_t)1 << 52) - 1))) {
            done[c] = 0;
            continue;
        }
        const int64_t low = (int64_t)(2.0 * least), high = low + (int64_t)(2.0 * (most - least));
        if (!sum_fits(low, high, kept)) {
            done[c] = 0;
            continue;
        }
        int64_t sum = 0;
        for (int64_t i = k; i < n - k; i++) sum += (int64_t)(2.0 * tile[i * TRIM_TILE + c]);
        out[c] = (double)sum / (2.0 * (double)kept);
        done[c] = 1;
    }
}

EXPORT void san_trimmed_column_means(const double *a, int64_t cols, int64_t n, int64_t ld, int64_t k, int64_t cap,
                                     int32_t *hist, int64_t *scratch, double *tile, double *out, uint8_t *done) {
    if (n <= NETWORK_MAX) {  /* tile: TRIM_TILE * n values, as below */
        int32_t pairs[2 * NETWORK_PAIRS];
        const int64_t count = merge_network(n, pairs);
        for (int64_t c0 = 0; c0 < cols; c0 += TRIM_TILE) {
            const int64_t width = cols - c0 < TRIM_TILE ? cols - c0 : TRIM_TILE;
            for (int64_t i = 0; i < n; i++) {
                const double *row = a + i * ld + c0;
                for (int64_t c = 0; c < TRIM_TILE; c++) tile[i * TRIM_TILE + c] = c < width ? row[c] : 0.0;
            }
            trimmed_by_network(tile, n, k, pairs, count, width, out + c0, done + c0);
        }
        return;
    }
    for (int64_t c0 = 0; c0 < cols; c0 += TRIM_TILE) {
        const int64_t width = cols - c0 < TRIM_TILE ? cols - c0 : TRIM_TILE;
        for (int64_t i = 0; i < n; i++) {
            const double *row = a + i * ld + c0;
            for (int64_t c = 0; c < width; c++) tile[c * n + i] = row[c];
        }
        for (int64_t c = 0; c < width; c++)
            done[c0 + c] = (uint8_t)trimmed_row(tile + c * n, n, k, cap, hist, scratch, out + c0 + c);
    }
}
