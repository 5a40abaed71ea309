// SPDX-License-Identifier: LGPL-2.1-or-later
#include "file_hash.h"

#include <glib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace neuro {

std::string
file_sha256 (const std::string &path, std::string *error)
{
  std::unique_ptr<FILE, int (*) (FILE *)> f (std::fopen (path.c_str (), "rbe"), std::fclose);
  if (!f) {
    if (error)
      *error = path + ": " + std::strerror (errno);
    return "";
  }
  std::unique_ptr<GChecksum, void (*) (GChecksum *)> sum (g_checksum_new (G_CHECKSUM_SHA256),
      g_checksum_free);
  std::vector<unsigned char> block (1 << 20);
  size_t n;
  while ((n = std::fread (block.data (), 1, block.size (), f.get ())) > 0)
    g_checksum_update (sum.get (), block.data (), n);
  if (std::ferror (f.get ())) {
    if (error)
      *error = path + ": read error";
    return "";
  }
  return g_checksum_get_string (sum.get ());
}

}  // namespace neuro
