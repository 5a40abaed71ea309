// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

/* What to do with a window holding "no token" values (0xFFFFFFFF). */
typedef enum {
  GST_LBM_CLASSIFY_MISSING_SKIP,
  GST_LBM_CLASSIFY_MISSING_DECIDE,
} GstLbmClassifyMissing;

#define GST_TYPE_LBM_CLASSIFY (gst_lbm_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstLbmClassify, gst_lbm_classify, GST, LBM_CLASSIFY, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (lbmclassify);

G_END_DECLS
