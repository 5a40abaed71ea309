// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_CHANNEL_TAGS (gst_channel_tags_get_type ())
G_DECLARE_FINAL_TYPE (GstChannelTags, gst_channel_tags, GST, CHANNEL_TAGS, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (channeltags);

G_END_DECLS
