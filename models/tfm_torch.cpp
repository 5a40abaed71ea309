/* The TFM tokenizer and classifier as ATen ops (reference/TFM_ARCHITECTURE.md).
 *
 * Layout choice: every stage works sequence-major, (batch, length, channels),
 * so the kernel-1 convolutions and the patch convolutions become plain
 * matrix products over contiguous rows, and the GroupNorms are computed on
 * that layout directly instead of transposing back and forth. */
#include "tfm_torch.h"

#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <ATen/ops/addcmul.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <dlfcn.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

namespace neuro {
namespace tfm {

namespace {

constexpr double kNormEps = 1e-5;       /* LayerNorm and GroupNorm */
constexpr double kAttnDropout = 0.2;    /* after each attention output projection */
constexpr double kPosDropout = 0.1;     /* classifier PositionalEncoding */
constexpr double kEmaEps = 1e-5;        /* Laplace smoothing of EMA cluster sizes */

const at::TensorOptions kFloat = at::TensorOptions ().dtype (at::kFloat);
const at::TensorOptions kLong = at::TensorOptions ().dtype (at::kLong);

[[noreturn]] void
fail (const std::string &where, const std::string &what)
{
  throw ModelError (where + ": " + what);
}

/* nn.Linear / nn.Conv1d default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
 * weight and bias (kaiming_uniform with a = sqrt(5) reduces to this). */
void
add_affine (Weights &w, const std::string &name, at::IntArrayRef weight_shape, int64_t fan_in)
{
  const double bound = 1.0 / std::sqrt (static_cast<double> (fan_in));
  w.add (name + ".weight", at::empty (weight_shape, kFloat).uniform_ (-bound, bound), true);
  w.add (name + ".bias", at::empty ({weight_shape[0]}, kFloat).uniform_ (-bound, bound), true);
}

void
add_norm (Weights &w, const std::string &name, int64_t channels)
{
  w.add (name + ".weight", at::ones ({channels}, kFloat), true);
  w.add (name + ".bias", at::zeros ({channels}, kFloat), true);
}

/* GroupNorm on a (B, L, C) tensor: statistics over (C/groups channels x L).
 * A GroupNorm without affine is a LayerNorm over each group's values, so the
 * group-major copy goes through ATen's fused LayerNorm (var_mean on this
 * layout is ~10x slower); the per-channel affine is applied while copying
 * back to the sequence-major layout. */
at::Tensor
group_norm_seq (const at::Tensor &x, int64_t groups, const at::Tensor &weight, const at::Tensor &bias)
{
  const int64_t B = x.size (0), L = x.size (1), C = x.size (2), g = C / groups;
  const at::Tensor grouped = x.reshape ({B, L, groups, g}).permute ({0, 2, 1, 3}).reshape ({B, groups, L * g});
  const at::Tensor normed = at::layer_norm (grouped, {L * g}, {}, {}, kNormEps)
      .view ({B, groups, L, g}).permute ({0, 2, 1, 3}).reshape ({B, L, C});
  return at::addcmul (bias, normed, weight);
}

using SgemmFn = int (*) (char, char, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
    int64_t, float, float *, int64_t);

/* oneDNN's row-major sgemm, from the libdnnl that LibTorch already loads.
 * Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back to
 * its SSE3 (Prescott) kernels, 4-5x slower than oneDNN's JIT kernels on the
 * GEMM shapes of these models. Null when the library is absent, and under
 * Valgrind: the JIT kernels read up to 32 bytes past their own packing
 * buffers (harmless, but memcheck would report it in every test). */
SgemmFn
onednn_sgemm ()
{
  static const SgemmFn fn = [] () -> SgemmFn {
#ifdef RUNNING_ON_VALGRIND
    if (RUNNING_ON_VALGRIND)
      return nullptr;
#endif
    void *lib = dlopen ("libdnnl.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (!lib)
      lib = dlopen ("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    return lib ? reinterpret_cast<SgemmFn> (dlsym (lib, "dnnl_sgemm")) : nullptr;
  }();
  return fn;
}

bool
records_gradients (std::initializer_list<at::Tensor> tensors)
{
  if (!at::GradMode::is_enabled ())
    return false;
  for (const at::Tensor &t : tensors)
    if (t.defined () && t.requires_grad ())
      return true;
  return false;
}

/* alpha * (x W^T) + bias over the last axis of x: at::linear when autograd
 * records, oneDNN otherwise (same maths, the fast kernels for inference). */
at::Tensor
dense (const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, float alpha = 1.0f)
{
  const SgemmFn gemm = onednn_sgemm ();
  if (!gemm || records_gradients ({x, weight, bias})) {
    if (alpha == 1.0f)
      return at::linear (x, weight, bias);
    const at::Tensor y = at::linear (x, weight) * alpha;
    return bias.defined () ? y + bias : y;
  }
  const int64_t K = x.size (-1), N = weight.size (0);
  const at::Tensor a = x.contiguous (), w = weight.contiguous ();
  const int64_t M = K ? a.numel () / K : 0;
  std::vector<int64_t> shape (x.sizes ().begin (), x.sizes ().end ());
  shape.back () = N;
  at::Tensor y = at::empty (shape, x.options ());
  /* The bias is pre-filled and accumulated by the GEMM (beta = 1), saving a
   * pass over the output; bias + acc rounds like at::linear's addmm. */
  if (bias.defined ())
    y.copy_ (bias.expand (shape));
  if (M > 0 && gemm ('N', 'T', M, N, K, alpha, a.data_ptr<float> (), K, w.data_ptr<float> (), K,
      bias.defined () ? 1.0f : 0.0f, y.data_ptr<float> (), N) != 0)
    throw ModelError ("oneDNN sgemm failed");
  return y;
}

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

int64_t
nearest_in_row (float x2, const float *cross, const float *e2, int64_t K)
{
  static const bool avx2 = __builtin_cpu_supports ("avx2");
  return avx2 && K < (int64_t{1} << 31) ? nearest_in_row_avx2 (x2, cross, e2, K) : nearest_in_row_scalar (x2, cross, e2, K);
}

/* Linear attention contraction per sequence and head: out = (q_scale q) (k^T v).
 * q, k, v: (B, n, d), head j = channels [j*e, (j+1)*e). Without autograd a
 * direct loop (e x e context per head); with autograd two bmm over (d x d)
 * contexts masked to their head blocks (exact zeros elsewhere, so the same
 * values). ATen's bmm runs one small GEMM per sequence, which costs more
 * than the arithmetic here. */
at::Tensor
attention_contraction (const at::Tensor &q, float q_scale, const at::Tensor &k, const at::Tensor &v, int64_t heads)
{
  const int64_t B = q.size (0), n = q.size (1), d = q.size (2), e = d / heads;
  if (records_gradients ({q, k, v})) {
    at::Tensor mask = at::zeros ({d, d}, kFloat);
    for (int64_t h = 0; h < heads; ++h)
      mask.narrow (0, h * e, e).narrow (1, h * e, e).fill_ (1.0);
    return at::bmm (q * q_scale, at::bmm (k.transpose (1, 2), v) * mask);
  }
  const at::Tensor qc = q.contiguous (), kc = k.contiguous (), vc = v.contiguous ();
  at::Tensor out = at::empty ({B, n, d}, q.options ());
  const float *Q = qc.data_ptr<float> (), *K = kc.data_ptr<float> (), *V = vc.data_ptr<float> ();
  float *O = out.data_ptr<float> ();
  at::parallel_for (0, B, 16, [&] (int64_t b0, int64_t b1) {
    contract_sequences (Q + b0 * n * d, q_scale, K + b0 * n * d, V + b0 * n * d, O + b0 * n * d, b1 - b0, n, d, e);
  });
  return out;
}

at::Tensor
gelu_group_norm (const at::Tensor &x, int64_t groups, const Weights &w, const std::string &norm)
{
  return group_norm_seq (at::gelu (x), groups, w[norm + ".weight"], w[norm + ".bias"]);
}

/* Pointwise (kernel 1) conv on (B, L, C): its (out, in, 1) weight as a Linear. */
at::Tensor
pointwise (const at::Tensor &x, const Weights &w, const std::string &conv)
{
  const at::Tensor &weight = w[conv + ".weight"];
  return dense (x, weight.view ({weight.size (0), weight.size (1)}), w[conv + ".bias"]);
}

at::Tensor
linear_attention (const Weights &w, const std::string &p, int heads, const at::Tensor &a)
{
  const int64_t B = a.size (0), n = a.size (1), d = a.size (2), e = d / heads;
  const at::Tensor none;
  /* q: softmax over each head's features, then the head-width scale. */
  const at::Tensor q = dense (a, w[p + ".to_q.weight"], none).view ({B, n, heads, e}).softmax (-1).view ({B, n, d});
  /* k: softmax over the sequence, per feature (heads do not matter here). */
  const at::Tensor k = dense (a, w[p + ".to_k.weight"], none).softmax (1);
  const at::Tensor v = dense (a, w[p + ".to_v.weight"], none);
  return dense (attention_contraction (q, static_cast<float> (std::pow (e, -0.5)), k, v, heads),
      w[p + ".to_out.weight"], w[p + ".to_out.bias"]);
}

at::Tensor
lat_block (const Weights &w, const std::string &p, int heads, const at::Tensor &x, bool training)
{
  const int64_t d = x.size (2);
  const at::Tensor a = at::layer_norm (x, {d}, w[p + ".0.norm.weight"], w[p + ".0.norm.bias"], kNormEps);
  const at::Tensor y = at::dropout (linear_attention (w, p + ".0.fn", heads, a), kAttnDropout, training);
  const at::Tensor x1 = x + y;
  const at::Tensor b = at::layer_norm (x1, {d}, w[p + ".1.norm.weight"], w[p + ".1.norm.bias"], kNormEps);
  const std::string ff = p + ".1.fn.fn";
  const at::Tensor hidden = at::gelu (dense (b, w[ff + ".w1.weight"], w[ff + ".w1.bias"]));
  return x1 + dense (hidden, w[ff + ".w2.weight"], w[ff + ".w2.bias"]);
}

std::string
block_prefix (const std::string &stack, int i)
{
  return stack + ".layers.layers." + std::to_string (i);
}

/* Conv weight (out, in, k) reordered to (out, k*in) so that a patch stored
 * position-major (k, in) multiplies it directly. */
at::Tensor
patch_weight (const at::Tensor &conv_weight)
{
  return conv_weight.permute ({0, 2, 1}).reshape ({conv_weight.size (0), -1});
}

/* Free blocks kept for reuse by one tokenizer worker slot. glibc gives each
 * worker thread its own arena and trims it after every large free, so the
 * multi-megabyte activations of every op were faulted in afresh (~6,000 page
 * faults per 64-window call, with TLB shootdowns between the cores); a chunk
 * repeats the same sizes, so exact-size reuse keeps them mapped. */
class BlockCache {
 public:
  void *
  take (size_t n)
  {
    std::lock_guard<std::mutex> lock (mutex_);
    const auto it = free_.find (n);
    if (it == free_.end ())
      return nullptr;
    void *p = it->second;
    free_.erase (it);
    cached_ -= n;
    return p;
  }

  /* False when the cache is full: the caller frees the block. */
  bool
  keep (void *p, size_t n)
  {
    constexpr size_t kMaxCached = size_t{64} << 20;  /* > one 2x2x8 chunk's working set */
    std::lock_guard<std::mutex> lock (mutex_);
    if (cached_ + n > kMaxCached)
      return false;
    free_.emplace (n, p);
    cached_ += n;
    return true;
  }

 private:
  std::mutex mutex_;
  std::multimap<size_t, void *> free_;  /* total size -> block */
  size_t cached_ = 0;
};

thread_local BlockCache *t_worker_cache = nullptr;

/* Header in front of each cached block's data (one alignment unit, so the
 * data keeps c10's 64-byte alignment), so the data pointer is the deleter's
 * context as in c10's own allocator. */
struct alignas (64) BlockHeader {
  BlockCache *cache;
  size_t total;
};

void
release_block (void *data)
{
  BlockHeader *h = static_cast<BlockHeader *> (data) - 1;
  if (!h->cache || !h->cache->keep (h, h->total))
    c10::free_cpu (h);
}

/* The CPU allocator: threads outside a tokenizer worker (t_worker_cache
 * null) use the allocator it replaced, unchanged. Inside a worker every
 * block has the header, so one raw deleter serves all sizes (ATen kernels
 * allocate raw scratch too); only large blocks are cached. */
class WorkerAllocator final : public at::Allocator {
 public:
  explicit WorkerAllocator (at::Allocator *base) : base_ (base) {}

  at::DataPtr
  allocate (size_t n) const override
  {
    constexpr size_t kMinCached = size_t{64} << 10;  /* below this glibc reuses well */
    BlockCache *cache = t_worker_cache;
    if (!cache)
      return base_->allocate (n);
    if (n < kMinCached)
      cache = nullptr;
    const size_t total = n + sizeof (BlockHeader);
    void *block = cache ? cache->take (total) : nullptr;
    if (!block)
      block = c10::alloc_cpu (total);
    BlockHeader *h = static_cast<BlockHeader *> (block);
    h->cache = cache;
    h->total = total;
    return {h + 1, h + 1, &release_block, at::Device (at::DeviceType::CPU)};
  }

  at::DeleterFnPtr
  raw_deleter () const override
  {
    return t_worker_cache ? &release_block : base_->raw_deleter ();
  }

 private:
  at::Allocator *base_;
};

/* Makes this thread a tokenizer worker allocating from slot `slot`'s cache.
 * The caches and the allocator live for the process: blocks may be released
 * after a model is gone. */
class WorkerMemory {
 public:
  explicit WorkerMemory (int slot)
  {
    constexpr int kSlots = 16;
    static BlockCache *caches = new BlockCache[kSlots];
    static std::once_flag installed;
    std::call_once (installed, [] () { c10::SetCPUAllocator (new WorkerAllocator (c10::GetCPUAllocator ())); });
    previous_ = t_worker_cache;
    t_worker_cache = &caches[slot % kSlots];
  }
  ~WorkerMemory () { t_worker_cache = previous_; }
  WorkerMemory (const WorkerMemory &) = delete;
  WorkerMemory &operator= (const WorkerMemory &) = delete;

 private:
  BlockCache *previous_;
};

void
put_int (std::map<std::string, std::string> &m, const char *key, int v)
{
  m[key] = std::to_string (v);
}

}  // namespace

/* ---- threads ---------------------------------------------------------- */

SerialThreads::SerialThreads () : previous_ (at::get_num_threads ())
{
  at::set_num_threads (1);
}

SerialThreads::~SerialThreads ()
{
  at::set_num_threads (previous_);
}

/* ---- configs ---------------------------------------------------------- */

void
TokenizerConfig::validate (const std::string &where) const
{
  if (emb <= 0 || heads <= 0 || emb % heads != 0)
    fail (where, "embedding-size " + std::to_string (emb) + " is not a multiple of heads " + std::to_string (heads));
  if (emb % 8 != 0)
    fail (where, "embedding-size must be a multiple of 8 (GroupNorm groups of emb/4 over emb/2 channels)");
  if (freq_patch <= 0 || bins < freq_patch * freq_patch)
    fail (where, "bins (" + std::to_string (bins) + ") must be at least freq-patch^2 (" +
        std::to_string (freq_patch * freq_patch) + ")");
  if (agg_channels () <= 0 || agg_channels () * agg_positions () != emb / 2)
    fail (where, "frequency features (" + std::to_string (agg_channels ()) + " x " + std::to_string (agg_positions ()) +
        ") must equal embedding-size/2 = " + std::to_string (emb / 2) + "; choose bins/freq-patch accordingly");
  if (kernel <= 0 || stride <= 0 || codebook <= 0 || freq_depth < 0 || temporal_depth < 0 || decoder_depth < 0)
    fail (where, "n-fft, hop, vocabulary must be positive and depths non-negative");
}

TokenizerConfig
TokenizerConfig::from_file (const SafetensorsFile &file)
{
  TokenizerConfig c;
  c.emb = metadata_int (file, "embedding-size", c.emb);
  c.heads = metadata_int (file, "heads", c.heads);
  c.freq_depth = metadata_int (file, "freq-depth", c.freq_depth);
  c.temporal_depth = metadata_int (file, "temporal-depth", c.temporal_depth);
  c.decoder_depth = metadata_int (file, "decoder-depth", c.decoder_depth);
  c.codebook = metadata_int (file, "vocabulary", c.codebook);
  c.bins = metadata_int (file, "bins", c.bins);
  c.freq_patch = metadata_int (file, "freq-patch", c.freq_patch);
  c.kernel = metadata_int (file, "n-fft", c.kernel);
  c.stride = metadata_int (file, "hop", c.stride);
  c.validate ("model file '" + file.path () + "'");
  return c;
}

std::map<std::string, std::string>
TokenizerConfig::metadata () const
{
  std::map<std::string, std::string> m;
  m["architecture"] = "tfm-tokenizer";
  put_int (m, "embedding-size", emb);
  put_int (m, "heads", heads);
  put_int (m, "freq-depth", freq_depth);
  put_int (m, "temporal-depth", temporal_depth);
  put_int (m, "decoder-depth", decoder_depth);
  put_int (m, "vocabulary", codebook);
  put_int (m, "bins", bins);
  put_int (m, "freq-patch", freq_patch);
  put_int (m, "n-fft", kernel);
  put_int (m, "hop", stride);
  return m;
}

void
ClassifierConfig::validate (const std::string &where) const
{
  if (emb <= 0 || heads <= 0 || emb % heads != 0)
    fail (where, "embedding-size " + std::to_string (emb) + " is not a multiple of heads " + std::to_string (heads));
  if (depth < 0 || vocabulary <= 0 || channels <= 0 || max_frames <= 0 || classes <= 0)
    fail (where, "depth, vocabulary, channels, frames and classes must be positive");
}

ClassifierConfig
ClassifierConfig::from_file (const SafetensorsFile &file)
{
  const std::string where = "model file '" + file.path () + "'";
  ClassifierConfig c;
  c.emb = metadata_int (file, "embedding-size", c.emb);
  c.heads = metadata_int (file, "heads", c.heads);
  c.depth = metadata_int (file, "depth", c.depth);
  c.vocabulary = metadata_int (file, "vocabulary", c.vocabulary);
  const auto rows = [&] (const char *name, size_t dim) -> int {
    const TensorEntry &e = file.entry (name);
    if (e.shape.size () <= dim)
      fail (where, std::string ("tensor '") + name + "' has shape " + shape_string (e.shape));
    return static_cast<int> (e.shape[dim]);
  };
  c.channels = rows ("channel_embed.weight", 0);
  c.max_frames = rows ("temporal_pos_embed.pe", 1);
  c.classes = rows ("classification_head.weight", 0);
  c.validate (where);
  return c;
}

std::map<std::string, std::string>
ClassifierConfig::metadata () const
{
  std::map<std::string, std::string> m;
  m["architecture"] = "tfm-encoder";
  put_int (m, "embedding-size", emb);
  put_int (m, "heads", heads);
  put_int (m, "depth", depth);
  put_int (m, "vocabulary", vocabulary);
  return m;
}

/* ---- weights ---------------------------------------------------------- */

void
Weights::add (const std::string &name, const at::Tensor &t, bool trainable)
{
  index_[name] = tensors_.size ();
  tensors_.emplace_back (name, trainable ? t.set_requires_grad (true) : t);
  trainable_.push_back (trainable);
}

const at::Tensor &
Weights::operator[] (const std::string &name) const
{
  auto it = index_.find (name);
  if (it == index_.end ())
    throw ModelError ("internal: no tensor named '" + name + "'");
  return tensors_[it->second].second;
}

std::vector<at::Tensor>
Weights::parameters () const
{
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < tensors_.size (); ++i)
    if (trainable_[i])
      out.push_back (tensors_[i].second);
  return out;
}

std::vector<std::string>
Weights::names () const
{
  std::vector<std::string> out;
  for (const auto &t : tensors_)
    out.push_back (t.first);
  return out;
}

void
Weights::load_from (const SafetensorsFile &file)
{
  file.require_names (names ());
  at::NoGradGuard no_grad;
  for (auto &[name, t] : tensors_) {
    file.require_shape (name, Shape (t.sizes ().begin (), t.sizes ().end ()));
    if (t.scalar_type () == at::kLong) {
      const std::vector<int64_t> v = file.ints (name);
      std::memcpy (t.data_ptr<int64_t> (), v.data (), v.size () * sizeof (int64_t));
    } else {
      const std::vector<float> v = file.floats (name);
      std::memcpy (t.data_ptr<float> (), v.data (), v.size () * sizeof (float));
    }
  }
}

void
Weights::save (const std::string &path, const std::map<std::string, std::string> &metadata) const
{
  std::vector<at::Tensor> keep;  /* contiguous copies alive until written */
  std::vector<TensorData> out;
  for (const auto &[name, t] : tensors_) {
    keep.push_back (t.detach ().contiguous ());
    const bool is_long = t.scalar_type () == at::kLong;
    out.push_back ({name, is_long ? DType::I64 : DType::F32, Shape (t.sizes ().begin (), t.sizes ().end ()),
        keep.back ().data_ptr ()});
  }
  write_safetensors (path, out, metadata);
}

/* ---- linear-attention stack ------------------------------------------- */

void
add_lat_stack (Weights &w, const std::string &prefix, int depth, int emb)
{
  const int64_t d = emb, hidden = 4 * emb;
  const double qkv_bound = 1.0 / std::sqrt (static_cast<double> (d));
  for (int i = 0; i < depth; ++i) {
    const std::string p = block_prefix (prefix, i);
    for (const char *m : {"to_q", "to_k", "to_v"})
      w.add (p + ".0.fn." + m + ".weight", at::empty ({d, d}, kFloat).uniform_ (-qkv_bound, qkv_bound), true);
    add_affine (w, p + ".0.fn.to_out", {d, d}, d);
    add_norm (w, p + ".0.norm", d);
    add_affine (w, p + ".1.fn.fn.w1", {hidden, d}, d);
    add_affine (w, p + ".1.fn.fn.w2", {d, hidden}, hidden);
    add_norm (w, p + ".1.norm", d);
  }
}

at::Tensor
lat_stack (const Weights &w, const std::string &prefix, int depth, int heads, const at::Tensor &x, bool training)
{
  at::Tensor h = x;
  for (int i = 0; i < depth; ++i)
    h = lat_block (w, block_prefix (prefix, i), heads, h, training);
  return h;
}

/* ---- tokenizer -------------------------------------------------------- */

TokenizerModel::TokenizerModel (const TokenizerConfig &config) : config_ (config)
{
  config_.validate ("tokenizer config");
  const TokenizerConfig &c = config_;
  const int64_t e = c.emb, A = c.agg_channels ();
  Weights &w = weights_;
  add_affine (w, "freq_patch_embedding.0", {e, 1, c.freq_patch}, c.freq_patch);
  add_norm (w, "freq_patch_embedding.2", e);
  add_affine (w, "freq_patch_embedding.3", {e, e, 1}, e);
  add_norm (w, "freq_patch_embedding.5", e);
  add_affine (w, "freq_patch_embedding.6", {e, e, 1}, e);
  add_norm (w, "freq_patch_embedding.8", e);
  add_lat_stack (w, "trans_freq_encoder.transformer", c.freq_depth, c.emb);
  add_affine (w, "temporal_patch_embedding.0", {e, 1, c.kernel}, c.kernel);
  add_norm (w, "temporal_patch_embedding.2", e);
  add_affine (w, "temporal_patch_embedding.3", {e, e, 1}, e);
  add_norm (w, "temporal_patch_embedding.5", e);
  add_affine (w, "temporal_patch_embedding.6", {e / 2, e, 1}, e);
  add_norm (w, "temporal_patch_embedding.8", e / 2);
  add_affine (w, "freq_patch_embedding_2_atten.0", {A, e, c.freq_patch}, e * c.freq_patch);
  add_affine (w, "freq_patch_embedding_2.0", {A, e, c.freq_patch}, e * c.freq_patch);
  add_lat_stack (w, "trans_temporal_encoder.transformer", c.temporal_depth, c.emb);
  /* The codebook moves only by EMA (no gradient reaches it through the
   * authors' straight-through losses), so it is not an optimiser parameter. */
  const at::Tensor codebook = at::empty ({c.codebook, e}, kFloat).uniform_ (-1.0 / c.codebook, 1.0 / c.codebook);
  w.add ("quantizer.cluster_size", at::zeros ({c.codebook}, kFloat), false);
  w.add ("quantizer.ema_w", codebook.clone (), false);
  w.add ("quantizer.embedding.weight", codebook, false);
  add_lat_stack (w, "trans_decoder.transformer", c.decoder_depth, c.emb);
  add_affine (w, "decoder.0", {e, e}, e);
  add_affine (w, "decoder.2", {c.bins, e}, e);
}

TokenizerModel
TokenizerModel::load (const std::string &path)
{
  const SafetensorsFile file = SafetensorsFile::open (path);
  TokenizerModel m (TokenizerConfig::from_file (file));
  m.weights_.load_from (file);
  return m;
}

void
TokenizerModel::save (const std::string &path, const std::map<std::string, std::string> &metadata) const
{
  std::map<std::string, std::string> meta = config_.metadata ();
  for (const auto &kv : metadata)
    meta[kv.first] = kv.second;
  weights_.save (path, meta);
}

at::Tensor
TokenizerModel::frequency_features (const at::Tensor &stft) const
{
  const TokenizerConfig &c = config_;
  const Weights &w = weights_;
  const int64_t N = stft.size (0), T = stft.size (2), P = c.freq_patches (), p = c.freq_patch;
  const int64_t groups = c.emb / 4, A = c.agg_channels (), P2 = c.agg_positions ();
  /* Each (window, frame) spectrum cut into P patches of p bins. */
  at::Tensor x = stft.transpose (1, 2).narrow (2, 0, P * p).reshape ({N * T, P, p});
  x = dense (x, w["freq_patch_embedding.0.weight"].view ({c.emb, p}), w["freq_patch_embedding.0.bias"]);
  x = gelu_group_norm (x, groups, w, "freq_patch_embedding.2");
  x = gelu_group_norm (pointwise (x, w, "freq_patch_embedding.3"), groups, w, "freq_patch_embedding.5");
  x = gelu_group_norm (pointwise (x, w, "freq_patch_embedding.6"), groups, w, "freq_patch_embedding.8");
  x = lat_stack (w, "trans_freq_encoder.transformer", c.freq_depth, c.heads, x, training_);
  /* Gated aggregation: value and gate convs (kernel = stride = p over the
   * patch axis) in one product; features flattened channel-major. */
  const at::Tensor groups_of_patches = x.narrow (1, 0, P2 * p).reshape ({N * T, P2, p * c.emb});
  const at::Tensor weight = at::cat ({patch_weight (w["freq_patch_embedding_2.0.weight"]),
      patch_weight (w["freq_patch_embedding_2_atten.0.weight"])}, 0);
  const at::Tensor bias = at::cat ({w["freq_patch_embedding_2.0.bias"], w["freq_patch_embedding_2_atten.0.bias"]}, 0);
  const at::Tensor both = dense (groups_of_patches, weight, bias);
  const at::Tensor u = both.narrow (2, 0, A) * both.narrow (2, A, A).sigmoid ();
  return u.transpose (1, 2).reshape ({N, T, A * P2});
}

at::Tensor
TokenizerModel::temporal_features (const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  const Weights &w = weights_;
  const int64_t groups = c.emb / 4;
  /* Conv1d(1 -> emb, kernel, stride) as a product over the framed signal. */
  at::Tensor x = raw.unfold (1, c.kernel, c.stride);
  x = dense (x, w["temporal_patch_embedding.0.weight"].view ({c.emb, c.kernel}), w["temporal_patch_embedding.0.bias"]);
  x = gelu_group_norm (x, groups, w, "temporal_patch_embedding.2");
  x = gelu_group_norm (pointwise (x, w, "temporal_patch_embedding.3"), groups, w, "temporal_patch_embedding.5");
  return gelu_group_norm (pointwise (x, w, "temporal_patch_embedding.6"), groups, w, "temporal_patch_embedding.8");
}

void
TokenizerModel::check_inputs (const at::Tensor &stft, const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  if (stft.dim () != 3 || raw.dim () != 2 || stft.size (0) != raw.size (0) || stft.size (1) < c.bins ||
      raw.size (1) < c.kernel || stft.size (2) != (raw.size (1) - c.kernel) / c.stride + 1 ||
      stft.scalar_type () != at::kFloat || raw.scalar_type () != at::kFloat)
    fail ("tokenizer", "stft must be float (N, " + std::to_string (c.bins) + ", T) and raw float (N, (T-1)*" +
        std::to_string (c.stride) + "+" + std::to_string (c.kernel) + ")");
}

at::Tensor
TokenizerModel::encode (const at::Tensor &stft, const at::Tensor &raw) const
{
  check_inputs (stft, raw);
  return encode_features (frequency_features (stft), raw);
}

at::Tensor
TokenizerModel::encode_features (const at::Tensor &freq, const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  const at::Tensor x = at::cat ({freq, temporal_features (raw)}, 2);
  const at::Tensor h = lat_stack (weights_, "trans_temporal_encoder.transformer", c.temporal_depth, c.heads, x, training_);
  return h / h.norm (2, {-1}, true).clamp_min (1e-12);
}

at::Tensor
TokenizerModel::nearest_codes (const at::Tensor &quant_in) const
{
  /* Rows per distance block: bounds the (rows x codebook) float32 matrix. */
  constexpr int64_t kRows = 512;
  at::NoGradGuard no_grad;
  const at::Tensor &E = weights_["quantizer.embedding.weight"];
  const at::Tensor flat = quant_in.detach ().reshape ({-1, config_.emb}).contiguous ();
  const at::Tensor e2 = E.detach ().pow (2).sum (1).contiguous ();
  const at::Tensor x2 = flat.pow (2).sum (1).contiguous ();
  const int64_t rows = flat.size (0), K = E.size (0);
  at::Tensor indices = at::empty ({rows}, kLong);
  int64_t *out = indices.data_ptr<int64_t> ();
  const float *ee = e2.data_ptr<float> (), *xx = x2.data_ptr<float> ();
  for (int64_t s = 0; s < rows; s += kRows) {
    const int64_t m = std::min (kRows, rows - s);
    const at::Tensor cross = dense (flat.narrow (0, s, m), E.detach (), at::Tensor (), -2.0f).contiguous ();
    const float *d = cross.data_ptr<float> ();
    /* (|x|^2 - 2 x.E) + |E|^2 in float32, in that order as the reference
     * (x2 + (-2 x.E) rounds exactly like x2 - 2 x.E); strict < keeps the
     * lowest index on ties. One pass, no distance matrix written back. */
    for (int64_t r = 0; r < m; ++r)
      out[s + r] = nearest_in_row (xx[s + r], d + r * K, ee, K);
  }
  return indices.view ({quant_in.size (0), quant_in.size (1)});
}

/* Windows per chunk: keeps the per-chunk activations (~3 MB per tensor for
 * 2x2x8) in cache. Windows never interact, so chunking changes no value. */
constexpr int64_t kChunk = 8;

void
TokenizerModel::in_chunks (int64_t N, const std::function<void (int64_t, int64_t)> &run) const
{
  const int64_t chunks = (N + kChunk - 1) / kChunk;
  auto run_chunk = [&] (int64_t chunk) {
    const int64_t s = chunk * kChunk;
    run (s, std::min (kChunk, N - s));
  };
  /* Whole chunks go to separate single-threaded workers: one join per batch
   * instead of one OpenMP barrier per op, which stalls badly whenever the
   * cores are shared with other processes. */
  const int workers = static_cast<int> (std::min<int64_t> (at::get_num_threads (), chunks));
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors (static_cast<size_t> (workers));
  for (int w = 0; w < workers; ++w) {
    auto job = [&, w] () {
      try {
        SerialThreads worker_serial;
        WorkerMemory worker_memory (w);
        c10::InferenceMode guard;
        for (int64_t c = w; c < chunks; c += workers)
          run_chunk (c);
      } catch (...) {
        errors[static_cast<size_t> (w)] = std::current_exception ();
      }
    };
    if (w + 1 == workers) {
      job ();  /* the calling thread takes the last share */
      continue;
    }
    try {
      pool.emplace_back (job);
    } catch (const std::system_error &) {
      job ();  /* no thread available: do that share here */
    }
  }
  for (auto &t : pool)
    t.join ();
  for (const auto &e : errors)
    if (e)
      std::rethrow_exception (e);
}

at::Tensor
TokenizerModel::tokenize (const at::Tensor &stft, const at::Tensor &raw, at::Tensor *quant_in) const
{
  check_inputs (stft, raw);
  const int64_t N = stft.size (0), T = stft.size (2);
  at::Tensor tokens = at::empty ({N, T}, kLong);
  at::Tensor q = quant_in ? at::empty ({N, T, config_.emb}, kFloat) : at::Tensor ();
  in_chunks (N, [&] (int64_t s, int64_t m) {
    const at::Tensor qi = encode (stft.narrow (0, s, m), raw.narrow (0, s, m));
    tokens.narrow (0, s, m).copy_ (nearest_codes (qi));
    if (quant_in)
      q.narrow (0, s, m).copy_ (qi);
  });
  if (quant_in)
    *quant_in = q;
  return tokens;
}

at::Tensor
TokenizerModel::tokenize_features (const at::Tensor &freq, const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  const int64_t N = raw.size (0), T = c.frames (static_cast<int> (raw.size (1)));
  if (freq.dim () != 3 || freq.size (0) != N || freq.size (1) != T ||
      freq.size (2) != c.agg_channels () * c.agg_positions () || freq.scalar_type () != at::kFloat)
    fail ("tokenizer", "frequency features must be float (N, T, " +
        std::to_string (c.agg_channels () * c.agg_positions ()) + ") for raw (N, (T-1)*" +
        std::to_string (c.stride) + "+" + std::to_string (c.kernel) + ")");
  at::Tensor tokens = at::empty ({N, T}, kLong);
  in_chunks (N, [&] (int64_t s, int64_t m) {
    tokens.narrow (0, s, m).copy_ (nearest_codes (encode_features (freq.narrow (0, s, m), raw.narrow (0, s, m))));
  });
  return tokens;
}

VQResult
TokenizerModel::quantize (const at::Tensor &quant_in)
{
  VQResult r;
  r.indices = nearest_codes (quant_in);
  at::Tensor E = weights_["quantizer.embedding.weight"];  /* shares storage: EMA updates in place */
  const at::Tensor codes = at::embedding (E.detach (), r.indices);
  if (training_) {
    at::NoGradGuard no_grad;
    const int64_t K = config_.codebook;
    const at::Tensor flat = quant_in.detach ().reshape ({-1, config_.emb});
    const at::Tensor idx = r.indices.reshape ({-1});
    const at::Tensor counts = at::zeros ({K}, kFloat).index_add_ (0, idx, at::ones ({idx.size (0)}, kFloat));
    const at::Tensor dw = at::zeros ({K, config_.emb}, kFloat).index_add_ (0, idx, flat);
    at::Tensor cluster = weights_["quantizer.cluster_size"], ema = weights_["quantizer.ema_w"];
    cluster.mul_ (config_.decay).add_ (counts, 1.0 - config_.decay);
    ema.mul_ (config_.decay).add_ (dw, 1.0 - config_.decay);
    const at::Tensor n = cluster.sum ();
    const at::Tensor smoothed = (cluster + kEmaEps) / (n + K * kEmaEps) * n;
    E.copy_ (ema / smoothed.unsqueeze (1));
  }
  /* The authors take both losses from the straight-through output, so both
   * pull the encoder towards its codes. */
  r.quant_out = quant_in + (codes - quant_in).detach ();
  r.commitment_loss = (r.quant_out.detach () - quant_in).pow (2).mean ();
  r.codebook_loss = (r.quant_out - quant_in.detach ()).pow (2).mean ();
  r.loss = r.codebook_loss + config_.beta * r.commitment_loss;
  return r;
}

at::Tensor
TokenizerModel::decode (const at::Tensor &quant) const
{
  const Weights &w = weights_;
  const at::Tensor h = lat_stack (w, "trans_decoder.transformer", config_.decoder_depth, config_.heads, quant, training_);
  const at::Tensor y = dense (dense (h, w["decoder.0.weight"], w["decoder.0.bias"]).tanh (),
      w["decoder.2.weight"], w["decoder.2.bias"]);
  return y.permute ({0, 2, 1});
}

TokenizerOutput
TokenizerModel::forward (const at::Tensor &stft, const at::Tensor &raw)
{
  TokenizerOutput out;
  out.quant_in = encode (stft, raw);
  out.vq = quantize (out.quant_in);
  out.indices = out.vq.indices;
  out.recon = decode (out.vq.quant_out);
  return out;
}

/* ---- classifier ------------------------------------------------------- */

ClassifierModel::ClassifierModel (const ClassifierConfig &config) : config_ (config)
{
  config_.validate ("classifier config");
  const ClassifierConfig &c = config_;
  const int64_t e = c.emb;
  Weights &w = weights_;
  w.add ("index", at::arange (c.channels, kLong), false);
  w.add ("cls_token", at::zeros ({1, 1, e}, kFloat), true);
  w.add ("eeg_token_embedding.weight", at::empty ({c.vocabulary + 1, e}, kFloat).normal_ (), true);
  w.add ("channel_embed.weight", at::empty ({c.channels, e}, kFloat).normal_ (), true);
  /* Sinusoidal table: sin at even features, cos at odd, frequency
   * exp(-2k ln(10000) / emb), computed in float32 like the authors. */
  const at::Tensor position = at::arange (c.max_frames, kFloat).unsqueeze (1);
  const at::Tensor freq = (at::arange (0, e, 2, kFloat) * (-std::log (10000.0) / e)).exp ();
  at::Tensor pe = at::zeros ({c.max_frames, e}, kFloat);
  pe.slice (1, 0, e, 2).copy_ ((position * freq).sin ());
  pe.slice (1, 1, e, 2).copy_ ((position * freq).cos ());
  w.add ("temporal_pos_embed.pe", pe.unsqueeze (0), false);
  add_lat_stack (w, "LAT", c.depth, c.emb);
  add_affine (w, "classification_head", {c.classes, e}, e);
}

ClassifierModel
ClassifierModel::load (const std::string &path)
{
  const SafetensorsFile file = SafetensorsFile::open (path);
  ClassifierModel m (ClassifierConfig::from_file (file));
  m.weights_.load_from (file);
  return m;
}

void
ClassifierModel::save (const std::string &path, const std::map<std::string, std::string> &metadata) const
{
  std::map<std::string, std::string> meta = config_.metadata ();
  for (const auto &kv : metadata)
    meta[kv.first] = kv.second;
  weights_.save (path, meta);
}

at::Tensor
ClassifierModel::sequence (const at::Tensor &tokens) const
{
  const ClassifierConfig &c = config_;
  const Weights &w = weights_;
  if (tokens.dim () != 3 || tokens.size (1) > c.channels || tokens.size (2) > c.max_frames)
    fail ("classifier", "tokens must be (B, C <= " + std::to_string (c.channels) + ", T <= " +
        std::to_string (c.max_frames) + ")");
  const int64_t B = tokens.size (0), C = tokens.size (1), T = tokens.size (2), e = c.emb;
  const at::Tensor channel = at::embedding (w["channel_embed.weight"], w["index"].narrow (0, 0, C));
  at::Tensor x = (at::embedding (w["eeg_token_embedding.weight"], tokens) + channel.view ({1, C, 1, e})) +
      w["temporal_pos_embed.pe"].narrow (1, 0, T).view ({1, 1, T, e});
  x = at::dropout (x, kPosDropout, training_).reshape ({B, C * T, e});
  x = at::cat ({w["cls_token"].expand ({B, 1, e}), x}, 1);
  return lat_stack (w, "LAT", c.depth, c.heads, x, training_);
}

at::Tensor
ClassifierModel::head (const at::Tensor &x) const
{
  return dense (x, weights_["classification_head.weight"], weights_["classification_head.bias"]);
}

at::Tensor
ClassifierModel::forward (const at::Tensor &tokens) const
{
  return head (sequence (tokens).select (1, 0));
}

}  // namespace tfm
}  // namespace neuro
