#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_TFM_TOKENIZE (gst_tfm_tokenize_get_type ())
G_DECLARE_FINAL_TYPE (GstTfmTokenize, gst_tfm_tokenize, GST, TFM_TOKENIZE, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (tfmtokenize);

G_END_DECLS
