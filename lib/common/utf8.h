// SPDX-License-Identifier: LGPL-2.1-or-later
/* Text from files and models is shown to users (GStreamer errors, tags,
 * recordings), which must be valid UTF-8; this is the one place that makes
 * it so. GLib-free, for lib/eeg and models/ as well as the elements. */
#pragma once

#include <string>

namespace neuro {

/* `text` with every byte that does not start a well-formed UTF-8 sequence
 * (Latin-1 text, truncated sequences, overlong forms, surrogates, code points
 * above U+10FFFF) replaced by U+FFFD; valid text is returned unchanged. */
std::string valid_utf8 (const std::string &text);

}  // namespace neuro
