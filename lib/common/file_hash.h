// SPDX-License-Identifier: LGPL-2.1-or-later
/* SHA-256 of a file, so that a recording can name exactly which model and
 * which source file its tokens came from. */
#pragma once

#include <string>

namespace neuro {

/* Lower-case hex digest; on failure "" and *error (if given) says why. */
std::string file_sha256 (const std::string &path, std::string *error = nullptr);

}  // namespace neuro
