// SPDX-License-Identifier: LGPL-2.1-or-later
/* Long-lived single-threaded LibTorch workers for the tokenizer's chunks.
 *
 * Why not a thread per call: every LibTorch thread count change (the lazy
 * set-up of a new thread, making it serial, restoring the caller's count)
 * recreates LibTorch's global pthreadpool, whose new threads spin before
 * they sleep; with threads made per call that was ~6% of the pipeline's CPU,
 * plus cold caches in every new thread. Pool threads are set up once. */
#pragma once

#include <functional>

namespace neuro {
namespace tfm {

/* Runs share(0) ... share(shares - 1) concurrently on pool threads (each
 * single-threaded for LibTorch, in inference mode, with its own block cache;
 * the pool grows to the largest `shares` asked for and lives for the
 * process) and returns when all are done, rethrowing the first exception.
 * Safe to call from several threads at once. */
void run_on_workers (int shares, const std::function<void (int)> &share);

}  // namespace tfm
}  // namespace neuro
