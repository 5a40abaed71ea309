// SPDX-License-Identifier: LGPL-2.1-or-later
/* channeltags: sets the suite's channel-name, unit and modality tags of a stream.
 *
 * Copyright (C) 2026 neurotokens developers
 * Licensed under the GNU Lesser General Public License, version 2.1 or later. */
/**
 * SECTION:element-channeltags
 * @title: channeltags
 *
 * Passes buffers through unchanged and rewrites the stream tags
 * `neuro-channel-names`, `neuro-channel-units` and `neuro-modality`
 * (lib/common/tags.h) so that they match the stream's channels again after an
 * element that splits or merges channels:
 *
 *  - `deinterleave` copies the tags of the whole stream to every mono output,
 *    so each output still lists every name: `position=N` keeps the names (and
 *    units) of channels N ... N+channels-1 of that list, i.e. the pad number of
 *    `deinterleave`'s `src_N`;
 *  - `interleave` forwards the tags of one input only: `names=A,B,...` (and
 *    `units=`) give the merged stream its names in channel order.
 *
 * Works on any stream whose caps have a `channels` field (audio/x-raw,
 * application/x-spectrogram, application/x-tokens). The rewritten tags are
 * pushed before the first buffer after caps or upstream tags change; a list
 * whose length differs from the stream's channel count is an error naming
 * both, never a silent mislabelling.
 *
 * Example launch lines:
 * |[
 * gst-launch-1.0 eegsrc channels=O1,O2,Cz ! deinterleave name=d \
 *     d.src_1 ! channeltags position=1 ! stft ! tfmtokenize ! tokensink location=o2.jsonl
 * ]| records channel O2 on its own, named O2 (without channeltags it would be `ch0`).
 * |[
 * gst-launch-1.0 interleave name=i ! channeltags names=O1,O2 units=uV ! stft ! tfmtokenize \
 *     ! lbmclassify ! fakesink  eegsrc channels=O1 ! i.  eegsrc channels=O2 seed=2 ! i.
 * ]| merges two single-channel sources and names the result so lbmclassify finds O1 and O2.
 */
#include "gstchanneltags.h"

#include "tags.h"

#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_channel_tags_debug);
#define GST_CAT_DEFAULT gst_channel_tags_debug

enum { PROP_0, PROP_NAMES, PROP_UNITS, PROP_POSITION, PROP_MODALITY };

#define DEFAULT_POSITION -1

struct _GstChannelTags {
  GstBaseTransform parent;

  /* properties */
  gchar *names;
  gchar *units;
  gint position;
  gchar *modality;

  /* streaming state */
  GstTagList *upstream;   /* the last stream tags received, or NULL */
  gint channels;          /* from caps; 0 before caps */
  gboolean pending;       /* tags must be (re)sent before the next buffer */
};

G_DEFINE_TYPE (GstChannelTags, gst_channel_tags, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (channeltags, "channeltags", GST_RANK_NONE, GST_TYPE_CHANNEL_TAGS);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS, GST_STATIC_CAPS ("audio/x-raw, channels=(int)[1,MAX]; "
        "application/x-spectrogram, channels=(int)[1,MAX]; "
        "application/x-tokens, channels=(int)[1,MAX]"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS ("audio/x-raw, channels=(int)[1,MAX]; "
        "application/x-spectrogram, channels=(int)[1,MAX]; "
        "application/x-tokens, channels=(int)[1,MAX]"));

/* One entry per channel: the property's list (a single unit applies to all),
 * else the slice of the upstream list at `position`, else the upstream list. */
static bool
channel_list (GstChannelTags * self, const gchar * prop, const char *tag, const char *what,
    std::vector<std::string> &out)
{
  const std::vector<std::string> given = neuro::split (prop ? prop : "");
  const std::vector<std::string> upstream = neuro::tag_list_get_strings (self->upstream, tag);
  const size_t n = (size_t) self->channels;
  if (!given.empty ()) {
    out = given.size () == 1 && g_str_equal (tag, NEURO_TAG_CHANNEL_UNITS) ?
        std::vector<std::string> (n, given[0]) : given;
    if (out.size () != n) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("channeltags %s=\"%s\" lists %zu %s, but the stream has %zu channels", what, prop,
              out.size (), what, n),
          ("give one entry per channel, in channel order"));
      return false;
    }
    return true;
  }
  if (self->position < 0 || upstream.empty ()) {
    out = upstream;
    return true;
  }
  if ((size_t) self->position + n > upstream.size ()) {
    const std::string list = neuro::join (upstream);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("channeltags position=%d needs %s %d to %zu of the upstream list, which has %zu (%s)",
            self->position, what, self->position, self->position + n - 1, upstream.size (),
            list.c_str ()),
        ("position is the index of this stream's first channel in the stream before "
            "deinterleave (the N of deinterleave's src_N)"));
    return false;
  }
  out.assign (upstream.begin () + self->position, upstream.begin () + self->position + n);
  return true;
}

static GstTagList *
rewritten_tags (GstChannelTags * self)
{
  std::vector<std::string> names, units;
  if (!channel_list (self, self->names, NEURO_TAG_CHANNEL_NAMES, "names", names)
      || !channel_list (self, self->units, NEURO_TAG_CHANNEL_UNITS, "units", units))
    return NULL;
  GstTagList *tags = self->upstream ? gst_tag_list_copy (self->upstream) : gst_tag_list_new_empty ();
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  gst_tag_list_remove_tag (tags, NEURO_TAG_CHANNEL_NAMES);
  gst_tag_list_remove_tag (tags, NEURO_TAG_CHANNEL_UNITS);
  if (!names.empty ())
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, NEURO_TAG_CHANNEL_NAMES,
        neuro::join (names).c_str (), NULL);
  if (!units.empty ())
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, NEURO_TAG_CHANNEL_UNITS,
        neuro::join (units).c_str (), NULL);
  if (self->modality && *self->modality)
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, NEURO_TAG_MODALITY, self->modality, NULL);
  return tags;
}

static gboolean
gst_channel_tags_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  (void) outcaps;
  GstChannelTags *self = GST_CHANNEL_TAGS (trans);
  gint channels = 0;
  gst_structure_get_int (gst_caps_get_structure (incaps, 0), "channels", &channels);
  self->channels = channels;
  self->pending = TRUE;
  return TRUE;
}

static gboolean
gst_channel_tags_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstChannelTags *self = GST_CHANNEL_TAGS (trans);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_TAG: {
      GstTagList *tags;
      gst_event_parse_tag (event, &tags);
      if (gst_tag_list_get_scope (tags) != GST_TAG_SCOPE_STREAM)
        break;
      /* held back: the channel count may only be known with the caps */
      gst_clear_tag_list (&self->upstream);
      self->upstream = gst_tag_list_copy (tags);
      self->pending = TRUE;
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_STREAM_START:
      gst_clear_tag_list (&self->upstream);
      self->pending = TRUE;
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_channel_tags_parent_class)->sink_event (trans, event);
}

static GstFlowReturn
gst_channel_tags_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  (void) buf;
  GstChannelTags *self = GST_CHANNEL_TAGS (trans);
  if (!self->pending)
    return GST_FLOW_OK;
  GstTagList *tags = rewritten_tags (self);
  if (!tags)
    return GST_FLOW_ERROR;
  self->pending = FALSE;
  GST_DEBUG_OBJECT (self, "stream tags %" GST_PTR_FORMAT, tags);
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (trans), gst_event_new_tag (tags));
  return GST_FLOW_OK;
}

static gboolean
gst_channel_tags_start (GstBaseTransform * trans)
{
  GstChannelTags *self = GST_CHANNEL_TAGS (trans);
  gst_clear_tag_list (&self->upstream);
  self->channels = 0;
  self->pending = TRUE;
  return TRUE;
}

static void
gst_channel_tags_set_property (GObject * object, guint id, const GValue * value, GParamSpec * pspec)
{
  GstChannelTags *self = GST_CHANNEL_TAGS (object);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_NAMES: g_free (self->names); self->names = g_value_dup_string (value); break;
    case PROP_UNITS: g_free (self->units); self->units = g_value_dup_string (value); break;
    case PROP_POSITION: self->position = g_value_get_int (value); break;
    case PROP_MODALITY: g_free (self->modality); self->modality = g_value_dup_string (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
  self->pending = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_channel_tags_get_property (GObject * object, guint id, GValue * value, GParamSpec * pspec)
{
  GstChannelTags *self = GST_CHANNEL_TAGS (object);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_NAMES: g_value_set_string (value, self->names); break;
    case PROP_UNITS: g_value_set_string (value, self->units); break;
    case PROP_POSITION: g_value_set_int (value, self->position); break;
    case PROP_MODALITY: g_value_set_string (value, self->modality); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_channel_tags_finalize (GObject * object)
{
  GstChannelTags *self = GST_CHANNEL_TAGS (object);
  g_free (self->names);
  g_free (self->units);
  g_free (self->modality);
  gst_clear_tag_list (&self->upstream);
  G_OBJECT_CLASS (gst_channel_tags_parent_class)->finalize (object);
}

static void
gst_channel_tags_class_init (GstChannelTagsClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  gobject_class->set_property = gst_channel_tags_set_property;
  gobject_class->get_property = gst_channel_tags_get_property;
  gobject_class->finalize = gst_channel_tags_finalize;
  const GParamFlags flags = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (gobject_class, PROP_NAMES,
      g_param_spec_string ("names", "Channel names",
          "Comma list of channel names in channel order, one per channel; replaces the "
          "upstream names (NULL: keep them, or take them by position)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_UNITS,
      g_param_spec_string ("units", "Channel units",
          "Comma list of channel units in channel order, or one unit for every channel, "
          "e.g. uV (NULL: keep them, or take them by position)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_POSITION,
      g_param_spec_int ("position", "Position",
          "Index of this stream's first channel in the upstream channel-name and unit lists "
          "(after deinterleave: the N of src_N); -1: the lists are used as they are",
          -1, G_MAXINT, DEFAULT_POSITION, flags));
  g_object_class_install_property (gobject_class, PROP_MODALITY,
      g_param_spec_string ("modality", "Modality",
          "neuro-modality tag to set, e.g. eeg, audio, haptic (NULL: keep upstream's)", NULL, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "channeltags", "Filter/Metadata",
      "Sets the neuro-channel-names, neuro-channel-units and neuro-modality stream tags: "
      "by position in the upstream lists (after deinterleave) or from the properties "
      "(after interleave); buffers pass through unchanged", "neurotokens developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_channel_tags_start);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_channel_tags_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_channel_tags_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_channel_tags_transform_ip);

  GST_DEBUG_CATEGORY_INIT (gst_channel_tags_debug, "channeltags", 0, "Channel tags");
}

static void
gst_channel_tags_init (GstChannelTags * self)
{
  self->position = DEFAULT_POSITION;
  self->pending = TRUE;
  /* transform_ip still runs in passthrough, on the (read-only) input buffer */
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
