// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_STFT (gst_stft_get_type ())
G_DECLARE_FINAL_TYPE (GstStft, gst_stft, GST, STFT, GstBaseTransform)

#define GST_TYPE_STFT_WINDOW (gst_stft_window_get_type ())
GType gst_stft_window_get_type (void);
#define GST_TYPE_STFT_SCALING (gst_stft_scaling_get_type ())
GType gst_stft_scaling_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (stft);

G_END_DECLS
