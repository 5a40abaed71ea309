// SPDX-License-Identifier: LGPL-2.1-or-later
#include "utf8.h"

namespace neuro {

namespace {

/* Length of the well-formed sequence at s[i] (RFC 3629), 0 if there is none. */
size_t
sequence_length (const std::string &s, size_t i)
{
  const auto byte = [&s] (size_t k) { return (unsigned char) s[k]; };
  const unsigned char b = byte (i);
  if (b < 0x80)
    return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  /* allowed range of the second byte */
  if (b >= 0xC2 && b <= 0xDF)
    len = 2;
  else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0)
      lo = 0xA0;  /* overlong */
    else if (b == 0xED)
      hi = 0x9F;  /* surrogates */
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0)
      lo = 0x90;  /* overlong */
    else if (b == 0xF4)
      hi = 0x8F;  /* above U+10FFFF */
  } else
    return 0;
  if (i + len > s.size () || byte (i + 1) < lo || byte (i + 1) > hi)
    return 0;
  for (size_t k = 2; k < len; k++)
    if (byte (i + k) < 0x80 || byte (i + k) > 0xBF)
      return 0;
  return len;
}

}  // namespace

std::string
valid_utf8 (const std::string &text)
{
  std::string out;
  out.reserve (text.size ());
  for (size_t i = 0; i < text.size ();) {
    const size_t len = sequence_length (text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      i++;
    } else {
      out.append (text, i, len);
      i += len;
    }
  }
  return out;
}

}  // namespace neuro
