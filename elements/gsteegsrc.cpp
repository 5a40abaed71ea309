// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-eegsrc
 * @title: eegsrc
 *
 * Produces EEG as interleaved F32LE audio/x-raw in microvolts, either from an
 * EDF, EDF+, BDF or BDF+ file (`location`, read with EDFlib) or, when
 * `location` is empty, from a synthetic resting-state generator (1/f
 * background, occipital alpha that follows `eyes`, frontal blinks) with 10-20
 * channel names. Files are resampled inside the element to `rate` with
 * libsamplerate, for any channel count (audioresample refuses >= 64 channels).
 * With rate=0 (the default) the element offers its own rate (the file's, 200 Hz
 * for synthetic EEG) first and any other rate after it, so it takes the rate
 * downstream asks for: `eegsrc location=X.edf ! stft ! tfmtokenize` resamples
 * a 160, 250 or 500 Hz file to the tokenizer's 200 Hz by itself.
 *
 * Before negotiating it looks downstream (through queues, tees, capsfilters
 * and other one-input elements) for audioconvert or audioresample, which
 * crash on 64 or more channels in GStreamer 1.22, and fails with an error
 * that says so and what to do instead.
 *
 * Timestamps come from the sample counter: buffer PTS = offset / rate, offset
 * and offset-end count frames, so they never drift.
 *
 * Stream tags: neuro-modality ("eeg"), neuro-channel-names, neuro-channel-units,
 * neuro-source (the location, for files)
 * (see lib/common/tags.h); with `expose-identification`, also one
 * extended-comment tag per EDF identification field ("edf-patient=...").
 *
 * EDF+ annotations travel downstream as serialized custom events named
 * "neuro-annotation" and are posted on the bus as element messages of the same
 * name, each just before the buffer that contains its onset. Fields:
 *  - pts (guint64, ns): stream time of the onset
 *  - duration (guint64, ns): GST_CLOCK_TIME_NONE when the file gives none
 *  - text (string): the annotation text
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 eegsrc num-buffers=100 ! fakesink
 * ]| Ten seconds of synthetic 19-channel EEG at 200 Hz.
 * |[
 * gst-launch-1.0 eegsrc location=S001R03.edf rate=200 ! fakesink
 * ]| A 64-channel EEGMMIDB run resampled from 160 to 200 Hz.
 * |[
 * gst-launch-1.0 eegsrc location=S001R03.edf ! stft ! tfmtokenize ! fakesink
 * ]| The same file, resampled to the 200 Hz the shipped tokenizer asks for.
 * |[
 * gst-launch-1.0 eegsrc location=S001R03.edf channels=C3,Cz,C4 ! audioresample ! audio/x-raw,rate=250 ! fakesink
 * ]| Three channels, which stock audio elements accept (fewer than 64).
 */
#include "gsteegsrc.h"

#include <gst/audio/audio.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "channels.h"
#include "eeg_file.h"
#include "events.h"
#include "synthetic.h"
#include "tags.h"

GST_DEBUG_CATEGORY_STATIC (gst_eeg_src_debug);
#define GST_CAT_DEFAULT gst_eeg_src_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_RATE 0
#define DEFAULT_SYNTHETIC_RATE 200
#define DEFAULT_CHANNELS NULL
#define DEFAULT_MONTAGE NULL
#define DEFAULT_SEED 0
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_SAMPLES_PER_BUFFER 100
#define DEFAULT_LOOP FALSE
#define DEFAULT_EYES GST_EEG_SRC_EYES_OPEN
#define DEFAULT_NUM_CHANNELS 19
#define DEFAULT_EXPOSE_IDENTIFICATION FALSE
#define MAX_CHANNELS 1024
#define MAX_SAMPLES_PER_BUFFER (1 << 20)

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_RATE,
  PROP_CHANNELS,
  PROP_MONTAGE,
  PROP_SEED,
  PROP_IS_LIVE,
  PROP_SAMPLES_PER_BUFFER,
  PROP_LOOP,
  PROP_EYES,
  PROP_NUM_CHANNELS,
  PROP_EXPOSE_IDENTIFICATION,
};

/* The properties start() needs, copied under the object lock so that files
 * are opened (and debug lines logged) without holding it. */
struct Settings
{
  std::string location;
  std::vector<std::string> channels, montage;
  int rate, num_channels;
  guint64 seed;
  bool expose_identification;
};

/* What start() opened; lives from start() to stop(). */
struct EegSource
{
  std::unique_ptr<neuro::EegStream> file;        /* null when synthetic */
  std::unique_ptr<neuro::SyntheticEeg> synthetic;
  std::vector<std::string> names, units, identification;
  std::string location;        /* the file, for the neuro-source tag; empty when synthetic */
  std::vector<neuro::EegAnnotation> annotations;
  gint64 start_unix_ns = -1;   /* the file's measurement start; -1 when synthetic */
  int rate = 0;
  bool follow_downstream = false; /* rate property 0: the rate negotiated downstream */
  int own_rate = 0;            /* the rate offered first: the file's, or synthetic default */
  Settings settings;           /* to reopen the file at another rate */
  gint64 next_frame = 0;       /* stream frame of the next buffer */
  gint64 loop_base = 0;        /* stream frame where the current pass of the file began */
  size_t next_annotation = 0;  /* first annotation of this pass not sent yet */
  bool tags_sent = false;
};

struct _GstEegSrc
{
  GstPushSrc parent;

  /* properties, under the object lock */
  gchar *location;
  gint rate;
  gchar *channels;
  gchar *montage;
  guint64 seed;
  gint samples_per_buffer;
  gboolean loop;
  GstEegSrcEyes eyes;
  gint num_channels;
  gboolean expose_identification;

  EegSource *source;
};

G_DEFINE_TYPE (GstEegSrc, gst_eeg_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (eegsrc, "eegsrc", GST_RANK_NONE, GST_TYPE_EEG_SRC);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format=(string)F32LE, layout=(string)interleaved, "
        "rate=(int)[1, MAX], channels=(int)[1, MAX]"));

GType
gst_eeg_src_eyes_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_EEG_SRC_EYES_OPEN, "Eyes open: weak alpha, blinks", "open"},
    {GST_EEG_SRC_EYES_CLOSED, "Eyes closed: strong occipital alpha, no blinks", "closed"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstEegSrcEyes", values));
  return type;
}

static std::vector<std::string>
comma_list (const gchar * s)
{
  return s && *s ? neuro::split (s) : std::vector<std::string> ();
}

/* ---- opening the source ---------------------------------------------- */

static Settings
read_settings (GstEegSrc * self)
{
  GST_OBJECT_LOCK (self);
  Settings s{self->location ? self->location : "", comma_list (self->channels),
    comma_list (self->montage), self->rate, self->num_channels, self->seed,
    self->expose_identification != FALSE};
  GST_OBJECT_UNLOCK (self);
  return s;
}

static void
open_file (GstEegSrc * self, const Settings & set, EegSource & src)
{
  src.file = std::make_unique<neuro::EegStream> (set.location, set.channels, set.montage,
      set.rate);
  for (const std::string &note : src.file->file ().notes ())
    GST_INFO_OBJECT (self, "%s: %s", set.location.c_str (), note.c_str ());
  src.location = set.location;
  src.names = src.file->channel_names ();
  src.units = src.file->units ();
  src.rate = src.file->rate ();
  src.own_rate = src.rate;
  src.annotations = src.file->file ().annotations ();
  src.start_unix_ns = src.file->file ().start_unix_ns ();
  if (set.expose_identification)
    src.identification = src.file->file ().identification ();
}

/* The synthetic source knows the 64 10-10 names it can place on the scalp. */
static std::vector<std::string>
synthetic_names (const Settings & set)
{
  if (set.channels.empty ())
    return neuro::synthetic_channel_names (set.num_channels);
  const std::vector<std::string> known = neuro::synthetic_channel_names (64);
  std::vector<std::string> out;
  for (const std::string &w : set.channels) {
    auto it = std::find_if (known.begin (), known.end (), [&] (const std::string &k) {
      return neuro::same_channel (k, w);
    });
    if (it == known.end ())
      throw neuro::EegError (neuro::EegError::kSelection, "synthetic EEG: unknown channel "
          "label '" + w + "' (known: " + neuro::join (known, ", ") + ")");
    out.push_back (*it);
  }
  return out;
}

static void
open_synthetic (const Settings & set, EegSource & src)
{
  if (!set.montage.empty ())
    throw neuro::EegError (neuro::EegError::kSelection,
        "synthetic EEG: montage needs a file (set location)");
  src.names = synthetic_names (set);
  src.units.assign (src.names.size (), "uV");
  src.rate = set.rate > 0 ? set.rate : DEFAULT_SYNTHETIC_RATE;
  src.own_rate = src.rate;
  src.synthetic = std::make_unique<neuro::SyntheticEeg> (src.names, src.rate, set.seed);
}

static void
post_open_error (GstEegSrc * self, const neuro::EegError & e)
{
  switch (e.kind ()) {
    case neuro::EegError::kOpen:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", e.what ()), (NULL));
      break;
    case neuro::EegError::kFormat:
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("%s", e.what ()), (NULL));
      break;
    case neuro::EegError::kSelection:
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", e.what ()), (NULL));
      break;
  }
}

static gboolean
gst_eeg_src_start (GstBaseSrc * bsrc)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  const Settings set = read_settings (self);
  auto src = std::make_unique<EegSource> ();
  src->settings = set;
  src->follow_downstream = set.rate == 0;
  try {
    if (!set.location.empty ())
      open_file (self, set, *src);
    else
      open_synthetic (set, *src);
  } catch (const neuro::EegError & e) {
    post_open_error (self, e);
    return FALSE;
  } catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("%s", e.what ()), (NULL));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "%zu channels at %d Hz", src->names.size (), src->rate);
  self->source = src.release ();
  return TRUE;
}

static gboolean
gst_eeg_src_stop (GstBaseSrc * bsrc)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  delete self->source;
  self->source = NULL;
  return TRUE;
}

/* ---- caps ------------------------------------------------------------- */

/* More than two channels have no standard positions: channel-mask=0 says so.
 * One or two channels keep the default mono/stereo layout (no mask). */
static GstCaps *
caps_at_rate (const EegSource & src, const GValue * rate)
{
  GstCaps *caps = gst_caps_new_simple ("audio/x-raw",
      "format", G_TYPE_STRING, "F32LE", "layout", G_TYPE_STRING, "interleaved",
      "channels", G_TYPE_INT, (int) src.names.size (), NULL);
  gst_caps_set_value (caps, "rate", rate);
  if (src.names.size () > 2)
    gst_caps_set_simple (caps, "channel-mask", GST_TYPE_BITMASK, (guint64) 0, NULL);
  return caps;
}

/* With rate=0: the source's own rate first (chosen when downstream takes
 * anything), then every other rate (chosen when downstream needs one). */
static GstCaps *
source_caps (const EegSource & src)
{
  GValue rate = G_VALUE_INIT;
  g_value_init (&rate, G_TYPE_INT);
  g_value_set_int (&rate, src.follow_downstream ? src.own_rate : src.rate);
  GstCaps *caps = caps_at_rate (src, &rate);
  g_value_unset (&rate);
  if (src.follow_downstream) {
    g_value_init (&rate, GST_TYPE_INT_RANGE);
    gst_value_set_int_range (&rate, 1, G_MAXINT);
    gst_caps_append (caps, caps_at_rate (src, &rate));
    g_value_unset (&rate);
  }
  return caps;
}

/* Makes the source produce `rate` Hz: the file is reopened with its resampler
 * set to that rate (cheap: nothing has been read yet), or the generator
 * restarted. */
static void
switch_rate (EegSource & src, int rate)
{
  if (src.file)
    src.file = std::make_unique<neuro::EegStream> (src.settings.location, src.settings.channels,
        src.settings.montage, rate);
  else
    src.synthetic = std::make_unique<neuro::SyntheticEeg> (src.names, rate, src.settings.seed);
  src.rate = rate;
}

static gboolean
gst_eeg_src_set_caps (GstBaseSrc * bsrc, GstCaps * caps)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  EegSource *src = self->source;
  gint rate = 0;
  if (!src || !gst_structure_get_int (gst_caps_get_structure (caps, 0), "rate", &rate))
    return FALSE;
  if (rate == src->rate)
    return TRUE;
  if (!src->follow_downstream || src->next_frame != 0) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("eegsrc produces %d Hz; downstream asked for %d Hz", src->rate, rate),
        ("set rate=0 (follow downstream) or rate=%d on eegsrc", rate));
    return FALSE;
  }
  try {
    switch_rate (*src, rate);
  } catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("%s", e.what ()), (NULL));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "rate=0: resampling %d Hz to the %d Hz downstream asks for",
      src->own_rate, rate);
  return TRUE;
}

/* ---- the stock converters' channel limit ------------------------------ */

#define STOCK_CONVERTER_MAX_CHANNELS 63   /* gst_audio_channel_mixer_new: in_channels < 64 */

/* The first audioconvert/audioresample fed by `pad`, looking through elements
 * that pass the stream on unchanged in kind (queue, tee, capsfilter, ...):
 * those with one sink pad. NULL when there is none; `depth` bounds the walk. */
static GstElement *
stock_converter_downstream (GstPad * pad, int depth)
{
  GstPad *peer = gst_pad_get_peer (pad);
  if (!peer)
    return NULL;
  GstElement *el = gst_pad_get_parent_element (peer);
  gst_object_unref (peer);
  if (!el)
    return NULL;
  GstElementFactory *f = gst_element_get_factory (el);
  const gchar *name = f ? gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (f)) : "";
  if (g_str_equal (name, "audioconvert") || g_str_equal (name, "audioresample"))
    return el;
  GstElement *found = NULL;
  if (depth > 0 && el->numsinkpads == 1) {
    GList *pads = NULL;
    GST_OBJECT_LOCK (el);
    for (GList *l = el->srcpads; l; l = l->next)
      pads = g_list_prepend (pads, gst_object_ref (l->data));
    GST_OBJECT_UNLOCK (el);
    for (GList *l = pads; l && !found; l = l->next)
      found = stock_converter_downstream (GST_PAD (l->data), depth - 1);
    g_list_free_full (pads, gst_object_unref);
  }
  gst_object_unref (el);
  return found;
}

/* An error instead of the converter's assertion and crash. */
static bool
refuse_stock_converter (GstEegSrc * self, const EegSource & src)
{
  if (src.names.size () <= STOCK_CONVERTER_MAX_CHANNELS)
    return false;
  GstElement *conv = stock_converter_downstream (GST_BASE_SRC_PAD (self), 16);
  if (!conv)
    return false;
  GstElementFactory *f = gst_element_get_factory (conv);
  const gchar *kind = gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (f));
  gchar *name = gst_object_get_name (GST_OBJECT (conv));
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
      ("eegsrc outputs %zu channels, but downstream %s \"%s\" cannot take more than %d "
          "(GStreamer's channel mixer asserts and the process crashes)", src.names.size (),
          kind, name, STOCK_CONVERTER_MAX_CHANNELS),
      ("remove %s: eegsrc resamples any channel count itself (rate=N, or rate=0 to take "
          "the rate downstream needs), or select at most %d channels with channels=...",
          kind, STOCK_CONVERTER_MAX_CHANNELS));
  g_free (name);
  gst_object_unref (conv);
  return true;
}

static gboolean
gst_eeg_src_negotiate (GstBaseSrc * bsrc)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  if (self->source && refuse_stock_converter (self, *self->source))
    return FALSE;
  return GST_BASE_SRC_CLASS (gst_eeg_src_parent_class)->negotiate (bsrc);
}

static GstCaps *
gst_eeg_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  GstCaps *caps = self->source ? source_caps (*self->source) :
      gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* ---- seeking and queries ---------------------------------------------- */

static gboolean
gst_eeg_src_is_seekable (GstBaseSrc * bsrc)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  return self->source && self->source->file;
}

/* The first annotation of the file at or after `file_frame`. */
static size_t
annotation_index_at (const EegSource & src, gint64 file_frame)
{
  size_t i = 0;
  while (i < src.annotations.size () &&
      (gint64) (src.annotations[i].onset * src.rate + 1e-6) < file_frame)
    i++;
  return i;
}

static gboolean
gst_eeg_src_do_seek (GstBaseSrc * bsrc, GstSegment * segment)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  EegSource *src = self->source;
  if (!src || segment->rate < 0)
    return FALSE;
  const gint64 frame = (gint64) gst_util_uint64_scale_int_ceil (segment->position,
      src->rate, GST_SECOND);
  GST_OBJECT_LOCK (self);
  const bool loop = self->loop;
  GST_OBJECT_UNLOCK (self);
  src->next_frame = frame;
  if (src->file) {
    const gint64 total = src->file->total_frames ();
    src->loop_base = loop && total > 0 ? frame - frame % total : 0;
    src->file->seek (frame - src->loop_base);
    src->next_annotation = annotation_index_at (*src, frame - src->loop_base);
  }
  GST_DEBUG_OBJECT (self, "seek to frame %" G_GINT64_FORMAT, frame);
  return TRUE;
}

static gboolean
gst_eeg_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstEegSrc *self = GST_EEG_SRC (bsrc);
  EegSource *src = self->source;
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_DURATION:{
      GstFormat format;
      gst_query_parse_duration (query, &format, NULL);
      if (!src || !src->file || self->loop || format != GST_FORMAT_TIME)
        break;
      gst_query_set_duration (query, GST_FORMAT_TIME,
          gst_util_uint64_scale_int (src->file->total_frames (), GST_SECOND, src->rate));
      return TRUE;
    }
    case GST_QUERY_LATENCY:{
      if (!src || !gst_base_src_is_live (bsrc))
        break;
      /* A live buffer is complete only when its last sample is "recorded". */
      const GstClockTime latency = gst_util_uint64_scale_int (self->samples_per_buffer,
          GST_SECOND, src->rate);
      gst_query_set_latency (query, TRUE, latency, latency);
      return TRUE;
    }
    default:
      break;
  }
  return GST_BASE_SRC_CLASS (gst_eeg_src_parent_class)->query (bsrc, query);
}

static void
gst_eeg_src_get_times (GstBaseSrc * bsrc, GstBuffer * buffer, GstClockTime * start,
    GstClockTime * end)
{
  *start = *end = GST_CLOCK_TIME_NONE;
  if (gst_base_src_is_live (bsrc) && GST_BUFFER_PTS_IS_VALID (buffer) &&
      GST_BUFFER_DURATION_IS_VALID (buffer))
    *start = GST_BUFFER_PTS (buffer) + GST_BUFFER_DURATION (buffer);
}

/* ---- streaming -------------------------------------------------------- */

/* Queues a serialized event: GstBaseSrc pushes it after the segment and before
 * the next buffer. The parent's send_event is called directly because
 * gst_element_send_event() takes the state lock, which the streaming thread
 * must not wait for. */
static void
queue_event (GstEegSrc * self, GstEvent * event)
{
  GST_ELEMENT_CLASS (gst_eeg_src_parent_class)->send_event (GST_ELEMENT (self), event);
}

static void
send_tags (GstEegSrc * self, const EegSource & src)
{
  GstTagList *tags = neuro::make_stream_tags ("eeg", src.names, src.units);
  if (!src.location.empty ())
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, NEURO_TAG_SOURCE, src.location.c_str (), NULL);
  if (src.start_unix_ns >= 0) {
    /* the measurement start, so recordings line up with the file (e.g. MNE's meas_date) */
    GDateTime *utc = g_date_time_new_from_unix_utc (src.start_unix_ns / GST_SECOND);
    GDateTime *exact = g_date_time_add (utc, (src.start_unix_ns % GST_SECOND) / 1000);
    GstDateTime *start = gst_date_time_new_from_g_date_time (exact);
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_DATE_TIME, start, NULL);
    gst_date_time_unref (start);
    g_date_time_unref (utc);
  }
  for (const std::string &field : src.identification)
    gst_tag_list_add (tags, GST_TAG_MERGE_APPEND, GST_TAG_EXTENDED_COMMENT,
        ("edf-" + field).c_str (), NULL);
  queue_event (self, gst_event_new_tag (tags));
}

/* Sends every annotation whose onset falls before `end` (stream time). */
static void
send_annotations (GstEegSrc * self, EegSource & src, GstClockTime end)
{
  const GstClockTime base = gst_util_uint64_scale_int (src.loop_base, GST_SECOND, src.rate);
  for (; src.next_annotation < src.annotations.size (); src.next_annotation++) {
    const neuro::EegAnnotation &a = src.annotations[src.next_annotation];
    neuro::Annotation ev;
    ev.pts = base + (GstClockTime) (std::max (0.0, a.onset) * GST_SECOND + 0.5);
    if (ev.pts >= end)
      break;
    ev.duration = a.duration < 0 ? GST_CLOCK_TIME_NONE :
        (GstClockTime) (a.duration * GST_SECOND + 0.5);
    ev.text = a.text;
    GST_DEBUG_OBJECT (self, "annotation '%s' at %" GST_TIME_FORMAT, a.text.c_str (),
        GST_TIME_ARGS (ev.pts));
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
            neuro::annotation_to_structure (ev)));
    queue_event (self, neuro::annotation_event_new (ev));
  }
}

/* Reads up to n frames from the file, starting the next pass when looping. */
static size_t
read_file_frames (EegSource & src, size_t n, bool loop, std::vector<float> & data)
{
  size_t got = src.file->read (n, data);
  if (got == 0 && loop && src.file->total_frames () > 0) {
    src.loop_base = src.next_frame;
    src.next_annotation = 0;
    src.file->seek (0);
    got = src.file->read (n, data);
  }
  return got;
}

static size_t
frames_left_in_segment (GstEegSrc * self, const EegSource & src)
{
  const GstSegment *seg = &GST_BASE_SRC (self)->segment;
  if (!GST_CLOCK_TIME_IS_VALID (seg->stop))
    return G_MAXSIZE;
  const gint64 stop = (gint64) gst_util_uint64_scale_int_ceil (seg->stop, src.rate, GST_SECOND);
  return stop > src.next_frame ? (size_t) (stop - src.next_frame) : 0;
}

static GstBuffer *
wrap_frames (const EegSource & src, std::vector<float> & data, size_t frames)
{
  const gsize bytes = data.size () * sizeof (float);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, bytes, NULL);
  gst_buffer_fill (buf, 0, data.data (), bytes);
  const gint64 first = src.next_frame, last = src.next_frame + (gint64) frames;
  GST_BUFFER_OFFSET (buf) = first;
  GST_BUFFER_OFFSET_END (buf) = last;
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (first, GST_SECOND, src.rate);
  GST_BUFFER_DURATION (buf) =
      gst_util_uint64_scale_int (last, GST_SECOND, src.rate) - GST_BUFFER_PTS (buf);
  return buf;
}

static GstFlowReturn
gst_eeg_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstEegSrc *self = GST_EEG_SRC (psrc);
  EegSource &src = *self->source;
  GST_OBJECT_LOCK (self);
  const size_t want = MIN ((size_t) self->samples_per_buffer, frames_left_in_segment (self, src));
  const bool eyes_closed = self->eyes == GST_EEG_SRC_EYES_CLOSED;
  const bool loop = self->loop;
  GST_OBJECT_UNLOCK (self);
  if (want == 0)
    return GST_FLOW_EOS;
  if (!src.tags_sent) {
    send_tags (self, src);
    src.tags_sent = true;
  }
  std::vector<float> data;
  size_t got = want;
  try {
    if (src.file)
      got = read_file_frames (src, want, loop, data);
    else
      src.synthetic->generate (want, eyes_closed, data);
  } catch (const std::exception & e) {
    /* read errors name the file; std::bad_alloc comes from absurd buffer sizes */
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", e.what ()), (NULL));
    return GST_FLOW_ERROR;
  }
  if (got == 0)
    return GST_FLOW_EOS;
  *outbuf = wrap_frames (src, data, got);
  send_annotations (self, src, GST_BUFFER_PTS (*outbuf) + GST_BUFFER_DURATION (*outbuf));
  src.next_frame += (gint64) got;
  return GST_FLOW_OK;
}

/* ---- properties ------------------------------------------------------- */

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_eeg_src_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstEegSrc *self = GST_EEG_SRC (object);
  /* GstBaseSrc decides about prerolling before start(), so liveness is set here. */
  if (prop_id == PROP_IS_LIVE)
    gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_boolean (value));
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION: set_string (&self->location, value); break;
    case PROP_RATE: self->rate = g_value_get_int (value); break;
    case PROP_CHANNELS: set_string (&self->channels, value); break;
    case PROP_MONTAGE: set_string (&self->montage, value); break;
    case PROP_SEED: self->seed = g_value_get_uint64 (value); break;
    case PROP_IS_LIVE: break;
    case PROP_SAMPLES_PER_BUFFER: self->samples_per_buffer = g_value_get_int (value); break;
    case PROP_LOOP: self->loop = g_value_get_boolean (value); break;
    case PROP_EYES: self->eyes = (GstEegSrcEyes) g_value_get_enum (value); break;
    case PROP_NUM_CHANNELS: self->num_channels = g_value_get_int (value); break;
    case PROP_EXPOSE_IDENTIFICATION:
      self->expose_identification = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_eeg_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstEegSrc *self = GST_EEG_SRC (object);
  if (prop_id == PROP_IS_LIVE) {
    g_value_set_boolean (value, gst_base_src_is_live (GST_BASE_SRC (self)));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION: g_value_set_string (value, self->location); break;
    case PROP_RATE: g_value_set_int (value, self->rate); break;
    case PROP_CHANNELS: g_value_set_string (value, self->channels); break;
    case PROP_MONTAGE: g_value_set_string (value, self->montage); break;
    case PROP_SEED: g_value_set_uint64 (value, self->seed); break;
    case PROP_SAMPLES_PER_BUFFER: g_value_set_int (value, self->samples_per_buffer); break;
    case PROP_LOOP: g_value_set_boolean (value, self->loop); break;
    case PROP_EYES: g_value_set_enum (value, self->eyes); break;
    case PROP_NUM_CHANNELS: g_value_set_int (value, self->num_channels); break;
    case PROP_EXPOSE_IDENTIFICATION:
      g_value_set_boolean (value, self->expose_identification);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_eeg_src_finalize (GObject * object)
{
  GstEegSrc *self = GST_EEG_SRC (object);
  g_free (self->location);
  g_free (self->channels);
  g_free (self->montage);
  delete self->source;
  G_OBJECT_CLASS (gst_eeg_src_parent_class)->finalize (object);
}

static void
install_properties (GObjectClass * gobject_class)
{
  const GParamFlags rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const GParamFlags ready = (GParamFlags) (rw | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "EDF, EDF+, BDF or BDF+ file to read; empty = synthetic EEG", DEFAULT_LOCATION, ready));
  g_object_class_install_property (gobject_class, PROP_RATE,
      g_param_spec_int ("rate", "Rate",
          "Output sample rate in Hz (files are resampled inside the element, any channel "
          "count); 0 = the rate downstream asks for, else the file's own rate (200 Hz for "
          "synthetic EEG)",
          0, 1000000, DEFAULT_RATE, ready));
  g_object_class_install_property (gobject_class, PROP_CHANNELS,
      g_param_spec_string ("channels", "Channels",
          "Comma list of channel labels to output, in that order (matched ignoring case, "
          "spaces, trailing dots and an 'EEG ' prefix; T3/T4/T5/T6 = T7/T8/P7/P8); empty = "
          "all signals of the file, or "
          "the first num-channels 10-20/10-10 sites for synthetic EEG", DEFAULT_CHANNELS, ready));
  g_object_class_install_property (gobject_class, PROP_MONTAGE,
      g_param_spec_string ("montage", "Montage",
          "Comma list of bipolar derivations A-B (channel A minus channel B, in uV), output "
          "after the channels given by 'channels'; files only", DEFAULT_MONTAGE, ready));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Random seed of the synthetic EEG (same seed, same samples)",
          0, G_MAXUINT64, DEFAULT_SEED, ready));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Act as a live source: buffers are released at the clock time of their last "
          "sample", DEFAULT_IS_LIVE, ready));
  g_object_class_install_property (gobject_class, PROP_SAMPLES_PER_BUFFER,
      g_param_spec_int ("samplesperbuffer", "Samples per buffer",
          "Frames (samples per channel) in each output buffer", 1, MAX_SAMPLES_PER_BUFFER,
          DEFAULT_SAMPLES_PER_BUFFER, rw));
  g_object_class_install_property (gobject_class, PROP_LOOP,
      g_param_spec_boolean ("loop", "Loop",
          "Replay the file from its start at its end; timestamps keep increasing",
          DEFAULT_LOOP, ready));
  g_object_class_install_property (gobject_class, PROP_EYES,
      g_param_spec_enum ("eyes", "Eyes",
          "Eye state of the synthetic subject: 'closed' gives ~3x the occipital alpha "
          "amplitude and no blinks (changes take effect with a 0.3 s time constant)",
          GST_TYPE_EEG_SRC_EYES, DEFAULT_EYES,
          (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property (gobject_class, PROP_NUM_CHANNELS,
      g_param_spec_int ("num-channels", "Number of channels",
          "Channels of the synthetic EEG when 'channels' is empty: the 19 10-20 sites first, "
          "then 10-10 sites up to 64, then E65, E66, ...", 1, MAX_CHANNELS,
          DEFAULT_NUM_CHANNELS, ready));
  g_object_class_install_property (gobject_class, PROP_EXPOSE_IDENTIFICATION,
      g_param_spec_boolean ("expose-identification", "Expose identification",
          "Send the file's patient and recording identification fields downstream as "
          "extended-comment tags (edf-patient=..., edf-start=...); off by default for privacy",
          DEFAULT_EXPOSE_IDENTIFICATION, ready));
}

static void
gst_eeg_src_class_init (GstEegSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_eeg_src_set_property;
  gobject_class->get_property = gst_eeg_src_get_property;
  gobject_class->finalize = gst_eeg_src_finalize;
  install_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "EEG source", "Source/Audio",
      "EEG in microvolts from EDF/EDF+/BDF/BDF+ files (EDF+ annotations become "
      "'neuro-annotation' events and element messages with fields pts, duration, text) or "
      "synthetic 10-20 EEG", "neurotokens developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_eeg_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_eeg_src_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_eeg_src_get_caps);
  basesrc_class->set_caps = GST_DEBUG_FUNCPTR (gst_eeg_src_set_caps);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_eeg_src_negotiate);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_eeg_src_is_seekable);
  basesrc_class->do_seek = GST_DEBUG_FUNCPTR (gst_eeg_src_do_seek);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_eeg_src_query);
  basesrc_class->get_times = GST_DEBUG_FUNCPTR (gst_eeg_src_get_times);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_eeg_src_create);

  gst_type_mark_as_plugin_api (GST_TYPE_EEG_SRC_EYES, (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_eeg_src_debug, "eegsrc", 0, "EEG source");
}

static void
gst_eeg_src_init (GstEegSrc * self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  self->rate = DEFAULT_RATE;
  self->channels = g_strdup (DEFAULT_CHANNELS);
  self->montage = g_strdup (DEFAULT_MONTAGE);
  self->seed = DEFAULT_SEED;
  gst_base_src_set_live (GST_BASE_SRC (self), DEFAULT_IS_LIVE);
  self->samples_per_buffer = DEFAULT_SAMPLES_PER_BUFFER;
  self->loop = DEFAULT_LOOP;
  self->eyes = DEFAULT_EYES;
  self->num_channels = DEFAULT_NUM_CHANNELS;
  self->expose_identification = DEFAULT_EXPOSE_IDENTIFICATION;
  self->source = NULL;
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}
