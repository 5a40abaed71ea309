// SPDX-License-Identifier: LGPL-2.1-or-later
/* LBM classifier training (the authors' TFM-Encoder shape) on token windows:
 * tokens from a trained tokenizer, cross-entropy, AdamW with warm-up and
 * cosine, optional leave-one-subject-out evaluation next to the band-power
 * baseline (baseline.h) on exactly the same windows and folds. */
#include "baseline.h"
#include "checkpoint.h"
#include "progress.h"
#include "train.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

namespace neuro::train {

namespace {

/* Tokens of every window: (W, C, T) int64, through the same model code the
 * tfmtokenize element runs. */
torch::Tensor
tokenize_windows (tfm::TokenizerModel &model, const std::vector<ChannelWindow> &windows, int channels)
{
  torch::NoGradGuard no_grad;
  model.train (false);
  const auto &cfg = model.config ();
  std::vector<torch::Tensor> out;
  for (const auto &w : windows) {
    long T = static_cast<long> (w.stft.size ()) / (channels * cfg.geometry.bins);
    long L = static_cast<long> (w.raw.size ()) / channels;
    auto stft = torch::from_blob (const_cast<float *> (w.stft.data ()), {channels, cfg.geometry.bins, T});
    auto raw = torch::from_blob (const_cast<float *> (w.raw.data ()), {channels, L});
    out.push_back (model.nearest_codes (model.encode (stft, raw)));
  }
  return torch::stack (out);
}

struct Split {
  std::vector<int64_t> train, test;
};

tfm::ClassifierConfig
config_of (const ClassifierJob &job, const tfm::TokenizerModel &tok, int frames)
{
  tfm::ClassifierConfig c;
  c.emb = job.emb;
  c.heads = job.heads;
  c.depth = job.depth;
  c.vocabulary = tok.config ().codebook;
  c.channels = static_cast<int> (job.channels.size ());
  c.max_frames = std::max (frames, 64);
  c.classes = static_cast<int> (job.labels.size ());
  c.validate ("tfm-train");
  return c;
}

/* Rows of batch b of an epoch's order. */
torch::Tensor
batch_rows (const std::vector<int64_t> &train, const std::vector<int64_t> &order, long b, long batch)
{
  std::vector<int64_t> rows;
  for (long i = b * batch; i < std::min (static_cast<long> (train.size ()), (b + 1) * batch); i++)
    rows.push_back (train[order[i]]);
  return torch::tensor (rows);
}

/* Masked-token pre-training (as the authors' MTP stage): a model of the same
 * shape whose head has one output per code learns to predict the tokens
 * hidden behind [MASK] (id = vocabulary) at a random half of the positions,
 * from rows `train` only (no test-fold tokens). Returns that model. */
tfm::ClassifierModel
pretrain (const tfm::ClassifierConfig &cfg, const Schedule &s, int epochs, const torch::Tensor &tokens,
    const std::vector<int64_t> &train)
{
  tfm::ClassifierConfig pc = cfg;
  pc.classes = cfg.vocabulary;
  torch::manual_seed (s.seed + 1);
  tfm::ClassifierModel model (pc);
  const long n = static_cast<long> (train.size ());
  const long per_epoch = (n + s.batch - 1) / s.batch, total = per_epoch * epochs;
  torch::optim::AdamW opt (model.weights ().parameters (),
      torch::optim::AdamWOptions (s.lr).weight_decay (s.weight_decay).betas ({s.beta1, s.beta2}));
  Progress bar ("masked-token pre-training", total);
  model.train (true);
  std::vector<int64_t> order;
  for (long step = 0; step < total; step++) {
    long b = step % per_epoch;
    if (b == 0)
      order = epoch_order (train.size (), s.seed + 1, step / per_epoch);
    torch::manual_seed ((s.seed + 1) * 1000003UL + step);
    auto target = tokens.index_select (0, batch_rows (train, order, b, s.batch));
    auto hidden = torch::rand (target.sizes ()) < 0.5;
    auto input = target.masked_fill (hidden, cfg.vocabulary);
    auto logits = model.head (model.sequence (input).slice (1, 1));  /* drop [CLS]: (B, C*T, vocabulary) */
    auto mask = hidden.flatten (1);
    double lr = s.lr_at (step, total);
    set_learning_rate (opt, lr);
    opt.zero_grad ();
    auto loss = torch::nn::functional::cross_entropy (logits.index ({mask}), target.flatten (1).index ({mask}));
    loss.backward ();
    opt.step ();
    bar.update (step + 1, loss.item<double> (), lr);
  }
  bar.finish ();
  return model;
}

/* Copies every tensor but the classification head from `from`. */
void
take_pretrained (tfm::ClassifierModel &model, const tfm::ClassifierModel &from)
{
  torch::NoGradGuard no_grad;
  for (const auto &[name, t] : from.weights ().all ())
    if (name.rfind ("classification_head.", 0) != 0)
      model.weights ()[name].copy_ (t);
}

/* Trains a classifier on rows `train` of (tokens, labels), starting from the
 * masked-token pre-trained weights when `epochs_pretrain` > 0. */
tfm::ClassifierModel
fit (const tfm::ClassifierConfig &cfg, const Schedule &s, int epochs_pretrain, const torch::Tensor &tokens,
    const torch::Tensor &labels, const std::vector<int64_t> &train, const std::string &what)
{
  torch::manual_seed (s.seed);
  tfm::ClassifierModel model (cfg);
  if (epochs_pretrain > 0)
    take_pretrained (model, pretrain (cfg, s, epochs_pretrain, tokens, train));
  const long n = static_cast<long> (train.size ());
  const long per_epoch = (n + s.batch - 1) / s.batch, total = per_epoch * s.epochs;
  const long last = s.max_steps > 0 ? std::min (total, s.max_steps) : total;
  torch::optim::AdamW opt (model.weights ().parameters (),
      torch::optim::AdamWOptions (s.lr).weight_decay (s.weight_decay).betas ({s.beta1, s.beta2}));
  /* Class weights: the classes are unbalanced once the UCI segments are cut. */
  auto counts = torch::bincount (labels.index_select (0, torch::tensor (train)), {}, cfg.classes).to (torch::kFloat);
  auto weight = counts.sum () / (counts.clamp_min (1) * cfg.classes);
  Progress bar (what, last);
  model.train (true);
  std::vector<int64_t> order;
  for (long step = 0; step < last; step++) {
    long epoch = step / per_epoch, b = step % per_epoch;
    if (b == 0)
      order = epoch_order (train.size (), s.seed, epoch);
    torch::manual_seed (s.seed * 1000003UL + step);
    auto idx = batch_rows (train, order, b, s.batch);
    double lr = s.lr_at (step, total);
    set_learning_rate (opt, lr);
    opt.zero_grad ();
    auto loss = torch::nn::functional::cross_entropy (model.forward (tokens.index_select (0, idx)),
        labels.index_select (0, idx), torch::nn::functional::CrossEntropyFuncOptions ().weight (weight));
    loss.backward ();
    opt.step ();
    bar.update (step + 1, loss.item<double> (), lr);
  }
  bar.finish ();
  model.train (false);
  return model;
}

std::vector<int>
predict (const tfm::ClassifierModel &model, const torch::Tensor &tokens, const std::vector<int64_t> &rows)
{
  torch::NoGradGuard no_grad;
  auto logits = model.forward (tokens.index_select (0, torch::tensor (rows)));
  auto arg = logits.argmax (1);
  return std::vector<int> (arg.data_ptr<int64_t> (), arg.data_ptr<int64_t> () + arg.numel ());
}

std::vector<int>
gather (const std::vector<int> &labels, const std::vector<int64_t> &rows)
{
  std::vector<int> out;
  for (auto r : rows)
    out.push_back (labels[r]);
  return out;
}

double
baseline_fold (const std::vector<std::vector<double>> &features, const std::vector<int> &labels,
    const Split &split, int classes)
{
  std::vector<std::vector<double>> x;
  std::vector<int> y;
  for (auto r : split.train) {
    x.push_back (features[r]);
    y.push_back (labels[r]);
  }
  LogisticRegression lr;
  lr.fit (x, y, classes);
  std::vector<int> pred;
  for (auto r : split.test)
    pred.push_back (lr.predict (features[r]));
  return balanced_accuracy (gather (labels, split.test), pred, classes);
}

std::string
mean_of (const std::vector<FoldResult> &folds, bool baseline)
{
  double sum = 0;
  for (const auto &f : folds)
    sum += baseline ? f.baseline_balanced_accuracy : f.balanced_accuracy;
  return std::to_string (sum / folds.size ());
}

std::map<std::string, std::string>
metadata_of (const ClassifierJob &job, const tfm::ClassifierConfig &cfg,
    const std::vector<FoldResult> &folds, long windows, double seconds)
{
  std::map<std::string, std::string> m = job.extra_metadata;
  auto join = [] (const std::vector<std::string> &v) {
    std::string out;
    for (const auto &x : v)
      out += (out.empty () ? "" : ",") + x;
    return out;
  };
  m["architecture"] = "tfm-encoder";
  m["modality"] = "eeg";
  m["id"] = job.id;
  m["labels"] = join (job.labels);
  m["channels"] = join (job.channels);
  job.windows.write_metadata (m);
  m["window"] = std::to_string (job.windows.frames_per_window ());
  m["vocabulary"] = std::to_string (cfg.vocabulary);
  m["tokenizer"] = job.tokenizer.substr (job.tokenizer.find_last_of ('/') + 1);
  m["tokenizer-id"] = job.tokenizer_id;
  const Schedule &s = job.schedule;
  m["train-epochs"] = std::to_string (s.epochs);
  m["train-batch"] = std::to_string (s.batch);
  m["train-lr"] = std::to_string (s.lr);
  m["train-weight-decay"] = std::to_string (s.weight_decay);
  m["train-seed"] = std::to_string (s.seed);
  m["train-pretrain-epochs"] = std::to_string (job.pretrain_epochs);
  m["train-windows"] = std::to_string (windows);
  m["train-seconds"] = std::to_string (static_cast<long> (seconds));
  if (!folds.empty ()) {
    std::string per;
    for (const auto &f : folds)
      per += (per.empty () ? "" : ",") + f.group + ":" + std::to_string (f.balanced_accuracy) + "/"
          + std::to_string (f.baseline_balanced_accuracy);
    m["eval-loso-balanced-accuracy"] = mean_of (folds, false);
    m["eval-loso-baseline-balanced-accuracy"] = mean_of (folds, true);
    m["eval-loso-folds"] = per;
  }
  return m;
}

}  // namespace

std::vector<FoldResult>
train_classifier (const ClassifierJob &job)
{
  const Schedule &s = job.schedule;
  pin_threads (s.threads);
  const auto &windows = job.data.windows;
  if (windows.empty ())
    throw std::runtime_error ("no labelled windows: check the inputs and the label rules");
  const int C = static_cast<int> (job.channels.size ());
  const int classes = static_cast<int> (job.labels.size ());
  tfm::TokenizerModel tok = tfm::TokenizerModel::load (job.tokenizer);
  torch::Tensor tokens = tokenize_windows (tok, windows, C);
  std::vector<int> labels;
  for (const auto &w : windows)
    labels.push_back (w.label);
  auto label_tensor = torch::tensor (std::vector<int64_t> (labels.begin (), labels.end ()));
  tfm::ClassifierConfig cfg = config_of (job, tok, static_cast<int> (tokens.size (2)));

  std::vector<FoldResult> folds;
  if (job.loso) {
    std::vector<std::vector<double>> features;
    for (const auto &w : windows)
      features.push_back (alpha_features (w, C, job.windows.rate));
    std::set<std::string> groups (job.data.groups.begin (), job.data.groups.end ());
    groups.erase ("");
    for (const auto &g : groups) {
      Split split;
      for (size_t i = 0; i < windows.size (); i++)
        (job.data.groups[i] == g ? split.test : split.train).push_back (static_cast<int64_t> (i));
      auto model = fit (cfg, s, job.pretrain_epochs, tokens, label_tensor, split.train, "fold " + g);
      FoldResult r;
      r.group = g;
      r.windows = static_cast<long> (split.test.size ());
      r.balanced_accuracy = balanced_accuracy (gather (labels, split.test), predict (model, tokens, split.test), classes);
      r.baseline_balanced_accuracy = baseline_fold (features, labels, split, classes);
      std::printf ("{\"fold\":\"%s\",\"windows\":%ld,\"balanced-accuracy\":%.4f,\"baseline-balanced-accuracy\":%.4f}\n",
          g.c_str (), r.windows, r.balanced_accuracy, r.baseline_balanced_accuracy);
      std::fflush (stdout);
      folds.push_back (r);
    }
  }
  std::vector<int64_t> all (windows.size ());
  for (size_t i = 0; i < all.size (); i++)
    all[i] = static_cast<int64_t> (i);
  auto started = std::chrono::steady_clock::now ();
  auto model = fit (cfg, s, job.pretrain_epochs, tokens, label_tensor, all, "classifier");
  model.save (job.output, metadata_of (job, cfg, folds, static_cast<long> (windows.size ()),
      std::chrono::duration<double> (std::chrono::steady_clock::now () - started).count ()));
  std::fprintf (stderr, "wrote %s\n", job.output.c_str ());
  return folds;
}

}  // namespace neuro::train
