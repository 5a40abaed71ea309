// SPDX-License-Identifier: LGPL-2.1-or-later
/* How tfmtokenize and lbmclassify find, load and refresh their model and set
 * LibTorch's thread count: one set of rules for both (docs/tfmtokenize.md,
 * docs/lbmclassify.md, "Model and threads").
 *
 *  - `model`: path of a .safetensors file; NULL or "" = the element's shipped
 *    model in the model directory (neuro::default_model_dir()). Reading the
 *    property gives the file that is or will be loaded.
 *  - The model is loaded at NULL->READY (a missing or unreadable file fails
 *    that change with a RESOURCE error naming it), reloaded at READY->PAUSED
 *    when the property was changed in READY, and dropped at READY->NULL.
 *    `model` (and what chooses the shipped model) can be changed in NULL and
 *    READY only.
 *  - `threads`: LibTorch intra-op threads of the streaming thread, 0 = one
 *    per CPU core; changeable while playing. */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

#include "tfm_models.h"

namespace neuro {

/* The file a `model` property value names: itself, or the shipped
 * <model dir>/<shipped_file> when NULL or empty. */
std::string model_file (const char *property, const std::string &shipped_file);

/* True when `pspec` may change now (NULL or READY); else warns and returns false. */
bool model_property_settable (GstElement *element, const GParamSpec *pspec);

/* A sentence when a loaded model cannot serve the element, "" when it can. */
using ModelCheck = std::function<std::string (const ModelInfo &)>;

/* Loads `path` into `out` for `element`, then runs `check`. On failure posts
 * a RESOURCE error naming the file (with `hint` when it does not exist) and
 * returns false, leaving `out` alone. */
bool load_model (GstElement *element, const std::string &path, const std::string &hint, const ModelCheck &check,
    std::unique_ptr<Tokenizer> &out);
bool load_model (GstElement *element, const std::string &path, const std::string &hint, const ModelCheck &check,
    std::unique_ptr<Classifier> &out);

/* The loaded model of an element and the file it came from. */
template <class Model>
struct ModelSlot {
  std::unique_ptr<Model> model;
  std::string path;

  /* Loads `wanted` unless it is already the loaded file. */
  bool refresh (GstElement *element, const std::string &wanted, const std::string &hint,
      const ModelCheck &check = nullptr)
  {
    if (model && wanted == path)
      return true;
    if (!load_model (element, wanted, hint, check, model))
      return false;
    path = wanted;
    return true;
  }

  void drop ()
  {
    model.reset ();
    path.clear ();
  }
};

/* LibTorch's thread count belongs to each thread: call apply() in the
 * streaming thread before each forward pass; it sets `threads` (0 = one per
 * core; a fresh thread starts at 1) when the value or the thread changed. */
class ModelThreads {
 public:
  void apply (int threads);

 private:
  GThread *thread_ = nullptr;
  int applied_ = -1;
};

}  // namespace neuro
