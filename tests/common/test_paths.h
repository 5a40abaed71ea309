// SPDX-License-Identifier: LGPL-2.1-or-later
/* Paths the test environment provides (tests/meson.build). */
#pragma once

#include <glib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
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
/* What tests/fixtures generates: synthetic stand-ins for the recordings. */
inline std::string fixtures_dir () { return env_path ("NEUROTOKENS_FIXTURES_DIR", "build/tests/fixtures"); }
/* The stand-in for the authors' TUEV classifier (written by tests/models). */
inline std::string classifier_fixture () { return build_dir () + "/tests/models/authors-shape-classifier.safetensors"; }

/* meson's exit status for a skipped test. */
constexpr int kSkip = 77;

/* Ends the test as skipped, with one line naming the absent third-party file,
 * unless PATH exists. _Exit: the exit handlers (gst_deinit and the leaks
 * tracer) would count the objects of the interrupted check as leaks. */
inline const std::string &
need_file (const std::string &path)
{
  if (!g_file_test (path.c_str (), G_FILE_TEST_EXISTS)) {
    g_print ("SKIP: needs the third-party data %s, which is absent "
        "(meson setup -Dshared_dir=DIR names the folder with data/ and models/)\n", path.c_str ());
    std::fflush (stdout);
    std::_Exit (kSkip);
  }
  return path;
}

/* Whether this run reads the real recordings (argv[1] "recordings") or the
 * generated fixtures (the default): see choose_recordings (). */
inline bool &
reads_recordings ()
{
  static bool real = false;
  return real;
}

/* A test binary run as `TEST recordings [...]` reads the third-party files
 * and skips when one is absent; otherwise the fixtures of the same names.
 * Removes the argument so that the test framework does not see it. */
inline void
choose_recordings (int *argc, char **argv)
{
  if (*argc > 1 && std::strcmp (argv[1], "recordings") == 0) {
    reads_recordings () = true;
    for (int i = 1; i + 1 < *argc; i++)
      argv[i] = argv[i + 1];
    argv[--*argc] = NULL;
  }
}

/* A recording by its path under data/ of the shared folder
 * ("eeg/eegmmidb/S001R01.edf"): the real file or its synthetic stand-in. */
inline std::string
recording (const std::string &rel)
{
  if (reads_recordings ())
    return need_file (data_path (rel));
  return fixtures_dir () + "/" + rel.substr (rel.rfind ('/') + 1);
}

}  // namespace neuro_test
