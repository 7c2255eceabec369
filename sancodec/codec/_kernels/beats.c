/* The beat template's prediction (beats.py): acc = sum of g64 * t8 placed at each beat, in int64.
 * Integer sums: every order gives numpy's result. The reader's bounds (beats._exact) keep |acc| and
 * every partial sum within 2**53: each sample takes each tap from at most one beat. */
#include "kernels.h"

EXPORT void san_template_prediction(const int64_t *t8, int64_t m, int64_t anchor, const int64_t *positions,
                                    const int64_t *g64, int64_t count, int64_t length, int64_t *acc) {
    memset(acc, 0, (size_t)length * sizeof(int64_t));
    for (int64_t b = 0; b < count; b++) {
        int64_t start = positions[b] - anchor, g = g64[b];
        int64_t lo = start < 0 ? -start : 0;
        int64_t hi = length - start < m ? length - start : m;
        for (int64_t j = lo; j < hi; j++) acc[start + j] += g * t8[j];
    }
}
