// SPDX-License-Identifier: LGPL-2.1-or-later
/* The neurotokens plugin: registers every element of the suite. */
#include <gst/gst.h>

#include "gstchanneltags.h"
#include "gsteegsrc.h"
#include "gstlbmclassify.h"
#include "gststft.h"
#include "gsttfmtokenize.h"
#include "gsttokensink.h"
#include "tags.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  neuro_tags_register ();
  gboolean ok = TRUE;
  ok &= GST_ELEMENT_REGISTER (eegsrc, plugin);
  ok &= GST_ELEMENT_REGISTER (stft, plugin);
  ok &= GST_ELEMENT_REGISTER (tfmtokenize, plugin);
  ok &= GST_ELEMENT_REGISTER (lbmclassify, plugin);
  ok &= GST_ELEMENT_REGISTER (tokensink, plugin);
  ok &= GST_ELEMENT_REGISTER (channeltags, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, neurotokens,
    "Tokenize EEG, audio and haptic signals into discrete time-frequency tokens",
    plugin_init, VERSION, "LGPL", "neurotokens", "https://github.com/neurotokens/neurotokens")
