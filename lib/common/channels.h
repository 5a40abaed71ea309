// SPDX-License-Identifier: LGPL-2.1-or-later
/* Channel-label matching shared by every element that picks EEG channels by
 * name (eegsrc's channel selection, lbmclassify's channel mapping), so that a
 * label that selects a channel in one also finds it in the other. */
#pragma once

#include <string>

namespace neuro {

/* s without leading and trailing spaces and tabs. */
std::string trim (const std::string &s);

/* Label as shown downstream: spaces, trailing dots and a leading "EEG "
 * removed, case kept ("Fc5." -> "Fc5", "EEG Fp1" -> "Fp1"). */
std::string channel_display_name (const std::string &label);

/* Comparison key of a channel label: its channel_display_name ("Fc5." as in
 * EEGMMIDB, "EEG Fp1" as in EDF files) in lower case, and the old 10-20 names mapped to the 10-10 ones that replaced them
 * (T3 -> T7, T4 -> T8, T5 -> P7, T6 -> P8): the same electrode sites. */
std::string channel_key (const std::string &label);

/* True when two labels name the same channel (equal channel_key). */
bool same_channel (const std::string &a, const std::string &b);

}  // namespace neuro
