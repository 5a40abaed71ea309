// SPDX-License-Identifier: LGPL-2.1-or-later
/* The two training jobs of tfm-train and their options. The job functions
 * live in LibTorch translation units; main.cpp only parses the command line. */
#pragma once

#include "windows.h"

#include <map>
#include <string>
#include <vector>

namespace neuro::train {

struct Schedule {
  int epochs = 10;
  int batch = 64;
  double lr = 1e-3;           /* peak learning rate (authors: 1e-3) */
  double final_lr = 1e-4;     /* end of the cosine */
  double warmup = 0.1;        /* fraction of the steps spent in linear warm-up */
  double weight_decay = 1e-5; /* authors' AdamW settings */
  double beta1 = 0.9, beta2 = 0.99;
  unsigned long seed = 1;
  int threads = 1;
  std::string checkpoint;     /* write resumable state here every checkpoint_every steps */
  int checkpoint_every = 200;
  std::string resume;         /* continue from this checkpoint */
  long max_steps = 0;         /* stop after this many steps (0 = the whole schedule); for tests */

  /* Learning rate at `step` of `total`: linear warm-up then cosine. */
  double lr_at (long step, long total) const;
};

struct TokenizerJob {
  std::string output;
  std::string modality = "eeg";
  std::string id;
  WindowGeometry windows;            /* the tokenizer's geometry (channels 0) */
  int emb = 64, heads = 8, freq_depth = 2, temporal_depth = 2, decoder_depth = 8, codebook = 8192;
  bool restart_dead_codes = false;
  Schedule schedule;
  WindowSet train, heldout;
  std::map<std::string, std::string> extra_metadata;  /* data description etc. */
};

/* Quality of a tokenizer on held-out windows. */
struct TokenizerQuality {
  double nmse = 0;            /* sum (recon - stft)^2 / sum (stft - 0)^2 */
  double nmse_untrained = 0;  /* same architecture, authors' init, same seed */
  double nmse_mean_spectrum = 0; /* predicting the training set's mean spectrum; NaN without one */
  int codes_used = 0;
  double perplexity = 0;
  long windows = 0;
};

/* Trains, evaluates on job.heldout (when non-empty), saves job.output. */
TokenizerQuality train_tokenizer (const TokenizerJob &job);

/* Evaluates a saved tokenizer on windows (the mean-spectrum predictor uses `reference`). */
TokenizerQuality evaluate_tokenizer (const std::string &model, const WindowSet &heldout,
    const WindowSet &reference, unsigned long seed);

struct LabelledWindows {
  std::vector<ChannelWindow> windows;
  std::vector<std::string> groups;   /* subject of each window ("" = none) */
};

struct ClassifierJob {
  std::string output;
  std::string tokenizer;             /* tokenizer model producing the tokens */
  std::string tokenizer_id;          /* its id metadata */
  std::string id;
  WindowGeometry windows;            /* the tokenizer's geometry (channels 0) */
  std::vector<std::string> labels;
  std::vector<std::string> channels;
  int emb = 32, heads = 4, depth = 2;
  int pretrain_epochs = 0;           /* masked-token pre-training epochs (0 = none) */
  bool loso = false;                 /* leave-one-subject-out evaluation first */
  Schedule schedule;
  LabelledWindows data;
  std::map<std::string, std::string> extra_metadata;
};

struct FoldResult {
  std::string group;
  long windows = 0;
  double balanced_accuracy = 0;
  double baseline_balanced_accuracy = 0;
};

/* Runs LOSO (when asked), then trains on everything and saves job.output. */
std::vector<FoldResult> train_classifier (const ClassifierJob &job);

}  // namespace neuro::train
