/* Dependent (trellis-coded) quantisation of wavelet bands (format 1.12, codec.dependent): the encoder's Viterbi
 * search and the decoder's levels. Four states step by each index's parity (NEXT); states 0 and 1 quantise to even
 * multiples of the step (Q0: level 2k), states 2 and 3 to odd ones and 0 (Q1: level 2k - sign(k)). */
#include "kernels.h"

static const int NEXT[4][2] = {{0, 2}, {2, 0}, {1, 3}, {3, 1}};

static inline double sign_of(double v) { return v > 0.0 ? 1.0 : v < 0.0 ? -1.0 : 0.0; }

/* The cost of index k (a whole number) for the value u under quantiser q: (u - level)^2 plus, with lam > 0,
 * lam * rates[q][min(|k|, size - 1)]. */
static inline double cost_of(double u, double k, int q, double lam, const double *rates, int64_t size) {
    double d = u - (2.0 * k - (q ? sign_of(k) : 0.0));
    double miss = d * d;
    if (lam > 0.0) {
        double magnitude = fabs(k);
        int64_t m = magnitude < (double)(size - 1) ? (int64_t)magnitude : size - 1;
        miss = miss + lam * rates[q * size + m];
    }
    return miss;
}

static inline int parity_of(double k) {
    double magnitude = fabs(k);
    return magnitude < 9007199254740992.0 ? (int)((int64_t)magnitude & 1) : 0;  /* from 2^53 every double is even */
}

/* The cheapest index of each quantiser (0, 1) and parity (0, 1) for the value u (in steps): among the nearest
 * indices k = base - 1, base, base + 1 (base = rint((u + q sign(u)) / 2), half to even) and, with lam > 0, k = 0,
 * the first of least cost (:func:`cost_of`) in that order, as codec.dependent's reference weighs them: base takes
 * its parity's slot, base + 1 the other's only where strictly cheaper than base - 1, and 0 the even slot only where
 * strictly cheaper than what holds it. */
static inline void candidates(double u, double lam, const double *rates, int64_t size, double cost[2][2],
                              int64_t index[2][2]) {
    for (int q = 0; q < 2; q++) {
        double half = (u + (double)q * sign_of(u)) / 2.0;
        /* round half to even, as numpy's rint: by the 1.5 * 2^52 trick inline where it holds (|half| < 2^51) */
        double base = fabs(half) < 2251799813685248.0 ? (half + 6755399441055744.0) - 6755399441055744.0
                                                       : nearbyint(half);
        double below = base - 1.0, above = base + 1.0;
        double c_below = cost_of(u, below, q, lam, rates, size), c_base = cost_of(u, base, q, lam, rates, size);
        double c_above = cost_of(u, above, q, lam, rates, size);
        int p = parity_of(base);
        double c_other = c_above < c_below ? c_above : c_below;
        double k_other = c_above < c_below ? above : below;
        cost[q][p] = c_base;
        index[q][p] = (int64_t)base;
        cost[q][1 - p] = c_other;
        index[q][1 - p] = (int64_t)k_other;
        if (lam > 0.0) {
            double c_zero = cost_of(u, 0.0, q, lam, rates, size);
            int take = c_zero < cost[q][0];
            cost[q][0] = take ? c_zero : cost[q][0];
            index[q][0] = take ? 0 : index[q][0];
        }
    }
}

/* q[0..n): the indices of the least-cost path through the trellis from state 0 for the values u (in steps), the
 * cost (u - level)^2 plus lam (squared steps) per bit of rates (2 x size: bits per magnitude under Q0 and Q1);
 * second[t]: the quantiser value t went through. back: n * 4 bytes of room; chosen: n * 4 int64 (each value's
 * cheapest index per quantiser and parity, kept for the way back). Ties go as the reference's: a state's
 * first predecessor (by state, then parity) unless the second is strictly cheaper, the first state of least cost
 * at the end. */
EXPORT void san_dq_quantise(const double *u, int64_t n, double lam, const double *rates, int64_t size, int64_t *q,
                            uint8_t *second, uint8_t *back, int64_t *chosen) {
    /* each new state's two predecessors, (state, parity) by state: NEXT's inverse, written out */
    static const int pred[4][2][2] = {{{0, 0}, {1, 1}}, {{2, 0}, {3, 1}}, {{0, 1}, {1, 0}}, {{2, 1}, {3, 0}}};
    double cost[4] = {0.0, INFINITY, INFINITY, INFINITY};
    for (int64_t t = 0; t < n; t++) {
        double cc[2][2];
        int64_t idx[2][2];
        candidates(u[t], lam, rates, size, cc, idx);
        for (int c = 0; c < 4; c++) chosen[4 * t + c] = idx[c >> 1][c & 1];  /* by quantiser, then parity */
        double next[4];
        for (int ns = 0; ns < 4; ns++) {
            const int s1 = pred[ns][0][0], p1 = pred[ns][0][1], s2 = pred[ns][1][0], p2 = pred[ns][1][1];
            double a = cost[s1] + cc[s1 >> 1][p1], b = cost[s2] + cc[s2 >> 1][p2];
            int second_way = b < a;
            next[ns] = second_way ? b : a;
            back[4 * t + ns] = (uint8_t)(second_way ? 2 * s2 + p2 : 2 * s1 + p1);
        }
        for (int ns = 0; ns < 4; ns++) cost[ns] = next[ns];
    }
    int state = 0;
    for (int s = 1; s < 4; s++)
        if (cost[s] < cost[state]) state = s;
    for (int64_t t = n - 1; t >= 0; t--) {
        int way = back[4 * t + state];
        int prev = way >> 1, parity = way & 1;
        q[t] = chosen[4 * t + 2 * (prev >> 1) + parity];
        second[t] = (uint8_t)(prev >> 1);
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
