#include "gsteegsrc.h"

GST_DEBUG_CATEGORY_STATIC (gst_eeg_src_debug);
#define GST_CAT_DEFAULT gst_eeg_src_debug

struct _GstEegSrc
{
  GstPushSrc parent;
};

G_DEFINE_TYPE (GstEegSrc, gst_eeg_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (eegsrc, "eegsrc", GST_RANK_NONE, GST_TYPE_EEG_SRC);

static void
gst_eeg_src_class_init (GstEegSrcClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_set_static_metadata (element_class, "eegsrc", "Source/Audio",
      "EEG from EDF/EDF+/BDF/BDF+ files or a synthetic 10-20 montage", "neurotokens developers");
  GST_DEBUG_CATEGORY_INIT (gst_eeg_src_debug, "eegsrc", 0, "eegsrc");
}

static void
gst_eeg_src_init (GstEegSrc * self)
{
  (void) self;
}
