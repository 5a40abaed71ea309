// SPDX-License-Identifier: LGPL-2.1-or-later
/* Memory of the tokenizer's worker threads: while a WorkerMemory is alive,
 * the thread's large LibTorch allocations come from a per-slot cache of
 * freed blocks instead of fresh mmaps (see worker_memory.cpp for why). */
#pragma once

namespace neuro {
namespace tfm {

class BlockCache;

/* Makes this thread a tokenizer worker allocating from slot `slot`'s cache.
 * The caches and the allocator live for the process: blocks may be released
 * after a model is gone. Threads without one allocate as before. */
class WorkerMemory {
 public:
  explicit WorkerMemory (int slot);
  ~WorkerMemory ();
  WorkerMemory (const WorkerMemory &) = delete;
  WorkerMemory &operator= (const WorkerMemory &) = delete;

 private:
  BlockCache *previous_;
};

}  // namespace tfm
}  // namespace neuro
