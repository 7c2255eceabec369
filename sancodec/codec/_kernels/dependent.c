/* Dependent (trellis-coded) quantisation of wavelet bands (format 1.12, codec.dependent): the encoder's Viterbi
 * search and the decoder's levels. Four states step by each index's parity (codec.dependent.NEXT); states 0 and 1
 * quantise to even multiples of the step (Q0: level 2k), states 2 and 3 to odd ones and 0 (Q1: level 2k - sign(k)). */
#include "kernels.h"

static inline double sign_of(double v) { return v > 0.0 ? 1.0 : v < 0.0 ? -1.0 : 0.0; }

/* The cost of index k (a whole number) for the value u under quantiser q: (u - level)^2 plus, with lam > 0,
 * lam * rates[q][min(|k|, size - 1)] (priced: those products, made once per call). */
static inline double cost_of(double u, double k, int q, int lam, const double *priced, int64_t size) {
    double d = u - (2.0 * k - (q ? sign_of(k) : 0.0));
    double miss = d * d;
    if (lam) {
        double magnitude = fabs(k);
        int64_t m = magnitude < (double)(size - 1) ? (int64_t)magnitude : size - 1;
        miss = miss + priced[q * size + m];
    }
    return miss;
}

static inline int parity_of(double k) {
    double magnitude = fabs(k);
    return magnitude < 9007199254740992.0 ? (int)((int64_t)magnitude & 1) : 0;  /* from 2^53 every double is even */
}

/* round half to even, as numpy's rint: by the 1.5 * 2^52 trick inline where it holds (|half| < 2^51) */
static inline double base_of(double u, int q) {
    double half = (u + (double)q * sign_of(u)) / 2.0;
    return fabs(half) < 2251799813685248.0 ? (half + 6755399441055744.0) - 6755399441055744.0 : nearbyint(half);
}

/* The cheapest index of each quantiser (0, 1) and parity (0, 1) for the value u (in steps): among the nearest
 * indices k = base - 1, base, base + 1 (base = rint((u + q sign(u)) / 2), half to even) and, with lam, k = 0,
 * the first of least cost (:func:`cost_of`) in that order, as codec.dependent's reference weighs them: base takes
 * its parity's slot, base + 1 the other's only where strictly cheaper than base - 1, and 0 the even slot only where
 * strictly cheaper than what holds it. Each slot's index as a code (bits 2 (2q + p) and up): 0 base - 1, 1 base,
 * 2 base + 1, 3 zero; index_of turns a code back into the index. */
static inline unsigned candidates(double u, int lam, const double *priced, int64_t size, double cost[2][2]) {
    unsigned codes = 0;
    for (int q = 0; q < 2; q++) {
        double base = base_of(u, q);
        double c_below = cost_of(u, base - 1.0, q, lam, priced, size);
        double c_base = cost_of(u, base, q, lam, priced, size);
        double c_above = cost_of(u, base + 1.0, q, lam, priced, size);
        int p = parity_of(base);
        int above = c_above < c_below;
        unsigned code_base = 1, code_other = above ? 2 : 0;
        cost[q][p] = c_base;
        cost[q][1 - p] = above ? c_above : c_below;
        if (lam) {
            double c_zero = cost_of(u, 0.0, q, lam, priced, size);
            if (c_zero < cost[q][0]) {
                cost[q][0] = c_zero;
                if (p == 0) code_base = 3;
                else code_other = 3;
            }
        }
        codes |= (code_base << (2 * (2 * q + p))) | (code_other << (2 * (2 * q + 1 - p)));
    }
    return codes;
}

/* The index a slot's code (candidates) stands for, for the value u under quantiser q. */
static inline int64_t index_of(double u, int q, unsigned code) {
    return code == 3 ? 0 : (int64_t)(base_of(u, q) + ((double)code - 1.0));
}

/* The candidates' pass (candidates, for a block of values at once) without a branch, so that its loop vectorises
 * where the CPU allows (GCC's target_clones): the same operations on the same doubles, in the same order, each
 * choice a select. Where |u| < 2^50 (every value of the block; san_dq_quantise checks), (u +- 1) / 2 is below 2^51
 * in magnitude, and base_of's rounding is the 1.5 * 2^52 sum, whose last mantissa bit is the rounded value's parity.
 * cost[t]: the four slots' costs (slot 2 q + p), code[t]: their codes, as candidates makes them. */
#if defined(__GNUC__)
#define DQ_INLINE static inline __attribute__((always_inline))
#else
#define DQ_INLINE static inline
#endif
#define DQ_BLOCK 512
#define DQ_ROUNDER 6755399441055744.0 /* 1.5 * 2^52 */

DQ_INLINE uint64_t bits_of(double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* cost_of without a branch, for |k| < 2^51 (k a whole number; `price`: priced's row of quantiser q). */
DQ_INLINE double cost_flat(double u, double k, double q, int lam, const double *price, double top) {
    double sign_k = (double)(k > 0.0) - (double)(k < 0.0);
    double d = u - (2.0 * k - (q != 0.0 ? sign_k : 0.0));
    double miss = d * d;
    if (lam) {
        double magnitude = fabs(k);
        miss = miss + price[(int)(magnitude < top ? magnitude : top)];
    }
    return miss;
}

DQ_INLINE void candidates_flat(const double *restrict u, int64_t n, int lam, const double *restrict priced,
                               int64_t size, double (*restrict cost)[4], uint8_t *restrict code) {
    const double top = (double)(size - 1);
    for (int64_t t = 0; t < n; t++) {
        double v = u[t];
        double sign_v = (double)(v > 0.0) - (double)(v < 0.0);
        unsigned codes = 0;
        for (int q = 0; q < 2; q++) {
            const double *price = priced + q * size;
            double half = (v + (double)q * sign_v) / 2.0;
            double rounded = half + DQ_ROUNDER;
            int p = (int)(bits_of(rounded) & 1u);
            double base = rounded - DQ_ROUNDER;
            double c_below = cost_flat(v, base - 1.0, (double)q, lam, price, top);
            double c_base = cost_flat(v, base, (double)q, lam, price, top);
            double c_above = cost_flat(v, base + 1.0, (double)q, lam, price, top);
            int above = c_above < c_below;
            double other = above ? c_above : c_below;
            unsigned code_other = above ? 2u : 0u;
            double even = p ? other : c_base, odd = p ? c_base : other;
            unsigned code_even = p ? code_other : 1u, code_odd = p ? 1u : code_other;
            if (lam) {
                double c_zero = cost_flat(v, 0.0, (double)q, lam, price, top);
                int zero = c_zero < even;
                even = zero ? c_zero : even;
                code_even = zero ? 3u : code_even;
            }
            cost[t][2 * q] = even;
            cost[t][2 * q + 1] = odd;
            codes |= (code_even << (4 * q)) | (code_odd << (4 * q + 2));
        }
        code[t] = (uint8_t)codes;
    }
}

/* candidates for a block of values, a value at a time (any finite u). */
static void candidates_any(const double *u, int64_t n, int lam, const double *priced, int64_t size,
                           double (*cost)[4], uint8_t *code) {
    for (int64_t t = 0; t < n; t++) {
        double cc[2][2];
        code[t] = (uint8_t)candidates(u[t], lam, priced, size, cc);
        cost[t][0] = cc[0][0], cost[t][1] = cc[0][1], cost[t][2] = cc[1][0], cost[t][3] = cc[1][1];
    }
}

/* Each new state's two predecessors, (state, parity) by state: NEXT's inverse, written out. */
static const int PRED[4][2][2] = {{{0, 0}, {1, 1}}, {{2, 0}, {3, 1}}, {{0, 1}, {1, 0}}, {{2, 1}, {3, 0}}};

/* The state the way back starts from: the first of least cost (the reference's tie rule). */
static inline int cheapest_state(const double cost[4]) {
    int state = 0;
    for (int s = 1; s < 4; s++)
        if (cost[s] < cost[state]) state = s;
    return state;
}

/* san_dq_quantise a value at a time: its candidates, then its step of the search; the way back as it goes. */
static void search_by_value(const double *u, int64_t n, double lam, const double *priced, int64_t size, int64_t *q,
                            uint8_t *second, uint8_t *back) {
    const int priced_lam = lam > 0.0;
    double cost[4] = {0.0, INFINITY, INFINITY, INFINITY};
    uint8_t *codes = back + n;
    for (int64_t t = 0; t < n; t++) {
        double cc[2][2];
        codes[t] = (uint8_t)candidates(u[t], priced_lam, priced, size, cc);
        double next[4];
        unsigned ways = 0;
        for (int ns = 0; ns < 4; ns++) {
            const int s1 = PRED[ns][0][0], p1 = PRED[ns][0][1], s2 = PRED[ns][1][0], p2 = PRED[ns][1][1];
            double a = cost[s1] + cc[s1 >> 1][p1], b = cost[s2] + cc[s2 >> 1][p2];
            int second_way = b < a;
            next[ns] = second_way ? b : a;
            ways |= (unsigned)second_way << ns;
        }
        back[t] = (uint8_t)ways;
        for (int ns = 0; ns < 4; ns++) cost[ns] = next[ns];
    }
    int state = cheapest_state(cost);
    for (int64_t t = n - 1; t >= 0; t--) {
        const int *way = PRED[state][(back[t] >> state) & 1];
        int prev = way[0], parity = way[1], quantiser = prev >> 1;
        q[t] = index_of(u[t], quantiser, (codes[t] >> (2 * (2 * quantiser + parity))) & 3u);
        second[t] = (uint8_t)quantiser;
        state = prev;
    }
}

/* san_dq_quantise with the candidates weighed a block at a time ahead of the search (candidates_flat, where the
 * block's values allow), which then reads their costs, and the way back in two passes. */
TARGET_CLONES static void search_blocked(const double *u, int64_t n, double lam, const double *priced, int64_t size,
                                         int64_t *q, uint8_t *second, uint8_t *back) {
    const int priced_lam = lam > 0.0;
    double cost0 = 0.0, cost1 = INFINITY, cost2 = INFINITY, cost3 = INFINITY;
    uint8_t *codes = back + n;
    double slots[DQ_BLOCK][4];
    int every_flat = 1;  /* every block weighed by candidates_flat: the indices' bases come by the same sum below */
    for (int64_t first = 0; first < n; first += DQ_BLOCK) {
        int64_t m = n - first < DQ_BLOCK ? n - first : DQ_BLOCK;
        const double *v = u + first;
        int flat = 1;
        for (int64_t t = 0; t < m; t++) flat &= fabs(v[t]) < 1125899906842624.0; /* 2^50 */
        every_flat &= flat;
        if (flat && priced_lam)
            candidates_flat(v, m, 1, priced, size, slots, codes + first);
        else if (flat)
            candidates_flat(v, m, 0, priced, size, slots, codes + first);
        else
            candidates_any(v, m, priced_lam, priced, size, slots, codes + first);
        for (int64_t t = 0; t < m; t++) {
            const double *c = slots[t];  /* slot 2 q + p: c[0] Q0 even, c[1] Q0 odd, c[2] Q1 even, c[3] Q1 odd */
            double a0 = cost0 + c[0], b0 = cost1 + c[1];  /* state 0 from (0, even) or (1, odd) */
            double a1 = cost2 + c[2], b1 = cost3 + c[3];  /* state 1 from (2, even) or (3, odd) */
            double a2 = cost0 + c[1], b2 = cost1 + c[0];  /* state 2 from (0, odd) or (1, even) */
            double a3 = cost2 + c[3], b3 = cost3 + c[2];  /* state 3 from (2, odd) or (3, even) */
            int w0 = b0 < a0, w1 = b1 < a1, w2 = b2 < a2, w3 = b3 < a3;
            cost0 = w0 ? b0 : a0, cost1 = w1 ? b1 : a1, cost2 = w2 ? b2 : a2, cost3 = w3 ? b3 : a3;
            back[first + t] = (uint8_t)(w0 | w1 << 1 | w2 << 2 | w3 << 3);
        }
    }
    double cost[4] = {cost0, cost1, cost2, cost3};
    int state = cheapest_state(cost);
    /* the way back in two passes: the path's states (a chain of table reads: way[state][back] holds the predecessor
     * and the parity taken from it), each value's slot kept in back; then each value's index from its slot (where
     * every value is below 2^50, base_of's rounding as candidates_flat makes it, the base read from the sum's bits as
     * an integer: no float-to-int conversion, which AVX2 has no vector form of, so that the loop vectorises) */
    uint8_t way[4][16];
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < 16; b++) {
            const int *from = PRED[s][(b >> s) & 1];
            way[s][b] = (uint8_t)(from[0] | from[1] << 2);
        }
    for (int64_t t = n - 1; t >= 0; t--) {
        unsigned w = way[state][back[t]];
        state = (int)(w & 3u);
        back[t] = (uint8_t)((w & 2u) | w >> 2);  /* slot 2 quantiser + parity */
    }
    if (every_flat) {
        const int64_t rounder_bits = (int64_t)bits_of(DQ_ROUNDER);
        for (int64_t t = 0; t < n; t++) {
            unsigned slot = back[t], quantiser = slot >> 1, code = (codes[t] >> (2 * slot)) & 3u;
            double v = u[t];
            double half = (v + (double)quantiser * ((double)(v > 0.0) - (double)(v < 0.0))) / 2.0;
            int64_t base = (int64_t)bits_of(half + DQ_ROUNDER) - rounder_bits;
            q[t] = code == 3u ? 0 : base + (int64_t)code - 1;
            second[t] = (uint8_t)quantiser;
        }
        return;
    }
    for (int64_t t = 0; t < n; t++) {
        unsigned slot = back[t], quantiser = slot >> 1;
        q[t] = index_of(u[t], (int)quantiser, (codes[t] >> (2 * slot)) & 3u);
        second[t] = (uint8_t)quantiser;
    }
}

/* Whether search_blocked pays: its branch-free passes need an AVX2 clone's vectors (target_clones: GCC on x86-64
 * Linux); the baseline clone, another compiler or CPU keep the per-value search, as fast there. On the default
 * effort's calls (scripts/clone_kernels_bench.sh 4c6dc36: each clone timed by bench_encode_kernels.py) the blocked
 * search took 0.54x the per-value one's time in the AVX2 clone and 0.42x in the AVX-512 one; at d39ce7a, which ran it
 * in every clone (its way back not yet vectorised), 0.99x in the baseline clone. */
static int blocked_pays(void) {
#if defined(__AVX2__) && !defined(SANCODEC_CLONE_BASELINE)
    return 1;
#elif WIDER_CLONES
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* q[0..n): the indices of the least-cost path through the trellis from state 0 for the values u (in steps), the
 * cost (u - level)^2 plus lam (squared steps) per bit of the rates (2 x size: bits per magnitude under Q0 and Q1),
 * those products handed in `priced` (lam * rates, as numpy multiplies them: the same doubles);
 * second[t]: the quantiser value t went through. back: 2 n bytes of room: per value, its candidates' codes and which
 * predecessor each new state came from (bit ns), so that the way back reads two bytes a value, not 32 (the indices
 * themselves, kept before). Ties go as the reference's: a state's first predecessor (by state, then parity) unless
 * the second is strictly cheaper, the first state of least cost at the end. Both searches take the same path. */
EXPORT void san_dq_quantise(const double *u, int64_t n, double lam, const double *priced, int64_t size, int64_t *q,
                            uint8_t *second, uint8_t *back) {
    if (blocked_pays())
        search_blocked(u, n, lam, priced, size, q, second, back);
    else
        search_by_value(u, n, lam, priced, size, q, second, back);
}

/* levels[t] of indices q[0..n) read from state 0: 2 q - sign(q) where the state quantises by Q1, else 2 q (|q| below
 * 2^60, checked by the caller). In place where levels is q. */
EXPORT void san_dq_levels(const int64_t *q, int64_t n, int64_t *levels) {
    unsigned state = 0;
    for (int64_t t = 0; t < n; t++) {
        int64_t k = q[t];
        int64_t sign = (k > 0) - (k < 0);
        levels[t] = 2 * k - (int64_t)(state >> 1) * sign;
        /* NEXT[state][parity] as arithmetic, a short chain from one value's state to the next's: the parity of |k|
         * is k's last bit (two's complement), and the next state is (state >> 1) | ((parity ^ (state & 1)) << 1) */
        state = (state >> 1) | ((((unsigned)k & 1u) ^ (state & 1u)) << 1);
    }
}
