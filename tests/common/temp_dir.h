// SPDX-License-Identifier: LGPL-2.1-or-later
/* A fresh temporary directory for one test, removed with its files (one
 * level) by the destructor, so test runs leave nothing in $TMPDIR. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

#include <string>

namespace neuro_test {

struct TempDir
{
  std::string path;

  explicit TempDir (const char *prefix = "neurotokens-test")
  {
    gchar *p = g_dir_make_tmp ((std::string (prefix) + "-XXXXXX").c_str (), NULL);
    path = p ? p : "";
    g_free (p);
  }
  ~TempDir ()
  {
    GDir *d = g_dir_open (path.c_str (), 0, NULL);
    for (const gchar *n; d && (n = g_dir_read_name (d));)
      g_remove ((path + "/" + n).c_str ());
    if (d)
      g_dir_close (d);
    g_rmdir (path.c_str ());
  }
  TempDir (const TempDir &) = delete;
  TempDir &operator= (const TempDir &) = delete;

  std::string file (const std::string &name) const { return path + "/" + name; }
};

}  // namespace neuro_test
