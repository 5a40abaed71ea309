#pragma once

#include <gst/base/gstaggregator.h>

G_BEGIN_DECLS

#define GST_TYPE_TOKEN_SINK (gst_token_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTokenSink, gst_token_sink, GST, TOKEN_SINK, GstAggregator)

GST_ELEMENT_REGISTER_DECLARE (tokensink);

G_END_DECLS
