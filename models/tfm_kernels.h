// SPDX-License-Identifier: LGPL-2.1-or-later
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

/* The whole attention of 8-wide heads after the q/k/v projections: rows of
 * qkv hold [q | k | v] (3d floats); per sequence of n rows and head, q is
 * softmaxed over the head's 8 features and scaled by q_scale, k over the
 * sequence, then O = q (k^T v) as contract_sequences. False (nothing
 * written) when the CPU lacks AVX2+FMA. */
bool softmax_contract_e8 (const float *qkv, float q_scale, float *O, int64_t count, int64_t n, int64_t d);

/* Index of the smallest (x2 + cross[j]) + e2[j] over j < K, the lowest on
 * ties: one row of the nearest-code search. */
int64_t nearest_in_row (float x2, const float *cross, const float *e2, int64_t K);

/* GroupNorm without the ATen transposes, on `count` sequence-major blocks
 * of L rows x C channels: channel group j = [j*C/groups, (j+1)*C/groups),
 * statistics over the group's channels x the L rows (biased variance, two
 * passes), then the per-channel affine. x and out may be the same array. */
void group_norm_rows (const float *x, int64_t count, int64_t L, int64_t C, int64_t groups, const float *weight,
    const float *bias, float eps, float *out);

/* True when the CPU has AVX2 and FMA, which the *_avx2 kernels need. */
bool have_avx2_fma ();

/* LayerNorm (biased variance, two passes) of `rows` rows of d floats,
 * d % 8 == 0, AVX2+FMA only: out = (x - mean) / sqrt (var + eps) * weight +
 * bias. With `add`, also x_plus_add = x + add per channel (the residual
 * plus the bias of the product that accumulates into it next); x_plus_add
 * may be x. out must not overlap x. */
void layer_norm_rows_avx2 (const float *x, int64_t rows, int64_t d, const float *weight, const float *bias, float eps,
    float *out, const float *add, float *x_plus_add);

/* out = gelu (x + bias) on `rows` rows of n floats (n % 8 == 0; bias per
 * column, may be null; out may be x), AVX2+FMA only. The erf form of GELU
 * (erf within 5e-7 of libm's). */
void bias_gelu_rows_avx2 (const float *x, int64_t rows, int64_t n, const float *bias, float *out);

}  // namespace tfm
}  // namespace neuro
