// SPDX-License-Identifier: LGPL-2.1-or-later
#include "checkpoint.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>

#include <cstdio>
#include <random>
#include <stdexcept>

namespace neuro::train {

namespace {

std::string
key (size_t i)
{
  return "w" + std::to_string (i);  /* archive keys may not contain dots */
}

/* A checkpoint must fit the run it resumes: same tensors, same options. */
torch::Tensor
fingerprint_tensor (const std::string &fp)
{
  std::vector<int64_t> chars (fp.begin (), fp.end ());
  return torch::tensor (chars, torch::kInt64);
}

}  // namespace

void
save_checkpoint (const std::string &path, const tfm::Weights &weights, torch::optim::Optimizer &opt,
    long step, const std::string &fingerprint)
{
  torch::serialize::OutputArchive ar;
  const auto &all = weights.all ();
  for (size_t i = 0; i < all.size (); i++)
    ar.write (key (i), all[i].second.detach (), true);
  ar.write ("step", torch::tensor (static_cast<int64_t> (step)), true);
  ar.write ("fingerprint", fingerprint_tensor (fingerprint), true);
  torch::serialize::OutputArchive optim;
  opt.save (optim);
  ar.write ("optimizer", optim);
  std::string tmp = path + ".tmp";
  ar.save_to (tmp);
  if (std::rename (tmp.c_str (), path.c_str ()) != 0)
    throw std::runtime_error (path + ": cannot write the checkpoint");
}

long
load_checkpoint (const std::string &path, tfm::Weights &weights, torch::optim::Optimizer &opt,
    const std::string &fingerprint)
{
  torch::serialize::InputArchive ar;
  try {
    ar.load_from (path);
  } catch (const std::exception &e) {
    throw std::runtime_error (path + ": not a tfm-train checkpoint (" + std::string (e.what ()).substr (0, 200) + ")");
  }
  torch::Tensor fp;
  if (!ar.try_read ("fingerprint", fp, true) || !torch::equal (fp, fingerprint_tensor (fingerprint)))
    throw std::runtime_error (path + ": checkpoint of a different run (model or training options differ)");
  torch::NoGradGuard no_grad;
  const auto &all = weights.all ();
  for (size_t i = 0; i < all.size (); i++) {
    torch::Tensor t;
    ar.read (key (i), t, true);
    all[i].second.detach ().copy_ (t);
  }
  torch::Tensor step;
  ar.read ("step", step, true);
  torch::serialize::InputArchive optim;
  ar.read ("optimizer", optim);
  opt.load (optim);
  return step.item<int64_t> ();
}

void
set_learning_rate (torch::optim::Optimizer &opt, double lr)
{
  for (auto &group : opt.param_groups ())
    static_cast<torch::optim::AdamWOptions &> (group.options ()).lr (lr);
}

void
pin_threads (int threads)
{
  at::set_num_threads (threads);
  /* Looked up at run time so that a LibTorch built on another BLAS still
   * links; OpenBLAS reads OPENBLAS_NUM_THREADS before main(), too early for us. */
  using SetThreads = void (*) (int);
  if (auto set_blas = reinterpret_cast<SetThreads> (dlsym (RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas (1);
}

std::vector<int64_t>
epoch_order (size_t n, unsigned long seed, long epoch)
{
  std::vector<int64_t> order (n);
  for (size_t i = 0; i < n; i++)
    order[i] = static_cast<int64_t> (i);
  /* Our own Fisher-Yates over mt19937_64: std::shuffle's algorithm is not
   * specified, so it could differ between standard libraries. */
  std::mt19937_64 rng (seed * 0x9E3779B97F4A7C15ULL + static_cast<unsigned long> (epoch));
  for (size_t i = n; i > 1; i--) {
    size_t j = rng () % i;
    std::swap (order[i - 1], order[j]);
  }
  return order;
}

}  // namespace neuro::train
