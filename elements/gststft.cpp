#include "gststft.h"

GST_DEBUG_CATEGORY_STATIC (gst_stft_debug);
#define GST_CAT_DEFAULT gst_stft_debug

struct _GstStft
{
  GstBaseTransform parent;
};

G_DEFINE_TYPE (GstStft, gst_stft, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (stft, "stft", GST_RANK_NONE, GST_TYPE_STFT);

static void
gst_stft_class_init (GstStftClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_set_static_metadata (element_class, "stft", "Filter/Analyzer/Audio",
      "Short-time Fourier transform (FFTW3)", "neurotokens developers");
  GST_DEBUG_CATEGORY_INIT (gst_stft_debug, "stft", 0, "stft");
}

static void
gst_stft_init (GstStft * self)
{
  (void) self;
}
