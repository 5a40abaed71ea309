// SPDX-License-Identifier: LGPL-2.1-or-later
/* Tokenizer training with the authors' recipe (TFM-Tokenizer, token learning):
 * each batch is run twice, once with a frequency-group x time mask and once
 * with its complement; loss = spectrum MSE of both views + codebook +
 * commitment losses (beta 1); EMA codebook (decay 0.99); AdamW; linear
 * warm-up then cosine learning rate. */
#include "checkpoint.h"
#include "progress.h"
#include "train.h"

#include <cmath>
#include <cstdio>

namespace neuro::train {

double
Schedule::lr_at (long step, long total) const
{
  long warm = static_cast<long> (warmup * total);
  if (step < warm)
    return lr * (step + 1) / warm;
  double progress = total > warm ? static_cast<double> (step - warm) / (total - warm) : 1.0;
  return final_lr + 0.5 * (lr - final_lr) * (1.0 + std::cos (M_PI * std::min (1.0, progress)));
}

namespace {

tfm::TokenizerConfig
config_of (const TokenizerJob &job)
{
  tfm::TokenizerConfig c;
  c.emb = job.emb;
  c.heads = job.heads;
  c.freq_depth = job.freq_depth;
  c.temporal_depth = job.temporal_depth;
  c.decoder_depth = job.decoder_depth;
  c.codebook = job.codebook;
  c.geometry = job.windows;
  c.validate ("tfm-train");
  return c;
}

struct Tensors {
  torch::Tensor stft, raw;  /* (N, bins, T), (N, L) */
};

Tensors
as_tensors (const WindowSet &set)
{
  long n = static_cast<long> (set.size ());
  /* from_blob does not own the memory: clone so the tensors outlive `set`. */
  auto stft = torch::from_blob (const_cast<float *> (set.stft.data ()), {n, set.bins, set.frames}).clone ();
  auto raw = torch::from_blob (const_cast<float *> (set.raw.data ()), {n, set.samples}).clone ();
  return {stft, raw};
}

/* The authors' masking: 5-bin frequency groups, half of them dropped, and
 * half of the frames dropped; a bin survives only if both its group and its
 * frame do. One mask per batch; the complement is the second view. */
torch::Tensor
keep_mask (int bins, int frames, int group)
{
  int groups = bins / group;
  auto fperm = torch::randperm (groups);
  auto fkeep = torch::ones ({groups});
  fkeep.index_fill_ (0, fperm.slice (0, 0, groups / 2), 0.0);
  auto fmask = fkeep.repeat_interleave (group);
  if (fmask.size (0) < bins)  /* bins not covered by a whole group are kept */
    fmask = torch::cat ({fmask, torch::ones ({bins - fmask.size (0)})});
  auto tperm = torch::randperm (frames);
  auto tkeep = torch::ones ({frames});
  tkeep.index_fill_ (0, tperm.slice (0, 0, frames / 2), 0.0);
  return fmask.view ({1, bins, 1}) * tkeep.view ({1, 1, frames});
}

/* Starts the decoder's output bias at the training set's mean spectrum, so
 * the untrained decoder already predicts the average spectrum instead of
 * spending thousands of AdamW steps walking the bias up to magnitudes of ~10-50
 * (the authors could afford 100 epochs of TUH EEG; we cannot). */
void
init_decoder_bias (tfm::TokenizerModel &model, const torch::Tensor &stft)
{
  torch::NoGradGuard no_grad;
  model.weights ()["decoder.2.bias"].copy_ (stft.mean (std::vector<int64_t>{0, 2}));
}

struct StepLoss {
  torch::Tensor total;
  double recon = 0, vq = 0;
};

StepLoss
masked_step (tfm::TokenizerModel &model, const torch::Tensor &stft, const torch::Tensor &raw, int group)
{
  auto keep = keep_mask (stft.size (1), stft.size (2), group);
  auto a = model.forward (stft * keep, raw);
  auto b = model.forward (stft * (1 - keep), raw);
  auto recon = torch::mse_loss (a.recon, stft) + torch::mse_loss (b.recon, stft);
  auto vq = a.vq.loss + b.vq.loss;
  return {recon + vq, recon.item<double> (), vq.item<double> ()};
}

/* Everything that must match for a checkpoint to continue this run. */
std::string
fingerprint (const TokenizerJob &job, size_t n)
{
  const Schedule &s = job.schedule;
  char buf[512];
  std::snprintf (buf, sizeof buf, "tok e%d h%d d%d/%d/%d k%d b%d f%d s%d n%zu ep%d bs%d lr%g/%g wd%g w%g seed%lu",
      job.emb, job.heads, job.freq_depth, job.temporal_depth, job.decoder_depth, job.codebook,
      job.windows.bins, job.windows.n_fft, job.windows.hop, n, s.epochs, s.batch, s.lr, s.final_lr,
      s.weight_decay, s.warmup, s.seed);
  return buf;
}

/* Re-initialises the codes no window chose since the last restart with
 * randomly picked encoder outputs of the current batch (dead-code restart). */
void
restart_dead_codes (tfm::TokenizerModel &model, torch::Tensor &usage, const torch::Tensor &quant_in)
{
  torch::NoGradGuard no_grad;
  auto dead = (usage == 0).nonzero ().flatten ();
  if (dead.numel () == 0)
    return;
  auto flat = quant_in.reshape ({-1, quant_in.size (-1)});
  auto pick = torch::randint (flat.size (0), {dead.size (0)}, torch::kLong);
  auto &w = model.weights ();
  auto fresh = flat.index_select (0, pick);
  w["quantizer.embedding.weight"].index_copy_ (0, dead, fresh);
  w["quantizer.ema_w"].index_copy_ (0, dead, fresh);
  w["quantizer.cluster_size"].index_fill_ (0, dead, 1.0);
  usage.zero_ ();
}

/* Mean loss over the first and the last tenth of the steps run: a smoothed
 * "did training reduce the loss" that does not depend on one noisy batch. */
struct LossTrend {
  std::vector<double> losses;
  double start () const { return mean (0, std::max<size_t> (1, losses.size () / 10)); }
  double end () const { return mean (losses.size () - std::max<size_t> (1, losses.size () / 10), losses.size ()); }
  double mean (size_t lo, size_t hi) const
  {
    double s = 0;
    for (size_t i = lo; i < hi; i++)
      s += losses[i];
    return hi > lo ? s / (hi - lo) : 0.0;
  }
};

std::map<std::string, std::string>
metadata_of (const TokenizerJob &job, const TokenizerQuality &q, double seconds, long steps, const LossTrend &trend)
{
  std::map<std::string, std::string> m = job.extra_metadata;
  if (!trend.losses.empty ()) {
    m["train-loss-start"] = std::to_string (trend.start ());
    m["train-loss-end"] = std::to_string (trend.end ());
  }
  m["architecture"] = "tfm-tokenizer";
  m["modality"] = job.modality;
  m["id"] = job.id;  /* geometry and vocabulary: the model's config writes them */
  m["normalize"] = "q95";
  m["window"] = "hann";
  const Schedule &s = job.schedule;
  m["train-epochs"] = std::to_string (s.epochs);
  m["train-steps"] = std::to_string (steps);
  m["train-batch"] = std::to_string (s.batch);
  m["train-lr"] = std::to_string (s.lr);
  m["train-final-lr"] = std::to_string (s.final_lr);
  m["train-weight-decay"] = std::to_string (s.weight_decay);
  m["train-seed"] = std::to_string (s.seed);
  m["train-windows"] = std::to_string (job.train.size ());
  m["train-seconds"] = std::to_string (std::lround (seconds));
  m["train-mask"] = "freq groups 5 bins x 50%, time 50%, plus complement";
  m["train-init"] = "authors' init, decoder.2.bias = mean training spectrum";
  m["train-dead-code-restart"] = job.restart_dead_codes ? "true" : "false";
  if (q.windows > 0) {
    m["eval-windows"] = std::to_string (q.windows);
    m["eval-nmse"] = std::to_string (q.nmse);
    m["eval-nmse-untrained"] = std::to_string (q.nmse_untrained);
    m["eval-nmse-mean-spectrum"] = std::to_string (q.nmse_mean_spectrum);
    m["eval-codes-used"] = std::to_string (q.codes_used);
    m["eval-perplexity"] = std::to_string (q.perplexity);
  }
  return m;
}

struct Recon {
  double nmse = 0;
  torch::Tensor counts;
};

Recon
reconstruct (tfm::TokenizerModel &model, const Tensors &data)
{
  torch::NoGradGuard no_grad;
  model.train (false);
  double err = 0, energy = 0;
  auto counts = torch::zeros ({model.config ().codebook}, torch::kDouble);
  const long n = data.stft.size (0), batch = 256;
  for (long i = 0; i < n; i += batch) {
    auto s = data.stft.slice (0, i, std::min (n, i + batch));
    auto r = data.raw.slice (0, i, std::min (n, i + batch));
    auto out = model.forward (s, r);
    err += (out.recon - s).pow (2).sum ().item<double> ();
    energy += s.pow (2).sum ().item<double> ();
    counts.index_add_ (0, out.indices.flatten (), torch::ones ({out.indices.numel ()}, torch::kDouble));
  }
  return {energy > 0 ? err / energy : 0.0, counts};
}

double
mean_spectrum_nmse (const Tensors &heldout, const WindowSet &reference)
{
  auto ref = as_tensors (reference).stft;
  auto mean = ref.mean (std::vector<int64_t>{0, 2}, true);  /* (1, bins, 1) */
  auto err = (heldout.stft - mean).pow (2).sum ().item<double> ();
  auto energy = heldout.stft.pow (2).sum ().item<double> ();
  return energy > 0 ? err / energy : 0.0;
}

TokenizerQuality
quality (tfm::TokenizerModel &model, const WindowSet &heldout, const WindowSet &reference, unsigned long seed)
{
  TokenizerQuality q;
  if (heldout.size () == 0)
    return q;
  Tensors data = as_tensors (heldout);
  Recon trained = reconstruct (model, data);
  q.windows = static_cast<long> (heldout.size ());
  q.nmse = trained.nmse;
  auto p = trained.counts / trained.counts.sum ();
  auto nz = p.masked_select (p > 0);
  q.codes_used = static_cast<int> (nz.numel ());
  q.perplexity = std::exp (-(nz * nz.log ()).sum ().item<double> ());
  torch::manual_seed (seed);
  tfm::TokenizerModel untrained (model.config ());
  q.nmse_untrained = reconstruct (untrained, data).nmse;
  q.nmse_mean_spectrum = reference.size () ? mean_spectrum_nmse (data, reference) : NAN;
  return q;
}

/* JSON number, or null for a figure that could not be computed. */
std::string
json_number (double v, int decimals)
{
  if (std::isnan (v))
    return "null";
  char buf[64];
  std::snprintf (buf, sizeof (buf), "%.*f", decimals, v);
  return buf;
}

void
print_quality (const TokenizerQuality &q)
{
  if (std::isnan (q.nmse_mean_spectrum))
    std::fprintf (stderr, "nmse-mean-spectrum: n/a (null): every input is held out, so there is no "
        "reference spectrum; add inputs that --holdout does not match to get this baseline\n");
  std::printf ("{\"eval-windows\":%ld,\"nmse\":%.6f,\"nmse-untrained\":%.6f,\"nmse-mean-spectrum\":%s,"
      "\"codes-used\":%d,\"perplexity\":%.2f}\n",
      q.windows, q.nmse, q.nmse_untrained, json_number (q.nmse_mean_spectrum, 6).c_str (), q.codes_used,
      q.perplexity);
  std::fflush (stdout);
}

}  // namespace

TokenizerQuality
train_tokenizer (const TokenizerJob &job)
{
  const Schedule &s = job.schedule;
  pin_threads (s.threads);
  if (job.train.size () == 0)
    throw std::runtime_error ("no training windows: every input was skipped or shorter than one window");
  torch::manual_seed (s.seed);
  tfm::TokenizerModel model (config_of (job));
  Tensors data = as_tensors (job.train);
  const long n = data.stft.size (0);
  const long per_epoch = (n + s.batch - 1) / s.batch;
  const long total = per_epoch * s.epochs;
  const long last = s.max_steps > 0 ? std::min (total, s.max_steps) : total;
  torch::optim::AdamW opt (model.weights ().parameters (),
      torch::optim::AdamWOptions (s.lr).weight_decay (s.weight_decay).betas ({s.beta1, s.beta2}));
  const std::string fp = fingerprint (job, n);
  init_decoder_bias (model, data.stft);
  long step = s.resume.empty () ? 0 : load_checkpoint (s.resume, model.weights (), opt, fp);
  auto usage = torch::zeros ({job.codebook}, torch::kLong);
  Progress bar ("tokenizer", last, step);
  std::vector<int64_t> order;
  long order_epoch = -1;
  model.train (true);
  double loss = 0;
  LossTrend trend;
  for (; step < last; step++) {
    long epoch = step / per_epoch, b = step % per_epoch;
    if (epoch != order_epoch)
      order = epoch_order (n, s.seed, order_epoch = epoch);
    /* Seeding per step makes masks and dropout a function of (seed, step):
     * a resumed run continues exactly as an uninterrupted one. */
    torch::manual_seed (s.seed * 1000003UL + step);
    long lo = b * s.batch, hi = std::min (n, lo + s.batch);
    auto idx = torch::tensor (std::vector<int64_t> (order.begin () + lo, order.begin () + hi));
    double lr = s.lr_at (step, total);
    set_learning_rate (opt, lr);
    opt.zero_grad ();
    StepLoss l = masked_step (model, data.stft.index_select (0, idx), data.raw.index_select (0, idx), 5);
    l.total.backward ();
    opt.step ();
    loss = l.recon + l.vq;
    trend.losses.push_back (loss);
    if (job.restart_dead_codes) {
      torch::NoGradGuard no_grad;
      auto enc = model.encode (data.stft.index_select (0, idx), data.raw.index_select (0, idx));
      usage.index_add_ (0, model.nearest_codes (enc).flatten (), torch::ones ({enc.size (0) * enc.size (1)}, torch::kLong));
      if ((step + 1) % 50 == 0 && step + 1 < last * 3 / 4)
        restart_dead_codes (model, usage, enc);
    }
    bar.update (step + 1, loss, lr);
    if (!s.checkpoint.empty () && ((step + 1) % s.checkpoint_every == 0 || step + 1 == last))
      save_checkpoint (s.checkpoint, model.weights (), opt, step + 1, fp);
  }
  bar.finish ();
  if (!trend.losses.empty ())
    std::printf ("{\"loss-start\":%.6f,\"loss-end\":%.6f,\"steps\":%zu}\n", trend.start (), trend.end (),
        trend.losses.size ());
  TokenizerQuality q = quality (model, job.heldout, job.train, s.seed);
  if (q.windows)
    print_quality (q);
  model.save (job.output, metadata_of (job, q, bar.elapsed_seconds (), last, trend));
  std::fprintf (stderr, "wrote %s (final loss %.4f)\n", job.output.c_str (), loss);
  return q;
}

TokenizerQuality
evaluate_tokenizer (const std::string &path, const WindowSet &heldout, const WindowSet &reference,
    unsigned long seed)
{
  tfm::TokenizerModel model = tfm::TokenizerModel::load (path);
  TokenizerQuality q = quality (model, heldout, reference, seed);
  print_quality (q);
  return q;
}

}  // namespace neuro::train
