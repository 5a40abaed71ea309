#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_EEG_SRC (gst_eeg_src_get_type ())
G_DECLARE_FINAL_TYPE (GstEegSrc, gst_eeg_src, GST, EEG_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (eegsrc);

G_END_DECLS
