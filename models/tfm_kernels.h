/* Hand-written CPU kernels of the TFM models on raw float arrays, with AVX2
 * versions chosen at run time (the project's baseline is plain x86-64).
 * Every vector version gives exactly the bits of its scalar form. */
#pragma once

#include <cstdint>

namespace neuro {
namespace tfm {

/* Linear attention contraction: O = (q_scale Q) (K^T V) per sequence and
 * head, for `count` sequences of n x d stored one after the other, heads of
 * e channels ([j*e, (j+1)*e)). */
void contract_sequences (const float *Q, float q_scale, const float *K, const float *V, float *O, int64_t count,
    int64_t n, int64_t d, int64_t e);

/* Index of the smallest (x2 + cross[j]) + e2[j] over j < K, the lowest on
 * ties: one row of the nearest-code search. */
int64_t nearest_in_row (float x2, const float *cross, const float *e2, int64_t K);

}  // namespace tfm
}  // namespace neuro
