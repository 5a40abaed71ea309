// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reproducibility helpers of the training loops: resumable training state
 * (weights, optimiser moments, step) in one LibTorch archive, thread pinning,
 * deterministic epoch order. Only for the tool's LibTorch units: it includes LibTorch. */
#pragma once

#include "tfm_torch.h"

#include <torch/torch.h>

#include <string>

namespace neuro::train {

/* Writes atomically (temporary file + rename) so a killed run keeps the last one. */
void save_checkpoint (const std::string &path, const tfm::Weights &weights, torch::optim::Optimizer &opt,
    long step, const std::string &fingerprint);

/* Restores into `weights` and `opt` (built exactly as for the saved run) and
 * returns the step to continue from. Throws std::runtime_error naming the
 * file when it does not belong to this run (fingerprint mismatch). */
long load_checkpoint (const std::string &path, tfm::Weights &weights, torch::optim::Optimizer &opt,
    const std::string &fingerprint);

/* Sets the learning rate of every parameter group of an AdamW optimiser. */
void set_learning_rate (torch::optim::Optimizer &opt, double lr);

/* Runs LibTorch's intra-op work on `threads` threads and BLAS on one: the
 * OpenBLAS thread pool made two identical runs differ in the last bits. */
void pin_threads (int threads);

/* A deterministic permutation of 0..n-1 for one epoch of one seed. */
std::vector<int64_t> epoch_order (size_t n, unsigned long seed, long epoch);

}  // namespace neuro::train
