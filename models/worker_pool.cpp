// SPDX-License-Identifier: LGPL-2.1-or-later
#include "worker_pool.h"

#include "tfm_torch.h"
#include "worker_memory.h"

#include <c10/core/InferenceMode.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace neuro {
namespace tfm {

namespace {

/* One run_on_workers call: its shares left to finish and their errors. */
struct Batch {
  std::mutex mutex;
  std::condition_variable done;
  int pending = 0;
  std::vector<std::exception_ptr> errors;
};

struct Task {
  const std::function<void (int)> *share;
  int index;
  std::shared_ptr<Batch> batch;
};

void
run_task (const Task &task)
{
  std::exception_ptr error;
  try {
    c10::InferenceMode guard;
    (*task.share) (task.index);
  } catch (...) {
    error = std::current_exception ();
  }
  std::lock_guard<std::mutex> lock (task.batch->mutex);
  task.batch->errors[static_cast<size_t> (task.index)] = error;
  if (--task.batch->pending == 0)
    task.batch->done.notify_all ();
}

class Pool {
 public:
  /* Queues the tasks, adding threads up to `wanted`; returns how many
   * threads the pool has (fewer than wanted when the system refuses). */
  int
  submit (std::vector<Task> tasks, int wanted)
  {
    std::lock_guard<std::mutex> lock (mutex_);
    while (threads_ < wanted) {
      try {
        std::thread (&Pool::work, this, threads_).detach ();
      } catch (const std::system_error &) {
        break;
      }
      ++threads_;
    }
    if (threads_ == 0)
      return 0;
    for (Task &t : tasks)
      queue_.push_back (std::move (t));
    ready_.notify_all ();
    return threads_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Task> queue_;
  int threads_ = 0;

  [[noreturn]] void
  work (int slot)
  {
    SerialThreads serial;
    WorkerMemory memory (slot);
    for (;;) {
      std::unique_lock<std::mutex> lock (mutex_);
      ready_.wait (lock, [this] { return !queue_.empty (); });
      Task task = std::move (queue_.front ());
      queue_.pop_front ();
      lock.unlock ();
      run_task (task);
    }
  }
};

}  // namespace

void
run_on_workers (int shares, const std::function<void (int)> &share)
{
  /* Never destroyed: its detached threads wait on it until the process ends. */
  static Pool *pool = new Pool;
  auto batch = std::make_shared<Batch> ();
  batch->pending = shares;
  batch->errors.resize (static_cast<size_t> (shares));
  std::vector<Task> tasks;
  for (int i = 0; i < shares; ++i)
    tasks.push_back ({&share, i, batch});
  if (pool->submit (tasks, shares) == 0) {
    /* No thread to be had: the shares run here, one after the other. */
    SerialThreads serial;
    WorkerMemory memory (0);
    for (const Task &t : tasks)
      run_task (t);
  }
  std::unique_lock<std::mutex> lock (batch->mutex);
  batch->done.wait (lock, [&] { return batch->pending == 0; });
  for (const auto &e : batch->errors)
    if (e)
      std::rethrow_exception (e);
}

}  // namespace tfm
}  // namespace neuro
