// SPDX-License-Identifier: LGPL-2.1-or-later
#include "tags.h"

#include <sstream>

void
neuro_tags_register (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    gst_tag_register_static (NEURO_TAG_MODALITY, GST_TAG_FLAG_META, G_TYPE_STRING,
        "modality", "signal modality: eeg, audio, haptic, ...", gst_tag_merge_use_first);
    gst_tag_register_static (NEURO_TAG_CHANNEL_NAMES, GST_TAG_FLAG_META, G_TYPE_STRING,
        "channel names", "comma-separated channel names in channel order",
        gst_tag_merge_use_first);
    gst_tag_register_static (NEURO_TAG_CHANNEL_UNITS, GST_TAG_FLAG_META, G_TYPE_STRING,
        "channel units", "comma-separated physical unit of each channel (e.g. uV)",
        gst_tag_merge_use_first);
    gst_tag_register_static (NEURO_TAG_SOURCE, GST_TAG_FLAG_META, G_TYPE_STRING,
        "source file", "path of the recording the signal was read from",
        gst_tag_merge_use_first);
    g_once_init_leave (&once, 1);
  }
}

namespace neuro {

std::string
join (const std::vector<std::string> &items, const char *sep)
{
  std::string out;
  for (size_t i = 0; i < items.size (); i++) {
    if (i)
      out += sep;
    out += items[i];
  }
  return out;
}

std::vector<std::string>
split (const std::string &s, char sep)
{
  std::vector<std::string> out;
  if (s.empty ())
    return out;
  std::string item;
  std::istringstream in (s);
  while (std::getline (in, item, sep))
    out.push_back (item);
  if (!s.empty () && s.back () == sep)
    out.emplace_back ();
  return out;
}

GstTagList *
make_stream_tags (const std::string &modality,
    const std::vector<std::string> &channel_names,
    const std::vector<std::string> &channel_units)
{
  neuro_tags_register ();
  GstTagList *tags = gst_tag_list_new_empty ();
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE,
      NEURO_TAG_MODALITY, modality.c_str (),
      NEURO_TAG_CHANNEL_NAMES, join (channel_names).c_str (),
      NEURO_TAG_CHANNEL_UNITS, join (channel_units).c_str (), NULL);
  return tags;
}

std::vector<std::string>
tag_list_get_strings (const GstTagList *tags, const char *tag)
{
  gchar *value = NULL;
  if (!tags || !gst_tag_list_get_string (tags, tag, &value))
    return {};
  std::vector<std::string> out = split (value);
  g_free (value);
  return out;
}

}  // namespace neuro
