// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* A bin: request pads sink_%u ghost an internal GstAggregator (ordering and
 * live timeouts) that feeds an internal GstBaseSink (durable file writing). */
#define GST_TYPE_TOKEN_SINK (gst_token_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTokenSink, gst_token_sink, GST, TOKEN_SINK, GstBin)

GST_ELEMENT_REGISTER_DECLARE (tokensink);

G_END_DECLS
