#include "gsttokensink.h"

GST_DEBUG_CATEGORY_STATIC (gst_token_sink_debug);
#define GST_CAT_DEFAULT gst_token_sink_debug

struct _GstTokenSink
{
  GstAggregator parent;
};

G_DEFINE_TYPE (GstTokenSink, gst_token_sink, GST_TYPE_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE (tokensink, "tokensink", GST_RANK_NONE, GST_TYPE_TOKEN_SINK);

static void
gst_token_sink_class_init (GstTokenSinkClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_set_static_metadata (element_class, "tokensink", "Sink/File",
      "Record token streams of several modalities to one file", "neurotokens developers");
  GST_DEBUG_CATEGORY_INIT (gst_token_sink_debug, "tokensink", 0, "tokensink");
}

static void
gst_token_sink_init (GstTokenSink * self)
{
  (void) self;
}
