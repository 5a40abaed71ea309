// SPDX-License-Identifier: LGPL-2.1-or-later
#include "lat_block.h"

#include "tfm_kernels.h"
#include "tfm_models.h"

#include <algorithm>
#include <cmath>

namespace neuro {
namespace tfm {

namespace {

constexpr float kEps = 1e-5f;          /* LayerNorm eps (nn.LayerNorm default) */
/* Rows per tile: ~1 MB of intermediates for emb 64, about one core's L2
 * here; 256 and 1024 rows measured 3 % slower and the same. */
constexpr int64_t kTileRows = 512;

/* Per-thread scratch reused across calls: a fresh buffer of this size per
 * call would be an mmap and page faults every time. */
std::vector<float> &
scratch (size_t floats)
{
  thread_local std::vector<float> buffer;
  if (buffer.size () < floats)
    buffer.resize (floats);
  return buffer;
}

void
gemm_nt (SgemmFn gemm, int64_t M, int64_t N, int64_t K, const float *A, const float *W, float beta, float *C)
{
  if (gemm ('N', 'T', M, N, K, 1.0f, A, K, W, K, beta, C, N) != 0)
    throw ModelError ("oneDNN sgemm failed");
}

/* One block on `rows` rows (whole sequences) of x, in place:
 *   x1 = x + out (attention (norm1 (x)))      the residual and bias prefilled, the GEMM adds to them
 *   x  = x1 + ff2 (gelu (ff1 (norm2 (x1)))) */
void
block_tile (SgemmFn gemm, const LatBlockArrays &w, float q_scale, float *x, int64_t seqs, int64_t n, int64_t d,
    float *a, float *qkv, float *hidden)
{
  const int64_t rows = seqs * n;
  layer_norm_rows_avx2 (x, rows, d, w.norm1_weight, w.norm1_bias, kEps, a, w.out_bias, x);
  gemm_nt (gemm, rows, 3 * d, d, a, w.qkv, 0.0f, qkv);
  softmax_contract_e8 (qkv, q_scale, a, seqs, n, d);
  gemm_nt (gemm, rows, d, d, a, w.out, 1.0f, x);
  layer_norm_rows_avx2 (x, rows, d, w.norm2_weight, w.norm2_bias, kEps, a, w.ff2_bias, x);
  gemm_nt (gemm, rows, w.hidden, d, a, w.ff1, 0.0f, hidden);
  bias_gelu_rows_avx2 (hidden, rows, w.hidden, w.ff1_bias, hidden);
  gemm_nt (gemm, rows, d, w.hidden, hidden, w.ff2, 1.0f, x);
}

}  // namespace

bool
lat_blocks_in_place (SgemmFn gemm, const std::vector<LatBlockArrays> &blocks, int64_t heads, float *x, int64_t count,
    int64_t n, int64_t d)
{
  int64_t hidden = 0;
  for (const LatBlockArrays &b : blocks) {
    if (b.hidden % 8 != 0)
      return false;
    hidden = std::max (hidden, b.hidden);
  }
  if (!gemm || !have_avx2_fma () || heads <= 0 || d != 8 * heads || count <= 0 || n <= 0)
    return false;
  const int64_t seqs_per_tile = std::max<int64_t> (1, kTileRows / n), tile_rows = seqs_per_tile * n;
  std::vector<float> &buf = scratch (static_cast<size_t> (tile_rows * (4 * d + hidden)));
  float *a = buf.data (), *qkv = a + tile_rows * d, *h = qkv + tile_rows * 3 * d;
  const float q_scale = static_cast<float> (std::pow (8.0, -0.5));
  for (int64_t s = 0; s < count; s += seqs_per_tile) {
    const int64_t seqs = std::min (seqs_per_tile, count - s);
    for (const LatBlockArrays &b : blocks)
      block_tile (gemm, b, q_scale, x + s * n * d, seqs, n, d, a, qkv, h);
  }
  return true;
}

}  // namespace tfm
}  // namespace neuro
