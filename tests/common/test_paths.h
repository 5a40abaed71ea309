/* Paths the test environment provides (tests/meson.build). */
#pragma once

#include <glib.h>

#include <string>

namespace neuro_test {

inline std::string
env_path (const char *var, const char *fallback)
{
  const char *v = g_getenv (var);
  return v && *v ? v : fallback;
}

/* ../shared: third-party recordings (data/) and the authors' models (models/). */
inline std::string shared_dir () { return env_path ("NEUROTOKENS_SHARED_DIR", "../shared"); }
inline std::string data_path (const std::string &rel) { return shared_dir () + "/data/" + rel; }
inline std::string model_dir () { return env_path ("NEUROTOKENS_MODEL_DIR", "models"); }
inline std::string source_dir () { return env_path ("NEUROTOKENS_SOURCE_DIR", "."); }
inline std::string build_dir () { return env_path ("NEUROTOKENS_BUILD_DIR", "build"); }

}  // namespace neuro_test
