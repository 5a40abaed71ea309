// SPDX-License-Identifier: LGPL-2.1-or-later
/* Internal to tokensink (not an element registered on its own): the record
 * orderer, a GstAggregator inside the tokensink bin that takes the token
 * streams on its request pads sink_%u and hands the JSON Lines records of all
 * of them, in order of availability, to the bin's writer; and what the bin's
 * internal elements share: the settings they read from the bin at start and
 * the tokens pad template. */
#pragma once

#include <gst/base/gstaggregator.h>

#include <string>

#include "gsttokensink.h"

typedef enum
{
  GST_TOKEN_SINK_FORMAT_JSONL,
  GST_TOKEN_SINK_FORMAT_HDF5,
} GstTokenSinkFormat;

#define DEFAULT_FORMAT GST_TOKEN_SINK_FORMAT_JSONL
#define DEFAULT_OVERWRITE FALSE
#define DEFAULT_FLUSH_INTERVAL 1000     /* ms */

#define LINES_CAPS "application/x-ndjson"
/* Custom downstream event from the orderer to the writer: an input failed
 * (the error is posted). GstAggregator still sends EOS after a failed
 * aggregate, which must not complete an HDF5 recording as if it had ended. */
#define RECORDING_FAILED_EVENT "neurotokens-recording-failed"

struct SinkSettings
{
  std::string location;
  GstTokenSinkFormat format = DEFAULT_FORMAT;
  bool overwrite = DEFAULT_OVERWRITE;
  guint flush_interval = DEFAULT_FLUSH_INTERVAL;
};

/* The bin's settings, read by an internal element (child of the bin). */
SinkSettings settings_of_parent (GstElement * child);

/* sink_%u request pads of application/x-tokens, of type pad_type. */
GstPadTemplate *tokens_sink_template (GType pad_type);

/* Orders records across streams; its src pad gives LINES_CAPS buffers. */
#define GST_TYPE_TOKEN_SINK_MUX (gst_token_sink_mux_get_type ())
G_DECLARE_FINAL_TYPE (GstTokenSinkMux, gst_token_sink_mux, GST, TOKEN_SINK_MUX, GstAggregator)
