#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_STFT (gst_stft_get_type ())
G_DECLARE_FINAL_TYPE (GstStft, gst_stft, GST, STFT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (stft);

G_END_DECLS
