// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_LBM_CLASSIFY (gst_lbm_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstLbmClassify, gst_lbm_classify, GST, LBM_CLASSIFY, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (lbmclassify);

G_END_DECLS
