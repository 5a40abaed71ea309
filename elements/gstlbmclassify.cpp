#include "gstlbmclassify.h"

GST_DEBUG_CATEGORY_STATIC (gst_lbm_classify_debug);
#define GST_CAT_DEFAULT gst_lbm_classify_debug

struct _GstLbmClassify
{
  GstBaseTransform parent;
};

G_DEFINE_TYPE (GstLbmClassify, gst_lbm_classify, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (lbmclassify, "lbmclassify", GST_RANK_NONE, GST_TYPE_LBM_CLASSIFY);

static void
gst_lbm_classify_class_init (GstLbmClassifyClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_set_static_metadata (element_class, "lbmclassify", "Filter/Analyzer",
      "Classify token windows with a large brainwave model", "neurotokens developers");
  GST_DEBUG_CATEGORY_INIT (gst_lbm_classify_debug, "lbmclassify", 0, "lbmclassify");
}

static void
gst_lbm_classify_init (GstLbmClassify * self)
{
  (void) self;
}
