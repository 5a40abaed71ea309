// SPDX-License-Identifier: LGPL-2.1-or-later
/* Test driver for the model library: loads a model through the public API
 * (tfm_models.h) and prints what the Python tests compare with their NumPy
 * references, as JSON on stdout.
 *
 *   model_probe info FILE                 ModelInfo and classifier sizes
 *   model_probe classify FILE INPUT.json  {"cases":[{"channels":C,"frames":T,"tokens":[...]}]}
 *                                         -> {"logits":[[...]], "probabilities":[[...]]}
 *   model_probe init tokenizer|classifier OUT [SEED]
 *                                         writes a model with the authors' random init (default
 *                                         hyper-parameters) through tfm_torch.h
 *   model_probe model-dir                 prints neuro::default_model_dir ()
 *   model_probe roundtrip IN OUT          rewrites IN with write_safetensors (+ metadata "rewritten")
 *   model_probe tokenize FILE INPUT.json  {"n":N,"stft":[N*bins*T],"raw":[N*S]}
 *                                         -> {"quant_in":[N*T*emb], "tokens":[N*T]}
 *
 * A ModelError is printed on stderr with exit status 2, so negative tests can
 * check both the refusal and its message. */
#include "safetensors.h"
#include "tfm_models.h"
#include "tfm_torch.h"

#include <ATen/Context.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace {

nlohmann::json
read_json (const std::string &path)
{
  std::ifstream in (path);
  if (!in)
    throw std::runtime_error ("cannot open " + path);
  return nlohmann::json::parse (in);
}

nlohmann::json
info_json (const neuro::ModelInfo &i)
{
  return {{"architecture", i.architecture}, {"modality", i.modality}, {"id", i.id},
      {"sample-rate", i.geometry.rate}, {"n-fft", i.geometry.n_fft}, {"hop", i.geometry.hop}, {"bins", i.geometry.bins},
      {"window-samples", i.geometry.window_samples}, {"vocabulary", i.vocabulary}, {"labels", i.labels},
      {"channels", i.channels}, {"frames-per-window", i.geometry.frames_per_window ()}, {"metadata", i.metadata}};
}

int
cmd_info (const std::string &path)
{
  const neuro::ModelInfo info = neuro::read_model_info (neuro::SafetensorsFile::open (path));
  nlohmann::json out;
  if (info.architecture == "tfm-encoder") {
    auto c = neuro::Classifier::load (path);
    out = info_json (c->info ());
    out["classes"] = c->num_classes ();
    out["max-channels"] = c->max_channels ();
    out["max-frames"] = c->max_frames ();
  } else {
    out = info_json (neuro::Tokenizer::load (path)->info ());
  }
  std::cout << out.dump () << "\n";
  return 0;
}

int
cmd_classify (const std::string &path, const std::string &input)
{
  auto model = neuro::Classifier::load (path);
  nlohmann::json out = {{"logits", nlohmann::json::array ()}, {"probabilities", nlohmann::json::array ()}};
  const nlohmann::json in = read_json (input);
  for (const auto &c : in["cases"]) {
    const std::vector<uint32_t> tokens = c["tokens"].get<std::vector<uint32_t>> ();
    const std::vector<float> logits = model->logits (tokens.data (), c["channels"].get<int> (), c["frames"].get<int> ());
    out["logits"].push_back (logits);
    out["probabilities"].push_back (model->probabilities (logits));
  }
  std::cout << out.dump () << "\n";
  return 0;
}

int
cmd_init (const std::string &kind, const std::string &out, int seed)
{
  at::manual_seed (seed);
  if (kind == "tokenizer")
    neuro::tfm::TokenizerModel (neuro::tfm::TokenizerConfig ()).save (out, {});
  else if (kind == "classifier")
    neuro::tfm::ClassifierModel (neuro::tfm::ClassifierConfig ()).save (out, {});
  else
    throw std::runtime_error ("init: unknown model kind " + kind);
  return 0;
}

int
cmd_roundtrip (const std::string &in, const std::string &out)
{
  const neuro::SafetensorsFile file = neuro::SafetensorsFile::open (in);
  std::vector<neuro::TensorData> tensors;
  for (const auto &e : file.tensors ())
    tensors.push_back ({e.name, e.dtype, e.shape, file.raw (e.name)});
  auto meta = file.metadata ();
  meta["rewritten"] = "yes";
  neuro::write_safetensors (out, tensors, meta);
  return 0;
}

int
cmd_tokenize (const std::string &path, const std::string &input)
{
  auto model = neuro::Tokenizer::load (path);
  const nlohmann::json in = read_json (input);
  const int n = in["n"].get<int> ();
  const std::vector<float> stft = in["stft"].get<std::vector<float>> ();
  const std::vector<float> raw = in["raw"].get<std::vector<float>> ();
  const neuro::ModelInfo &info = model->info ();
  const size_t T = static_cast<size_t> (info.geometry.frames_per_window ());
  if (stft.size () != static_cast<size_t> (n) * info.geometry.bins * T || raw.size () != static_cast<size_t> (n) * info.geometry.window_samples)
    throw std::runtime_error ("input sizes do not match the model (bins/window-samples)");
  std::vector<uint32_t> tokens (static_cast<size_t> (n) * T);
  model->tokenize (stft.data (), raw.data (), n, tokens.data ());
  nlohmann::json out = {{"quant_in", model->quantizer_input (stft.data (), raw.data (), n)}, {"tokens", tokens}};
  std::cout << out.dump () << "\n";
  return 0;
}

}  // namespace

int
main (int argc, char **argv)
{
  if (argc == 2 && std::string (argv[1]) == "model-dir") {
    std::printf ("%s\n", neuro::default_model_dir ().c_str ());
    return 0;
  }
  if (argc < 3) {
    std::fprintf (stderr, "usage: %s info|classify|tokenize FILE [INPUT.json]\n", argv[0]);
    return 1;
  }
  const std::string cmd = argv[1], path = argv[2], input = argc > 3 ? argv[3] : "";
  try {
    if (cmd == "info")
      return cmd_info (path);
    if (cmd == "classify" && argc > 3)
      return cmd_classify (path, input);
    if (cmd == "init" && argc > 3)
      return cmd_init (path, input, argc > 4 ? std::atoi (argv[4]) : 0);
    if (cmd == "roundtrip" && argc > 3)
      return cmd_roundtrip (path, input);
    if (cmd == "tokenize" && argc > 3)
      return cmd_tokenize (path, input);
    std::fprintf (stderr, "unknown command or missing input: %s\n", cmd.c_str ());
    return 1;
  } catch (const neuro::ModelError &e) {
    std::fprintf (stderr, "ModelError: %s\n", e.what ());
    return 2;
  }
}
