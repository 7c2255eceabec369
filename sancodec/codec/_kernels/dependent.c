/* Dependent (trellis-coded) quantisation of wavelet bands (format 1.12, codec.dependent): the encoder's Viterbi
 * search and the decoder's levels. Four states step by each index's parity (NEXT); states 0 and 1 quantise to even
 * multiples of the step (Q0: level 2k), states 2 and 3 to odd ones and 0 (Q1: level 2k - sign(k)). */
#include "kernels.h"

static const int NEXT[4][2] = {{0, 2}, {2, 0}, {1, 3}, {3, 1}};

static inline double sign_of(double v) { return v > 0.0 ? 1.0 : v < 0.0 ? -1.0 : 0.0; }

/* The cheapest index of each quantiser (0, 1) and parity (0, 1) for the value u (in steps): among the nearest
 * indices k = base - 1, base, base + 1 (base = rint((u + q sign(u)) / 2)) and, with lam > 0, k = 0, the first
 * of least cost (u - level)^2 + lam * rates[q][min(|k|, size - 1)], in that order: codec.dependent's reference
 * weighs them so. */
static void candidates(double u, double lam, const double *rates, int64_t size, double cost[2][2],
                       int64_t index[2][2]) {
    for (int q = 0; q < 2; q++) {
        cost[q][0] = cost[q][1] = INFINITY;
        index[q][0] = index[q][1] = 0;
        double base = nearbyint((u + (double)q * sign_of(u)) / 2.0);
        double tried[4] = {base - 1.0, base, base + 1.0, 0.0};
        int count = lam > 0.0 ? 4 : 3;
        for (int c = 0; c < count; c++) {
            double k = tried[c];
            double level = 2.0 * k - (q ? sign_of(k) : 0.0);
            double d = u - level;
            double miss = d * d;
            double magnitude = fabs(k);
            if (lam > 0.0) {
                int64_t m = magnitude < (double)(size - 1) ? (int64_t)magnitude : size - 1;
                miss = miss + lam * rates[q * size + m];
            }
            int parity = (int)fmod(magnitude, 2.0);
            if (miss < cost[q][parity]) {
                cost[q][parity] = miss;
                index[q][parity] = (int64_t)k;
            }
        }
    }
}

/* q[0..n): the indices of the least-cost path through the trellis from state 0 for the values u (in steps), the
 * cost (u - level)^2 plus lam (squared steps) per bit of rates (2 x size: bits per magnitude under Q0 and Q1);
 * second[t]: the quantiser value t went through. back: n * 4 bytes of room. Ties go as the reference's: a state's
 * first predecessor (by state, then parity) unless the second is strictly cheaper, the first state of least cost
 * at the end. */
EXPORT void san_dq_quantise(const double *u, int64_t n, double lam, const double *rates, int64_t size, int64_t *q,
                            uint8_t *second, uint8_t *back) {
    int pred[4][2][2];  /* per new state: its two (state, parity) predecessors, by state then parity */
    for (int ns = 0; ns < 4; ns++) {
        int found = 0;
        for (int s = 0; s < 4; s++)
            for (int p = 0; p < 2; p++)
                if (NEXT[s][p] == ns) {
                    pred[ns][found][0] = s;
                    pred[ns][found][1] = p;
                    found++;
                }
    }
    double cost[4] = {0.0, INFINITY, INFINITY, INFINITY};
    for (int64_t t = 0; t < n; t++) {
        double cc[2][2];
        int64_t idx[2][2];
        candidates(u[t], lam, rates, size, cc, idx);
        double next[4];
        for (int ns = 0; ns < 4; ns++) {
            int s1 = pred[ns][0][0], p1 = pred[ns][0][1], s2 = pred[ns][1][0], p2 = pred[ns][1][1];
            double a = cost[s1] + cc[s1 >> 1][p1], b = cost[s2] + cc[s2 >> 1][p2];
            if (b < a) {
                next[ns] = b;
                back[4 * t + ns] = (uint8_t)(2 * s2 + p2);
            } else {
                next[ns] = a;
                back[4 * t + ns] = (uint8_t)(2 * s1 + p1);
            }
        }
        for (int ns = 0; ns < 4; ns++) cost[ns] = next[ns];
    }
    int state = 0;
    for (int s = 1; s < 4; s++)
        if (cost[s] < cost[state]) state = s;
    for (int64_t t = n - 1; t >= 0; t--) {
        int way = back[4 * t + state];
        int prev = way >> 1, parity = way & 1;
        double cc[2][2];
        int64_t idx[2][2];
        candidates(u[t], lam, rates, size, cc, idx);
        q[t] = idx[prev >> 1][parity];
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
