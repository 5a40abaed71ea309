#include "tfm_kernels.h"

#include <immintrin.h>

#include <algorithm>
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

}  // namespace

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

int64_t
nearest_in_row (float x2, const float *cross, const float *e2, int64_t K)
{
  static const bool avx2 = __builtin_cpu_supports ("avx2");
  return avx2 && K < (int64_t{1} << 31) ? nearest_in_row_avx2 (x2, cross, e2, K) : nearest_in_row_scalar (x2, cross, e2, K);
}

}  // namespace tfm
}  // namespace neuro
