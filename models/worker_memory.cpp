// SPDX-License-Identifier: LGPL-2.1-or-later
#include "worker_memory.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <map>
#include <mutex>

namespace neuro {
namespace tfm {

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

namespace {

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

}  // namespace

WorkerMemory::WorkerMemory (int slot)
{
  constexpr int kSlots = 16;
  static BlockCache *caches = new BlockCache[kSlots];
  static std::once_flag installed;
  std::call_once (installed, [] () { c10::SetCPUAllocator (new WorkerAllocator (c10::GetCPUAllocator ())); });
  previous_ = t_worker_cache;
  t_worker_cache = &caches[slot % kSlots];
}

WorkerMemory::~WorkerMemory ()
{
  t_worker_cache = previous_;
}

}  // namespace tfm
}  // namespace neuro
