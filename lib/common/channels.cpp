// SPDX-License-Identifier: LGPL-2.1-or-later
#include "channels.h"

#include <algorithm>
#include <cctype>

namespace neuro {

std::string
trim (const std::string &s)
{
  const size_t b = s.find_first_not_of (" \t");
  if (b == std::string::npos)
    return "";
  const size_t e = s.find_last_not_of (" \t");
  return s.substr (b, e - b + 1);
}

/* The 10-20 system's temporal sites renamed by the 10-10 system (Nomenclature
 * of the American Clinical Neurophysiology Society, 1994/2006). */
static const char *const kOldToNew[][2] = {
  {"t3", "t7"}, {"t4", "t8"}, {"t5", "p7"}, {"t6", "p8"},
};

std::string
channel_display_name (const std::string &label)
{
  std::string s = trim (label);
  while (!s.empty () && s.back () == '.')
    s.pop_back ();
  if (s.size () > 4 && (s[0] == 'E' || s[0] == 'e') && (s[1] == 'E' || s[1] == 'e') &&
      (s[2] == 'G' || s[2] == 'g') && s[3] == ' ')
    s = s.substr (4);
  return trim (s);
}

std::string
channel_key (const std::string &label)
{
  std::string s = channel_display_name (label);
  std::transform (s.begin (), s.end (), s.begin (), [] (unsigned char c) {
    return (char) std::tolower (c);
  });
  for (const auto &pair : kOldToNew)
    if (s == pair[0])
      return pair[1];
  return s;
}

bool
same_channel (const std::string &a, const std::string &b)
{
  return channel_key (a) == channel_key (b);
}

}  // namespace neuro
