// SPDX-License-Identifier: LGPL-2.1-or-later
/* eegsrc: EEG from EDF/EDF+/BDF/BDF+ files or a synthetic generator.
 * See docs/eegsrc.md. */
#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_EEG_SRC (gst_eeg_src_get_type ())
G_DECLARE_FINAL_TYPE (GstEegSrc, gst_eeg_src, GST, EEG_SRC, GstPushSrc)

/* Eye state of the synthetic subject (property "eyes"). */
typedef enum
{
  GST_EEG_SRC_EYES_OPEN,
  GST_EEG_SRC_EYES_CLOSED,
} GstEegSrcEyes;

#define GST_TYPE_EEG_SRC_EYES (gst_eeg_src_eyes_get_type ())
GType gst_eeg_src_eyes_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (eegsrc);

G_END_DECLS
