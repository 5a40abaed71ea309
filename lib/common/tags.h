// SPDX-License-Identifier: LGPL-2.1-or-later
/* Custom stream tags shared by every element of the suite.
 *
 * They travel as ordinary GstTagList entries (GST_TAG_SCOPE_STREAM) so that
 * stock elements such as queue, tee, audioconvert and audioresample forward
 * them unchanged, and tokensink can write them into the stream header. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

/* Modality of the signal: "eeg", "audio", "haptic", ... (string). */
#define NEURO_TAG_MODALITY "neuro-modality"
/* Channel names in channel order, comma separated, e.g. "Fp1,Fp2,F3" (string). */
#define NEURO_TAG_CHANNEL_NAMES "neuro-channel-names"
/* Physical unit of each channel, comma separated, e.g. "uV,uV" (string). */
#define NEURO_TAG_CHANNEL_UNITS "neuro-channel-units"
/* The file the signal was read from, as the source element was given it (string). */
#define NEURO_TAG_SOURCE "neuro-source"

G_BEGIN_DECLS
/* Registers the custom tags; idempotent, call from plugin_init and tools. */
void neuro_tags_register (void);
G_END_DECLS

namespace neuro {

std::string join (const std::vector<std::string> &items, const char *sep = ",");
std::vector<std::string> split (const std::string &s, char sep = ',');

/* Builds a stream-scoped tag list carrying modality, channel names and units. */
GstTagList *make_stream_tags (const std::string &modality,
    const std::vector<std::string> &channel_names,
    const std::vector<std::string> &channel_units);

/* Reads a comma-list tag into a vector; empty when absent. */
std::vector<std::string> tag_list_get_strings (const GstTagList *tags, const char *tag);

}  // namespace neuro
