/* Dependent (trellis-coded) quantisation of wavelet bands (format 1.12, codec.dependent): the encoder's Viterbi
 * search and the decoder's levels. Four states step by each index's parity (NEXT); states 0 and 1 quantise to even
 * multiples of the step (Q0: level 2k), states 2 and 3 to odd ones and 0 (Q1: level 2k - sign(k)). */
#include "kernels.h"

static const int NEXT[4][2] = {{0, 2}, {2, 0}, {1, 3}, {3, 1}};

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

/* q[0..n): the indices of the least-cost path through the trellis from state 0 for the values u (in steps), the
 * cost (u - level)^2 plus lam (squared steps) per bit of the rates (2 x size: bits per magnitude under Q0 and Q1),
 * those products handed in `priced` (lam * rates, as numpy multiplies them: the same doubles);
 * second[t]: the quantiser value t went through. back: 2 n bytes of room: per value, its candidates' codes and which
 * predecessor each new state came from (bit ns), so that the way back reads two bytes a value, not 32 (the indices
 * themselves, kept before). Ties go as the reference's: a state's first predecessor (by state, then parity) unless
 * the second is strictly cheaper, the first state of least cost at the end. */
EXPORT void san_dq_quantise(const double *u, int64_t n, double lam, const double *priced, int64_t size, int64_t *q,
                            uint8_t *second, uint8_t *back) {
    /* each new state's two predecessors, (state, parity) by state: NEXT's inverse, written out */
    static const int pred[4][2][2] = {{{0, 0}, {1, 1}}, {{2, 0}, {3, 1}}, {{0, 1}, {1, 0}}, {{2, 1}, {3, 0}}};
    const int priced_lam = lam > 0.0;
    double cost[4] = {0.0, INFINITY, INFINITY, INFINITY};
    uint8_t *codes = back + n;
    for (int64_t t = 0; t < n; t++) {
        double cc[2][2];
        codes[t] = (uint8_t)candidates(u[t], priced_lam, priced, size, cc);
        double next[4];
        unsigned ways = 0;
        for (int ns = 0; ns < 4; ns++) {
            const int s1 = pred[ns][0][0], p1 = pred[ns][0][1], s2 = pred[ns][1][0], p2 = pred[ns][1][1];
            double a = cost[s1] + cc[s1 >> 1][p1], b = cost[s2] + cc[s2 >> 1][p2];
            int second_way = b < a;
            next[ns] = second_way ? b : a;
            ways |= (unsigned)second_way << ns;
        }
        back[t] = (uint8_t)ways;
        for (int ns = 0; ns < 4; ns++) cost[ns] = next[ns];
    }
    int state = 0;
    for (int s = 1; s < 4; s++)
        if (cost[s] < cost[state]) state = s;
    for (int64_t t = n - 1; t >= 0; t--) {
        const int *way = pred[state][(back[t] >> state) & 1];
        int prev = way[0], parity = way[1], quantiser = prev >> 1;
        q[t] = index_of(u[t], quantiser, (codes[t] >> (2 * (2 * quantiser + parity))) & 3u);
        second[t] = (uint8_t)quantiser;
        state = prev;
    }
}

/* levels[t] of indices q[0..n) read from state 0: 2 q - sign(q) where the state quantises by Q1, else 2 q (|q| below
 * 2^60, checked by the caller). In place where levels is q. */
EXPORT void san_dq_levels(const int64_t *q, int64_t n, int64_t *levels) {
    int state = 0;
    for (int64_t t = 0; t < n; t++) {
        int64_t k = q[t];
        int64_t sign = (k > 0) - (k < 0);
        levels[t] = 2 * k - (state >> 1 ? sign : 0);
        state = NEXT[state][(k < 0 ? -k : k) & 1];
    }
}
