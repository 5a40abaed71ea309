#include "gsttfmtokenize.h"

GST_DEBUG_CATEGORY_STATIC (gst_tfm_tokenize_debug);
#define GST_CAT_DEFAULT gst_tfm_tokenize_debug

struct _GstTfmTokenize
{
  GstBaseTransform parent;
};

G_DEFINE_TYPE (GstTfmTokenize, gst_tfm_tokenize, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (tfmtokenize, "tfmtokenize", GST_RANK_NONE, GST_TYPE_TFM_TOKENIZE);

static void
gst_tfm_tokenize_class_init (GstTfmTokenizeClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_set_static_metadata (element_class, "tfmtokenize", "Filter/Converter",
      "TFM-Tokenizer: spectrogram windows to discrete tokens", "neurotokens developers");
  GST_DEBUG_CATEGORY_INIT (gst_tfm_tokenize_debug, "tfmtokenize", 0, "tfmtokenize");
}

static void
gst_tfm_tokenize_init (GstTfmTokenize * self)
{
  (void) self;
}
