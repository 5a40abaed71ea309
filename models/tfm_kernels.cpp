// SPDX-License-Identifier: LGPL-2.1-or-later
#include "tfm_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace neuro {
namespace tfm {

namespace {

/* out = (q_scale q) (k^T v) for `count` sequences of n x d, heads of width e: one
 * e x e context per head. E > 0 fixes the head width at compile time so the
 * inner loops unroll into whole vector registers. */
template <int E>
inline __attribute__ ((always_inline)) void
contract_impl (const float *Q, float q_scale, const float *K, const float *V, float *O, int64_t count, int64_t n,
    int64_t d, int64_t e_runtime)
{
  const int64_t e = E > 0 ? E : e_runtime, heads = d / e;
  std::vector<float> ctx (static_cast<size_t> (d * e));  /* heads x e x e */
  float local[E > 0 ? E : 1];
  std::vector<float> heap (E > 0 ? 0 : static_cast<size_t> (e));
  float *acc = E > 0 ? local : heap.data ();
  for (int64_t b = 0; b < count; ++b) {
    const int64_t base = b * n * d;
    std::fill (ctx.begin (), ctx.end (), 0.0f);
    for (int64_t p = 0; p < n; ++p)
      for (int64_t c = 0; c < d; ++c) {
        const float kv = K[base + p * d + c];
        const float *vrow = V + base + p * d + (c / e) * e;
        float *crow = ctx.data () + c * e;
        for (int64_t c2 = 0; c2 < e; ++c2)
          crow[c2] += kv * vrow[c2];
      }
    for (int64_t p = 0; p < n; ++p)
      for (int64_t h = 0; h < heads; ++h) {
        const float *qrow = Q + base + p * d + h * e;
        std::fill (acc, acc + e, 0.0f);
        for (int64_t c = 0; c < e; ++c) {
          const float *crow = ctx.data () + (h * e + c) * e;
          for (int64_t c2 = 0; c2 < e; ++c2)
            acc[c2] += (qrow[c] * q_scale) * crow[c2];
        }
        std::copy (acc, acc + e, O + base + p * d + h * e);
      }
  }
}

/* Cloned for AVX2+FMA (dispatched at load time): the compiler baseline of
 * the project is plain x86-64. */
__attribute__ ((target_clones ("arch=haswell", "default"))) void
contract_sequences_generic (const float *Q, float q_scale, const float *K, const float *V, float *O, int64_t count,
    int64_t n, int64_t d, int64_t e)
{
  if (e == 8)
    contract_impl<8> (Q, q_scale, K, V, O, count, n, d, e);
  else
    contract_impl<0> (Q, q_scale, K, V, O, count, n, d, e);
}

/* contract_impl<8> head by head with the head's 8 x 8 context held in
 * registers: the generic loop stores and reloads a context row per (p, c),
 * which left it bound on store forwarding. Same operations in the same
 * order (FMA over p ascending, then over c ascending), so the same bits. */
__attribute__ ((target ("avx2,fma"))) void
contract_sequences_e8 (const float *Q, float q_scale, const float *K, const float *V, float *O, int64_t count,
    int64_t n, int64_t d)
{
  for (int64_t b = 0; b < count; ++b) {
    const int64_t base = b * n * d;
    for (int64_t h = 0; h < d; h += 8) {
      __m256 ctx[8];
      for (int c = 0; c < 8; ++c)
        ctx[c] = _mm256_setzero_ps ();
      for (int64_t p = 0; p < n; ++p) {
        const float *krow = K + base + p * d + h;
        const __m256 v = _mm256_loadu_ps (V + base + p * d + h);
        for (int c = 0; c < 8; ++c)
          ctx[c] = _mm256_fmadd_ps (_mm256_set1_ps (krow[c]), v, ctx[c]);
      }
      for (int64_t p = 0; p < n; ++p) {
        const float *qrow = Q + base + p * d + h;
        __m256 acc = _mm256_setzero_ps ();
        for (int c = 0; c < 8; ++c)
          acc = _mm256_fmadd_ps (_mm256_set1_ps (qrow[c] * q_scale), ctx[c], acc);
        _mm256_storeu_ps (O + base + p * d + h, acc);
      }
    }
  }
}

/* exp(x) for x <= 0 (softmax arguments after the max is taken off):
 * Cody-Waite reduction to r in [-ln2/2, ln2/2] and a degree-6 polynomial
 * (the Cephes expf coefficients), ~1 ulp; flushes to 0 below -87. */
__attribute__ ((target ("avx2,fma"))) inline __m256
exp_nonpositive (__m256 x)
{
  x = _mm256_max_ps (x, _mm256_set1_ps (-87.0f));
  const __m256 n = _mm256_round_ps (_mm256_mul_ps (x, _mm256_set1_ps (1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps (n, _mm256_set1_ps (0.693359375f), x);
  r = _mm256_fnmadd_ps (n, _mm256_set1_ps (-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps (1.9875691500e-4f);
  y = _mm256_fmadd_ps (y, r, _mm256_set1_ps (1.3981999507e-3f));
  y = _mm256_fmadd_ps (y, r, _mm256_set1_ps (8.3334519073e-3f));
  y = _mm256_fmadd_ps (y, r, _mm256_set1_ps (4.1665795894e-2f));
  y = _mm256_fmadd_ps (y, r, _mm256_set1_ps (1.6666665459e-1f));
  y = _mm256_fmadd_ps (y, r, _mm256_set1_ps (5.0000001201e-1f));
  y = _mm256_fmadd_ps (y, _mm256_mul_ps (r, r), _mm256_add_ps (r, _mm256_set1_ps (1.0f)));
  const __m256i pow2 = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (n), _mm256_set1_epi32 (127)), 23);
  return _mm256_mul_ps (y, _mm256_castsi256_ps (pow2));
}

__attribute__ ((target ("avx2,fma"))) inline __m256
all_lanes_max (__m256 v)
{
  v = _mm256_max_ps (v, _mm256_permute2f128_ps (v, v, 1));
  v = _mm256_max_ps (v, _mm256_permute_ps (v, 0x4e));
  return _mm256_max_ps (v, _mm256_permute_ps (v, 0xb1));
}

__attribute__ ((target ("avx2,fma"))) inline __m256
all_lanes_sum (__m256 v)
{
  v = _mm256_add_ps (v, _mm256_permute2f128_ps (v, v, 1));
  v = _mm256_add_ps (v, _mm256_permute_ps (v, 0x4e));
  return _mm256_add_ps (v, _mm256_permute_ps (v, 0xb1));
}

/* GELU, x/2 (1 + erf (x/sqrt 2)), with erf as the odd rational function
 * z P(z^2) / Q(z^2) on z clamped to [-4, 4] (erf is +-1 in float32 beyond):
 * Eigen's and XLA's float erf, |error| < 5e-7 measured against libm. One
 * division and no exp, about half the cost of the exp-based forms. */
__attribute__ ((target ("avx2,fma"))) inline __m256
gelu_erf (__m256 x)
{
  const __m256 z = _mm256_max_ps (_mm256_min_ps (_mm256_mul_ps (x, _mm256_set1_ps (0.70710678118654752f)),
      _mm256_set1_ps (4.0f)), _mm256_set1_ps (-4.0f));
  const __m256 z2 = _mm256_mul_ps (z, z);
  __m256 p = _mm256_fmadd_ps (z2, _mm256_set1_ps (-2.72614225801306e-10f), _mm256_set1_ps (2.77068142495902e-08f));
  p = _mm256_fmadd_ps (z2, p, _mm256_set1_ps (-2.10102402082508e-06f));
  p = _mm256_fmadd_ps (z2, p, _mm256_set1_ps (-5.69250639462346e-05f));
  p = _mm256_fmadd_ps (z2, p, _mm256_set1_ps (-7.34990630326855e-04f));
  p = _mm256_fmadd_ps (z2, p, _mm256_set1_ps (-2.95459980854025e-03f));
  p = _mm256_fmadd_ps (z2, p, _mm256_set1_ps (-1.60960333262415e-02f));
  __m256 q = _mm256_fmadd_ps (z2, _mm256_set1_ps (-1.45660718464996e-05f), _mm256_set1_ps (-2.13374055278905e-04f));
  q = _mm256_fmadd_ps (z2, q, _mm256_set1_ps (-1.68282697438203e-03f));
  q = _mm256_fmadd_ps (z2, q, _mm256_set1_ps (-7.37332916720468e-03f));
  q = _mm256_fmadd_ps (z2, q, _mm256_set1_ps (-1.42647390514189e-02f));
  const __m256 erf = _mm256_div_ps (_mm256_mul_ps (z, p), q);
  const __m256 half_x = _mm256_mul_ps (x, _mm256_set1_ps (0.5f));
  return _mm256_fmadd_ps (half_x, erf, half_x);
}

/* One head of one sequence: k softmax per feature over the n rows (k holds
 * the unnormalised exponentials afterwards), the 8 x 8 context, then each q
 * row softmaxed and multiplied by it. */
__attribute__ ((target ("avx2,fma"))) void
softmax_contract_head (const float *Q, const float *K, const float *V, int64_t stride, int64_t n, float q_scale,
    float *k, float *O, int64_t out_stride)
{
  __m256 kmax = _mm256_set1_ps (-INFINITY);
  for (int64_t p = 0; p < n; ++p)
    kmax = _mm256_max_ps (kmax, _mm256_loadu_ps (K + p * stride));
  __m256 ksum = _mm256_setzero_ps ();
  for (int64_t p = 0; p < n; ++p) {
    const __m256 e = exp_nonpositive (_mm256_sub_ps (_mm256_loadu_ps (K + p * stride), kmax));
    _mm256_storeu_ps (k + p * 8, e);
    ksum = _mm256_add_ps (ksum, e);
  }
  /* The k softmax's normalisation applied to the context rows once
   * (row c of the context takes feature c's 1 / sum) instead of to every k. */
  alignas (32) float kinv[8];
  _mm256_store_ps (kinv, _mm256_div_ps (_mm256_set1_ps (1.0f), ksum));
  __m256 ctx[8];
  for (int c = 0; c < 8; ++c)
    ctx[c] = _mm256_setzero_ps ();
  for (int64_t p = 0; p < n; ++p) {
    const __m256 v = _mm256_loadu_ps (V + p * stride);
    for (int c = 0; c < 8; ++c)
      ctx[c] = _mm256_fmadd_ps (_mm256_broadcast_ss (k + p * 8 + c), v, ctx[c]);
  }
  for (int c = 0; c < 8; ++c)
    ctx[c] = _mm256_mul_ps (ctx[c], _mm256_set1_ps (kinv[c]));
  /* The q softmax's normalisation and the scale applied once to the output
   * row, (q_scale / sum) (e ctx), instead of to each of its 8 weights. */
  const __m256 scale = _mm256_set1_ps (q_scale);
  for (int64_t p = 0; p < n; ++p) {
    const __m256 qv = _mm256_loadu_ps (Q + p * stride);
    const __m256 e = exp_nonpositive (_mm256_sub_ps (qv, all_lanes_max (qv)));
    alignas (32) float qp[8];
    _mm256_store_ps (qp, e);
    __m256 acc = _mm256_mul_ps (_mm256_set1_ps (qp[0]), ctx[0]);
    for (int c = 1; c < 8; ++c)
      acc = _mm256_fmadd_ps (_mm256_set1_ps (qp[c]), ctx[c], acc);
    _mm256_storeu_ps (O + p * out_stride, _mm256_mul_ps (acc, _mm256_div_ps (scale, all_lanes_sum (e))));
  }
}

/* Index of the smallest (x2 + cross[j]) + e2[j] (first on ties), for the
 * nearest-code search; see TokenizerModel::nearest_codes. */
int64_t
nearest_in_row_scalar (float x2, const float *cross, const float *e2, int64_t K)
{
  float best = (x2 + cross[0]) + e2[0];
  int64_t arg = 0;
  for (int64_t j = 1; j < K; ++j) {
    const float v = (x2 + cross[j]) + e2[j];
    if (v < best) {
      best = v;
      arg = j;
    }
  }
  return arg;
}

/* The same with eight lanes: each lane keeps its first minimum (strict <),
 * then the lanes are merged taking the lowest index among equal values, so
 * the result is exactly the scalar one. */
__attribute__ ((target ("avx2"))) int64_t
nearest_in_row_avx2 (float x2, const float *cross, const float *e2, int64_t K)
{
  const int64_t K8 = K - K % 8;
  if (K8 == 0)
    return nearest_in_row_scalar (x2, cross, e2, K);
  const __m256 vx2 = _mm256_set1_ps (x2);
  __m256 best = _mm256_add_ps (_mm256_add_ps (vx2, _mm256_loadu_ps (cross)), _mm256_loadu_ps (e2));
  __m256i best_idx = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  __m256i idx = best_idx;
  const __m256i step = _mm256_set1_epi32 (8);
  for (int64_t j = 8; j < K8; j += 8) {
    idx = _mm256_add_epi32 (idx, step);
    const __m256 v = _mm256_add_ps (_mm256_add_ps (vx2, _mm256_loadu_ps (cross + j)), _mm256_loadu_ps (e2 + j));
    const __m256 lower = _mm256_cmp_ps (v, best, _CMP_LT_OQ);
    best = _mm256_blendv_ps (best, v, lower);
    best_idx = _mm256_castps_si256 (_mm256_blendv_ps (_mm256_castsi256_ps (best_idx), _mm256_castsi256_ps (idx), lower));
  }
  alignas (32) float vals[8];
  alignas (32) int32_t idxs[8];
  _mm256_store_ps (vals, best);
  _mm256_store_si256 (reinterpret_cast<__m256i *> (idxs), best_idx);
  float b = vals[0];
  int64_t arg = idxs[0];
  for (int l = 1; l < 8; ++l)
    if (vals[l] < b || (vals[l] == b && idxs[l] < arg)) {
      b = vals[l];
      arg = idxs[l];
    }
  for (int64_t j = K8; j < K; ++j) {
    const float v = (x2 + cross[j]) + e2[j];
    if (v < b) {
      b = v;
      arg = j;
    }
  }
  return arg;
}

/* Per-channel sums of `rows` rows of C floats (plain loops: the clones
 * vectorise them over the channels). */
__attribute__ ((target_clones ("arch=haswell", "default"))) void
channel_sums (const float *x, int64_t rows, int64_t C, const float *shift, float *sum)
{
  std::fill (sum, sum + C, 0.0f);
  for (int64_t l = 0; l < rows; ++l)
    for (int64_t c = 0; c < C; ++c) {
      const float v = shift ? x[l * C + c] - shift[c] : x[l * C + c];
      sum[c] += shift ? v * v : v;
    }
}

__attribute__ ((target_clones ("arch=haswell", "default"))) void
scale_shift_rows (const float *x, int64_t rows, int64_t C, const float *scale, const float *shift, float *out)
{
  for (int64_t l = 0; l < rows; ++l)
    for (int64_t c = 0; c < C; ++c)
      out[l * C + c] = x[l * C + c] * scale[c] + shift[c];
}

}  // namespace

void
group_norm_rows (const float *x, int64_t count, int64_t L, int64_t C, int64_t groups, const float *weight,
    const float *bias, float eps, float *out)
{
  const int64_t g = C / groups;
  const float n = static_cast<float> (L * g);
  std::vector<float> sum (static_cast<size_t> (C)), mean (static_cast<size_t> (C));
  std::vector<float> scale (static_cast<size_t> (C)), shift (static_cast<size_t> (C));
  for (int64_t b = 0; b < count; ++b) {
    const float *xb = x + b * L * C;
    channel_sums (xb, L, C, nullptr, sum.data ());
    for (int64_t j = 0; j < groups; ++j) {
      float s = 0.0f;
      for (int64_t c = j * g; c < (j + 1) * g; ++c)
        s += sum[c];
      std::fill (mean.begin () + j * g, mean.begin () + (j + 1) * g, s / n);
    }
    channel_sums (xb, L, C, mean.data (), sum.data ());
    for (int64_t j = 0; j < groups; ++j) {
      float s = 0.0f;
      for (int64_t c = j * g; c < (j + 1) * g; ++c)
        s += sum[c];
      const float rstd = 1.0f / std::sqrt (s / n + eps);
      for (int64_t c = j * g; c < (j + 1) * g; ++c) {
        scale[c] = rstd * weight[c];
        shift[c] = bias[c] - mean[c] * scale[c];
      }
    }
    scale_shift_rows (xb, L, C, scale.data (), shift.data (), out + b * L * C);
  }
}

void
contract_sequences (const float *Q, float q_scale, const float *K, const float *V, float *O, int64_t count, int64_t n,
    int64_t d, int64_t e)
{
  static const bool avx2_fma = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  if (e == 8 && avx2_fma)
    contract_sequences_e8 (Q, q_scale, K, V, O, count, n, d);
  else
    contract_sequences_generic (Q, q_scale, K, V, O, count, n, d, e);
}

bool
softmax_contract_e8 (const float *qkv, float q_scale, float *O, int64_t count, int64_t n, int64_t d)
{
  static const bool avx2_fma = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  if (!avx2_fma)
    return false;
  std::vector<float> k (static_cast<size_t> (n * 8));
  for (int64_t b = 0; b < count; ++b) {
    const float *seq = qkv + b * n * 3 * d;
    for (int64_t h = 0; h < d; h += 8)
      softmax_contract_head (seq + h, seq + d + h, seq + 2 * d + h, 3 * d, n, q_scale, k.data (), O + b * n * d + h, d);
  }
  return true;
}

bool
have_avx2_fma ()
{
  static const bool yes = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  return yes;
}

__attribute__ ((target ("avx2,fma"))) void
layer_norm_rows_avx2 (const float *x, int64_t rows, int64_t d, const float *weight, const float *bias, float eps,
    float *out, const float *add, float *x_plus_add)
{
  const __m256 inv_d = _mm256_set1_ps (1.0f / static_cast<float> (d));
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * d;
    __m256 sum = _mm256_setzero_ps ();
    for (int64_t j = 0; j < d; j += 8)
      sum = _mm256_add_ps (sum, _mm256_loadu_ps (xr + j));
    const __m256 mean = _mm256_mul_ps (all_lanes_sum (sum), inv_d);
    __m256 squares = _mm256_setzero_ps ();
    for (int64_t j = 0; j < d; j += 8) {
      const __m256 dev = _mm256_sub_ps (_mm256_loadu_ps (xr + j), mean);
      squares = _mm256_fmadd_ps (dev, dev, squares);
    }
    const __m256 var = _mm256_mul_ps (all_lanes_sum (squares), inv_d);
    const __m256 rstd = _mm256_div_ps (_mm256_set1_ps (1.0f), _mm256_sqrt_ps (_mm256_add_ps (var, _mm256_set1_ps (eps))));
    for (int64_t j = 0; j < d; j += 8) {
      const __m256 v = _mm256_loadu_ps (xr + j);
      const __m256 normed = _mm256_mul_ps (_mm256_sub_ps (v, mean), rstd);
      _mm256_storeu_ps (out + r * d + j, _mm256_fmadd_ps (normed, _mm256_loadu_ps (weight + j), _mm256_loadu_ps (bias + j)));
      if (add)
        _mm256_storeu_ps (x_plus_add + r * d + j, _mm256_add_ps (v, _mm256_loadu_ps (add + j)));
    }
  }
}

__attribute__ ((target ("avx2,fma"))) void
bias_gelu_rows_avx2 (const float *x, int64_t rows, int64_t n, const float *bias, float *out)
{
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; j += 8) {
      const float *p = x + r * n + j;
      const __m256 v = bias ? _mm256_add_ps (_mm256_loadu_ps (p), _mm256_loadu_ps (bias + j)) : _mm256_loadu_ps (p);
      _mm256_storeu_ps (out + r * n + j, gelu_erf (v));
    }
}

int64_t
nearest_in_row (float x2, const float *cross, const float *e2, int64_t K)
{
  static const bool avx2 = __builtin_cpu_supports ("avx2");
  return avx2 && K < (int64_t{1} << 31) ? nearest_in_row_avx2 (x2, cross, e2, K) : nearest_in_row_scalar (x2, cross, e2, K);
}

}  // namespace tfm
}  // namespace neuro
