// SPDX-License-Identifier: LGPL-2.1-or-later
/* The trainable LibTorch form (models/tfm_torch.h) used by the training tool:
 * its autograd path must compute what the inference path computes, gradients
 * must reach every parameter, the EMA codebook update must follow the
 * authors' rule, and save/load must round-trip. */
#include "tfm_torch.h"

#include <ATen/ops/allclose.h>
#include <ATen/Context.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/ones_like.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/zeros_like.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <glib.h>
#include <glib/gstdio.h>

#include <cmath>
#include <string>

#include "test_paths.h"

using neuro::tfm::ClassifierConfig;
using neuro::tfm::ClassifierModel;
using neuro::tfm::TokenizerConfig;
using neuro::tfm::TokenizerModel;

namespace {

/* A small tokenizer (as a haptic model might be): 32 wide, 4 heads. */
TokenizerConfig
small_config ()
{
  TokenizerConfig c;
  c.emb = 32;
  c.heads = 4;
  c.freq_depth = 1;
  c.temporal_depth = 1;
  c.decoder_depth = 2;
  c.codebook = 64;
  c.geometry.bins = 50;
  c.geometry.n_fft = 100;
  c.geometry.hop = 50;
  return c;
}

struct Inputs {
  at::Tensor stft, raw;
};

Inputs
make_inputs (const TokenizerConfig &c, int64_t n, int64_t frames)
{
  const at::Tensor raw = at::randn ({n, (frames - 1) * c.geometry.hop + c.geometry.n_fft});
  return {at::rand ({n, c.geometry.bins, frames}) * 5.0, raw};
}

double
max_abs_diff (const at::Tensor &a, const at::Tensor &b)
{
  return (a.detach () - b.detach ()).abs ().max ().item<double> ();
}

void
test_tokenizer_paths_agree ()
{
  at::manual_seed (1);
  const TokenizerModel model (small_config ());
  const Inputs in = make_inputs (model.config (), 11, 19);
  const at::Tensor with_autograd = model.encode (in.stft, in.raw);
  g_assert_true (with_autograd.requires_grad ());
  at::Tensor quant_in;
  at::Tensor tokens;
  {
    c10::InferenceMode guard;
    tokens = model.tokenize (in.stft, in.raw, &quant_in);
  }
  const double diff = max_abs_diff (with_autograd, quant_in);
  g_test_message ("autograd vs inference quant_in: max diff %g", diff);
  g_assert_cmpfloat (diff, <, 1e-5);
  g_assert_true (at::allclose (with_autograd.norm (2, {-1}), at::ones_like (with_autograd.norm (2, {-1})), 0, 1e-5));
  g_assert_true (tokens.equal (model.nearest_codes (quant_in)));
}

/* Ties go to the lowest index, also across SIMD lanes and in the tail of a
 * codebook whose size is not a multiple of 8. */
void
test_nearest_code_ties ()
{
  for (int codes : {64, 13}) {
    TokenizerConfig c = small_config ();
    c.codebook = codes;
    const TokenizerModel model (c);
    at::Tensor E = model.weights ()["quantizer.embedding.weight"];
    at::NoGradGuard no_grad;
    E.normal_ ();
    E.select (0, codes - 1).copy_ (E.select (0, 5));  /* duplicate of row 5, in the tail */
    E.select (0, 10).copy_ (E.select (0, 2));         /* duplicate of row 2, another lane */
    const at::Tensor queries = at::stack ({E.select (0, 5), E.select (0, 2), E.select (0, codes - 1)}).unsqueeze (0);
    const at::Tensor idx = model.nearest_codes (queries);
    g_assert_cmpint (idx[0][0].item<int64_t> (), ==, 5);
    g_assert_cmpint (idx[0][1].item<int64_t> (), ==, 2);
    g_assert_cmpint (idx[0][2].item<int64_t> (), ==, 5);
    E.fill_ (0.5);  /* all equal: the first code */
    g_assert_cmpint (model.nearest_codes (queries)[0][0].item<int64_t> (), ==, 0);
  }
}

void
test_classifier_paths_agree ()
{
  at::manual_seed (2);
  const ClassifierModel model ((ClassifierConfig ()));
  const at::Tensor tokens = at::randint (0, 8193, {3, 16, 19}, at::kLong);
  const at::Tensor with_autograd = model.forward (tokens);
  g_assert_true (with_autograd.requires_grad ());
  at::Tensor inference;
  {
    c10::InferenceMode guard;
    inference = model.forward (tokens);
  }
  const double diff = max_abs_diff (with_autograd, inference);
  g_test_message ("classifier autograd vs inference logits: max diff %g", diff);
  g_assert_cmpfloat (diff, <, 1e-5);
  g_assert_cmpint (model.sequence (tokens).size (1), ==, 1 + 16 * 19);
}

void
test_gradients_reach_every_parameter ()
{
  at::manual_seed (3);
  TokenizerModel model (small_config ());
  model.train (true);
  const Inputs in = make_inputs (model.config (), 4, 19);
  const auto out = model.forward (in.stft, in.raw);
  g_assert_true (out.recon.sizes () == in.stft.sizes ());
  const at::Tensor loss = (out.recon - in.stft).pow (2).mean () + out.vq.loss;
  loss.backward ();
  int with_grad = 0;
  for (const at::Tensor &p : model.weights ().parameters ()) {
    g_assert_true (p.grad ().defined ());
    g_assert_true (p.grad ().isfinite ().all ().item<bool> ());
    with_grad += p.grad ().abs ().sum ().item<double> () > 0;
  }
  g_assert_cmpint (with_grad, ==, static_cast<int> (model.weights ().parameters ().size ()));
  /* Straight-through: both losses equal mean (E[idx] - quant_in)^2. */
  g_assert_cmpfloat (std::fabs (out.vq.codebook_loss.item<double> () - out.vq.commitment_loss.item<double> ()), <, 1e-7);

  at::manual_seed (4);
  ClassifierModel cls ((ClassifierConfig ()));
  cls.train (true);
  cls.forward (at::randint (0, 8193, {2, 4, 9}, at::kLong)).sum ().backward ();
  for (const at::Tensor &p : cls.weights ().parameters ())
    g_assert_true (p.grad ().defined ());
}

void
test_ema_update ()
{
  at::manual_seed (5);
  TokenizerModel model (small_config ());
  const Inputs in = make_inputs (model.config (), 3, 19);
  const at::Tensor quant_in = model.encode (in.stft, in.raw).detach ();
  const auto &w = model.weights ();
  const at::Tensor before = w["quantizer.embedding.weight"].clone ();

  model.quantize (quant_in);  /* eval: nothing moves */
  g_assert_true (w["quantizer.embedding.weight"].equal (before));
  g_assert_cmpfloat (w["quantizer.cluster_size"].sum ().item<double> (), ==, 0.0);

  model.train (true);
  const auto vq = model.quantize (quant_in);
  const double rows = static_cast<double> (quant_in.size (0) * quant_in.size (1));
  /* cluster_size = 0.99 * 0 + 0.01 * counts, summing to 0.01 * rows. */
  g_assert_cmpfloat (std::fabs (w["quantizer.cluster_size"].sum ().item<double> () - 0.01 * rows), <, 1e-4);
  const at::Tensor n = w["quantizer.cluster_size"].sum ();
  const at::Tensor smoothed = (w["quantizer.cluster_size"] + 1e-5) / (n + 64 * 1e-5) * n;
  g_assert_true (at::allclose (w["quantizer.embedding.weight"], w["quantizer.ema_w"] / smoothed.unsqueeze (1), 1e-5, 1e-6));
  g_assert_false (w["quantizer.embedding.weight"].equal (before));
  /* The returned codes are those of the codebook before the update. */
  g_assert_true (at::allclose (vq.quant_out, before.index_select (0, vq.indices.reshape (-1)).view_as (quant_in), 1e-6, 1e-6));
}

void
test_save_load_roundtrip ()
{
  at::manual_seed (6);
  const TokenizerModel model (small_config ());
  gchar *dir = g_dir_make_tmp ("tfm-torch-XXXXXX", nullptr);
  const std::string path = std::string (dir) + "/tok.safetensors";
  model.save (path, {{"modality", "haptic"}, {"window-samples", "1000"}});
  const TokenizerModel again = TokenizerModel::load (path);
  g_assert_cmpint (again.config ().emb, ==, 32);
  g_assert_cmpint (again.config ().heads, ==, 4);
  g_assert_cmpint (again.config ().decoder_depth, ==, 2);
  const auto &a = model.weights ().all (), &b = again.weights ().all ();
  g_assert_cmpint (a.size (), ==, b.size ());
  for (size_t i = 0; i < a.size (); ++i) {
    g_assert_cmpstr (a[i].first.c_str (), ==, b[i].first.c_str ());
    g_assert_true (a[i].second.equal (b[i].second));
  }
  const auto file = neuro::SafetensorsFile::open (path);
  g_assert_cmpstr (file.metadata ().at ("architecture").c_str (), ==, "tfm-tokenizer");
  g_assert_cmpstr (file.metadata ().at ("modality").c_str (), ==, "haptic");
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}

/* The classifier's default names, order and shapes are exactly those of the
 * authors' released checkpoint. */
void
test_classifier_names_match_authors ()
{
  const std::string path = neuro_test::need_file (neuro_test::shared_dir () +
      "/models/tfm-encoder-tuev-authors.safetensors");
  const auto file = neuro::SafetensorsFile::open (path);
  const ClassifierModel model ((ClassifierConfig ()));
  const auto &mine = model.weights ().all ();
  g_assert_cmpint (mine.size (), ==, file.tensors ().size ());
  for (size_t i = 0; i < mine.size (); ++i) {
    g_assert_cmpstr (mine[i].first.c_str (), ==, file.tensors ()[i].name.c_str ());
    g_assert_true (neuro::Shape (mine[i].second.sizes ().begin (), mine[i].second.sizes ().end ()) ==
        file.tensors ()[i].shape);
  }
  /* The sinusoidal table we compute agrees with the authors' stored one. */
  const std::vector<float> pe = file.floats ("temporal_pos_embed.pe");
  const at::Tensor ours = model.weights ()["temporal_pos_embed.pe"].contiguous ();
  double worst = 0;
  for (size_t i = 0; i < pe.size (); ++i)
    worst = std::max (worst, static_cast<double> (std::fabs (pe[i] - ours.data_ptr<float> ()[i])));
  g_assert_cmpfloat (worst, <, 1e-4);
}

}  // namespace

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  g_test_add_func ("/models/torch/tokenizer_paths_agree", test_tokenizer_paths_agree);
  g_test_add_func ("/models/torch/nearest_code_ties", test_nearest_code_ties);
  g_test_add_func ("/models/torch/classifier_paths_agree", test_classifier_paths_agree);
  g_test_add_func ("/models/torch/gradients_reach_every_parameter", test_gradients_reach_every_parameter);
  g_test_add_func ("/models/torch/ema_update", test_ema_update);
  g_test_add_func ("/models/torch/save_load_roundtrip", test_save_load_roundtrip);
  g_test_add_func ("/models/torch/classifier_names_match_authors", test_classifier_names_match_authors);
  return g_test_run ();
}
