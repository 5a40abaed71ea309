// SPDX-License-Identifier: LGPL-2.1-or-later
#include "model_slot.h"

namespace neuro {

std::string
model_file (const char *property, const std::string &shipped_file)
{
  if (property && *property)
    return property;
  return default_model_dir () + "/" + shipped_file;
}

bool
model_property_settable (GstElement *element, const GParamSpec *pspec)
{
  GST_OBJECT_LOCK (element);
  const bool settable = GST_STATE (element) <= GST_STATE_READY &&
      (GST_STATE_PENDING (element) == GST_STATE_VOID_PENDING || GST_STATE_PENDING (element) <= GST_STATE_READY);
  GST_OBJECT_UNLOCK (element);
  if (!settable)
    g_warning ("%s: %s can only be changed in the NULL or READY state (the model is loaded at NULL->READY "
        "and reloaded at READY->PAUSED)", GST_ELEMENT_NAME (element), pspec->name);
  return settable;
}

namespace {

template <class Model>
bool
load_file (GstElement *element, const char *what, const std::string &path, const std::string &hint,
    const ModelCheck &check, std::unique_ptr<Model> &out)
{
  if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR)) {
    std::string role = what;
    role[0] = g_ascii_toupper (role[0]);
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
        ("%s model \"%s\" does not exist. %s", role.c_str (), path.c_str (), hint.c_str ()), (NULL));
    return false;
  }
  try {
    std::unique_ptr<Model> model = Model::load (path);
    const std::string problem = check ? check (model->info ()) : "";
    if (!problem.empty ())
      throw ModelError (path + ": " + problem);
    out = std::move (model);
    return true;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
        ("Could not load %s model \"%s\": %s", what, path.c_str (), e.what ()), (NULL));
    return false;
  }
}

}  // namespace

bool
load_model (GstElement *element, const std::string &path, const std::string &hint, const ModelCheck &check,
    std::unique_ptr<Tokenizer> &out)
{
  return load_file (element, "tokenizer", path, hint, check, out);
}

bool
load_model (GstElement *element, const std::string &path, const std::string &hint, const ModelCheck &check,
    std::unique_ptr<Classifier> &out)
{
  return load_file (element, "classifier", path, hint, check, out);
}

void
ModelThreads::apply (int threads)
{
  if (threads == applied_ && g_thread_self () == thread_)
    return;
  set_model_threads (threads > 0 ? threads : (int) g_get_num_processors ());
  applied_ = threads;
  thread_ = g_thread_self ();
}

}  // namespace neuro
