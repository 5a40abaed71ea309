// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-stft
 * @title: stft
 *
 * Short-time Fourier transform of interleaved F32LE audio/x-raw (any rate, any
 * number of channels) into `application/x-spectrogram` frames, on FFTW3 single
 * precision. The maths lives in lib/dsp (neuro::Stft), shared with the
 * training tool and the tests; this file is the GStreamer glue.
 *
 * Frame k covers input samples [k·hop, k·hop + n-fft) counted from the first
 * sample after start, DISCONT or flush (no centring, no padding); its PTS is
 * that of its first sample: start PTS + k·hop/rate, computed from the frame
 * counter so it never drifts. Each output buffer holds a whole number of
 * frames, carries the PTS of its first frame, a duration of n_frames·hop/rate,
 * offset/offset-end = frame indices. Per frame: channels × bins float32
 * (channel-major), then, when waveform=true, channels × n-fft float32 of the
 * unwindowed input under the frame. A frame leaves once its last sample has
 * arrived, so the element reports n-fft/rate of latency; at EOS the samples
 * of an incomplete frame are dropped.
 *
 * Properties left at their defaults (and not set) follow the downstream caps:
 * `audioresample ! stft ! tfmtokenize` gets n-fft, hop, bins, window,
 * scaling, waveform and rate from the tokenizer's model.
 *
 * Element message "stft" (when post-messages=true), one per frame:
 * - timestamp (guint64, ns): PTS of the frame (its first sample)
 * - stream-time (guint64, ns), running-time (guint64, ns) of that PTS
 * - duration (guint64, ns): hop/rate, the frame period
 * - frame (guint64): frame index since start/DISCONT/flush
 * - channels (gint), bins (gint)
 * - scaling (gchararray): "magnitude", "spectrum", "power" or "db"
 * - magnitudes (GBytes): channels × bins float32, native endianness, channel-major
 *
 * Serialized events (tags, neuro-annotation, ...) are forwarded as soon as
 * they arrive. Samples already buffered in the element then reach downstream
 * after the event, which keeps the promise "an annotation comes before every
 * frame that contains its onset": every frame emitted before the event ended
 * before the first sample that followed the event upstream.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 eegsrc ! stft ! fakesink
 * ]| 200-point periodic-Hann STFT of synthetic EEG, hop 100, bins 0..99 plus waveform.
 * |[
 * gst-launch-1.0 audiotestsrc wave=sine freq=1000 num-buffers=100 ! audio/x-raw,format=F32LE,rate=44100 ! stft n-fft=1024 hop=512 waveform=false post-messages=true ! fakesink
 * ]| 1024-point STFT of a 1 kHz tone; each frame's magnitudes are posted on the bus.
 */
#include "gststft.h"

#include <gst/audio/audio.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "media.h"
#include "stft.h"

GST_DEBUG_CATEGORY_STATIC (gst_stft_debug);
#define GST_CAT_DEFAULT gst_stft_debug


#define DEFAULT_N_FFT 200
#define DEFAULT_HOP 0                   /* n-fft/2 */
#define DEFAULT_BINS 0                  /* n-fft/2 */
#define DEFAULT_WINDOW ((gint) neuro::StftWindow::Hann)
#define DEFAULT_SCALING ((gint) neuro::StftScaling::Magnitude)
#define DEFAULT_WAVEFORM TRUE
#define DEFAULT_POST_MESSAGES FALSE

enum
{
  PROP_0,
  PROP_N_FFT,
  PROP_HOP,
  PROP_WINDOW,
  PROP_BINS,
  PROP_SCALING,
  PROP_WAVEFORM,
  PROP_POST_MESSAGES,
};

/* Properties with a real default remember whether the user set them: unset
 * ones follow downstream caps. hop and bins use 0 for "not set". */
enum : guint
{
  SET_N_FFT = 1 << 0,
  SET_WINDOW = 1 << 1,
  SET_SCALING = 1 << 2,
  SET_WAVEFORM = 1 << 3,
};

/* Streaming-thread state (C++ objects, so kept out of the GObject struct). */
struct StftStream
{
  std::unique_ptr<neuro::Stft> stft;
  gint rate = 0;
  GstClockTime base_pts = GST_CLOCK_TIME_NONE;  /* PTS of sample 0 of frame 0 */
  guint64 samples = 0;                          /* input samples since base_pts */
  bool discont = true;
  bool error_posted = false;
};

struct _GstStft
{
  GstBaseTransform parent;

  /* properties, under the object lock */
  gint n_fft, hop, bins, window, scaling;
  gboolean waveform, post_messages;
  guint set_mask;
  GstClockTime latency;                 /* n-fft/rate once negotiated */

  StftStream *stream;
};

G_DEFINE_TYPE (GstStft, gst_stft, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (stft, "stft", GST_RANK_NONE, GST_TYPE_STFT);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format=(string)F32LE, layout=(string)interleaved, "
        "rate=(int)[1, MAX], channels=(int)[1, MAX]"));


GType
gst_stft_window_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {(gint) neuro::StftWindow::Hann, "Periodic Hann (torch.hann_window)",
        neuro::stft_window_name (neuro::StftWindow::Hann)},
    {(gint) neuro::StftWindow::Hamming, "Periodic Hamming 0.54/0.46",
        neuro::stft_window_name (neuro::StftWindow::Hamming)},
    {(gint) neuro::StftWindow::Blackman, "Periodic Blackman 0.42/0.5/0.08",
        neuro::stft_window_name (neuro::StftWindow::Blackman)},
    {(gint) neuro::StftWindow::Rectangular, "Rectangular (no window)",
        neuro::stft_window_name (neuro::StftWindow::Rectangular)},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstStftWindow", values));
  return type;
}

GType
gst_stft_scaling_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {(gint) neuro::StftScaling::Magnitude, "|X| (torch.stft(...).abs())",
        neuro::stft_scaling_name (neuro::StftScaling::Magnitude)},
    {(gint) neuro::StftScaling::Spectrum, "|X|/sum(window) (scipy.signal.stft scaling='spectrum')",
        neuro::stft_scaling_name (neuro::StftScaling::Spectrum)},
    {(gint) neuro::StftScaling::Power, "|X|^2", neuro::stft_scaling_name (neuro::StftScaling::Power)},
    {(gint) neuro::StftScaling::Db, "10*log10(max(|X|^2, 1e-10)) dB",
        neuro::stft_scaling_name (neuro::StftScaling::Db)},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstStftScaling", values));
  return type;
}

/* ---- caps ------------------------------------------------------------- */

static void
set_int_or_range (GstStructure * s, const char *field, bool fixed, gint value, gint min, gint max)
{
  if (fixed)
    gst_structure_set (s, field, G_TYPE_INT, value, NULL);
  else
    gst_structure_set (s, field, GST_TYPE_INT_RANGE, min, max, NULL);
}

static void
set_string_or_list (GstStructure * s, const char *field, bool fixed, const char *value,
    const std::vector<std::string> &all)
{
  if (fixed) {
    gst_structure_set (s, field, G_TYPE_STRING, value, NULL);
    return;
  }
  GValue list = G_VALUE_INIT, item = G_VALUE_INIT;
  g_value_init (&list, GST_TYPE_LIST);
  g_value_init (&item, G_TYPE_STRING);
  for (const std::string & name : all) {
    g_value_set_string (&item, name.c_str ());
    gst_value_list_append_value (&list, &item);
  }
  gst_structure_take_value (s, field, &list);
  g_value_unset (&item);
}

/* The spectrogram caps the properties allow, for any rate and channel count. */
static GstStructure *
property_structure (GstStft * self)
{
  GstStructure *s = gst_structure_new (neuro::kSpectrogramMediaType,
      "rate", GST_TYPE_INT_RANGE, 1, G_MAXINT, "channels", GST_TYPE_INT_RANGE, 1, G_MAXINT, NULL);
  GST_OBJECT_LOCK (self);
  const guint set = self->set_mask;
  set_int_or_range (s, "n-fft", set & SET_N_FFT, self->n_fft, 2, neuro::kMaxNfft);
  set_int_or_range (s, "hop", self->hop > 0, self->hop, 1, G_MAXINT);
  set_int_or_range (s, "bins", self->bins > 0, self->bins, 1, G_MAXINT);
  set_string_or_list (s, "window", set & SET_WINDOW,
      neuro::stft_window_name ((neuro::StftWindow) self->window), neuro::stft_window_names ());
  set_string_or_list (s, "scaling", set & SET_SCALING,
      neuro::stft_scaling_name ((neuro::StftScaling) self->scaling), neuro::stft_scaling_names ());
  if (set & SET_WAVEFORM) {
    gst_structure_set (s, "waveform", G_TYPE_BOOLEAN, self->waveform, NULL);
  } else {
    GValue list = G_VALUE_INIT, item = G_VALUE_INIT;
    g_value_init (&list, GST_TYPE_LIST);
    g_value_init (&item, G_TYPE_BOOLEAN);
    for (gboolean b : { (gboolean) TRUE, (gboolean) FALSE }) {
      g_value_set_boolean (&item, b);
      gst_value_list_append_value (&list, &item);
    }
    gst_structure_take_value (s, "waveform", &list);
    g_value_unset (&item);
  }
  GST_OBJECT_UNLOCK (self);
  gst_structure_set (s, "framerate", GST_TYPE_FRACTION_RANGE, 0, 1, G_MAXINT, 1, NULL);
  return s;
}

/* framerate = rate/hop as soon as both are known. */
static void
update_framerate (GstStructure * s)
{
  gint rate, hop;
  if (gst_structure_get_int (s, "rate", &rate) && gst_structure_get_int (s, "hop", &hop))
    gst_structure_set (s, "framerate", GST_TYPE_FRACTION, rate, hop, NULL);
}

static void
copy_field (GstStructure * to, const GstStructure * from, const char *field)
{
  const GValue *v = gst_structure_get_value (from, field);
  if (v)
    gst_structure_set_value (to, field, v);
}

/* The input caps that give one of `allowed` (spectrogram caps). */
static GstCaps *
input_caps_for (GstCaps * allowed)
{
  GstCaps *res = gst_caps_new_empty ();
  for (guint i = 0; i < gst_caps_get_size (allowed); i++) {
    GstStructure *o = gst_structure_new ("audio/x-raw", "format", G_TYPE_STRING, "F32LE",
        "layout", G_TYPE_STRING, "interleaved", NULL);
    copy_field (o, gst_caps_get_structure (allowed, i), "rate");
    copy_field (o, gst_caps_get_structure (allowed, i), "channels");
    res = gst_caps_merge_structure (res, o);
  }
  return res;
}

static GstCaps *
gst_stft_transform_caps (GstBaseTransform * trans, GstPadDirection direction, GstCaps * caps,
    GstCaps * filter)
{
  GstStft *self = GST_STFT (trans);
  GstStructure *props = property_structure (self);
  GstCaps *res = gst_caps_new_empty ();
  GstCaps *unrestricted = NULL;

  if (direction == GST_PAD_SINK) {
    for (guint i = 0; i < gst_caps_get_size (caps); i++) {
      GstStructure *o = gst_structure_copy (props);
      copy_field (o, gst_caps_get_structure (caps, i), "rate");
      copy_field (o, gst_caps_get_structure (caps, i), "channels");
      update_framerate (o);
      res = gst_caps_merge_structure (res, o);
    }
  } else {
    GstCaps *props_caps = gst_caps_new_full (gst_structure_copy (props), NULL);
    GstCaps *allowed = gst_caps_intersect (caps, props_caps);
    gst_caps_unref (res);
    res = input_caps_for (allowed);
    unrestricted = input_caps_for (props_caps);
    gst_caps_unref (allowed);
    gst_caps_unref (props_caps);
  }
  gst_structure_free (props);

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (res);
    res = tmp;
  }
  /* Nothing upstream can send meets what downstream needs: answer what stft
   * itself can take, so upstream negotiates and sends its caps, and the caps
   * event fails here with an error that names the field, both values and the
   * fix (post_negotiation_error), not with a bare not-negotiated in the source. */
  if (unrestricted && gst_caps_is_empty (res)) {
    gst_caps_unref (res);
    res = filter ? gst_caps_intersect_full (filter, unrestricted, GST_CAPS_INTERSECT_FIRST) :
        gst_caps_ref (unrestricted);
  }
  if (unrestricted)
    gst_caps_unref (unrestricted);
  GST_DEBUG_OBJECT (self, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

/* Unset properties take their documented default unless downstream chose. */
static GstCaps *
gst_stft_fixate_caps (GstBaseTransform * trans, GstPadDirection direction, GstCaps * caps,
    GstCaps * othercaps)
{
  GstStft *self = GST_STFT (trans);
  othercaps = gst_caps_truncate (gst_caps_make_writable (othercaps));
  if (direction == GST_PAD_SRC)
    return gst_caps_fixate (othercaps);

  GstStructure *s = gst_caps_get_structure (othercaps, 0);
  const GstStructure *in = gst_caps_get_structure (caps, 0);
  gint rate = 1, channels = 1, n_fft = DEFAULT_N_FFT;
  gst_structure_get_int (in, "rate", &rate);
  gst_structure_get_int (in, "channels", &channels);
  gst_structure_fixate_field_nearest_int (s, "rate", rate);
  gst_structure_fixate_field_nearest_int (s, "channels", channels);

  GST_OBJECT_LOCK (self);
  gst_structure_fixate_field_nearest_int (s, "n-fft", self->n_fft);
  gst_structure_get_int (s, "n-fft", &n_fft);
  gst_structure_fixate_field_nearest_int (s, "hop", self->hop > 0 ? self->hop : MAX (1, n_fft / 2));
  gst_structure_fixate_field_nearest_int (s, "bins", self->bins > 0 ? self->bins : MAX (1, n_fft / 2));
  gst_structure_fixate_field_string (s, "window",
      neuro::stft_window_name ((neuro::StftWindow) self->window));
  gst_structure_fixate_field_string (s, "scaling",
      neuro::stft_scaling_name ((neuro::StftScaling) self->scaling));
  gst_structure_fixate_field_boolean (s, "waveform", self->waveform);
  GST_OBJECT_UNLOCK (self);
  update_framerate (s);
  return gst_caps_fixate (othercaps);
}

/* The STFT the negotiated spectrogram caps ask for (their rate and channels
 * are the input's: transform_caps copies them). */
static bool
config_from_caps (const GstStructure * out, neuro::StftConfig & cfg, gint & rate, std::string & error)
{
  neuro::SpectrogramInfo info;
  error = neuro::SpectrogramInfo::from_caps (out, info);
  if (!error.empty ())
    return false;
  rate = info.rate;
  cfg.channels = info.channels;
  cfg.n_fft = info.n_fft;
  cfg.hop = info.hop;
  cfg.bins = info.bins;
  cfg.waveform = info.waveform;
  neuro::stft_window_from_name (info.window, cfg.window);
  neuro::stft_scaling_from_name (info.scaling, cfg.scaling);
  error = neuro::stft_config_error (cfg);
  return error.empty ();
}

static bool
same_config (const neuro::StftConfig & a, const neuro::StftConfig & b)
{
  return a.n_fft == b.n_fft && a.hop == b.hop && a.bins == b.bins && a.window == b.window
      && a.scaling == b.scaling && a.channels == b.channels && a.waveform == b.waveform;
}

static void
reset_stream (GstStft * self)
{
  StftStream & st = *self->stream;
  if (st.stft)
    st.stft->reset ();
  st.base_pts = GST_CLOCK_TIME_NONE;
  st.discont = true;
}

static gboolean
gst_stft_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstStft *self = GST_STFT (trans);
  StftStream & st = *self->stream;
  neuro::StftConfig cfg;
  gint rate = 0;
  std::string error;
  if (!config_from_caps (gst_caps_get_structure (outcaps, 0), cfg, rate, error)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Invalid STFT configuration: %s.", error.c_str ()),
        ("input %" GST_PTR_FORMAT ", output %" GST_PTR_FORMAT, incaps, outcaps));
    st.error_posted = true;
    return FALSE;
  }

  /* FFTW plans are made once per configuration, not on every caps event. */
  if (!st.stft || !same_config (st.stft->config (), cfg)) {
    try {
      st.stft.reset (new neuro::Stft (cfg));
    } catch (const std::exception &e) {
      GST_ELEMENT_ERROR (self, LIBRARY, INIT, ("Cannot set up the STFT: %s", e.what ()), (NULL));
      st.error_posted = true;
      return FALSE;
    }
    reset_stream (self);
  } else if (rate != st.rate) {
    reset_stream (self);
  }
  st.rate = rate;
  st.error_posted = false;

  const GstClockTime latency = gst_util_uint64_scale_int (cfg.n_fft, GST_SECOND, rate);
  GST_OBJECT_LOCK (self);
  const bool latency_changed = latency != self->latency;
  self->latency = latency;
  GST_OBJECT_UNLOCK (self);
  if (latency_changed)
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
  GST_INFO_OBJECT (self, "configured %" GST_PTR_FORMAT, outcaps);
  return TRUE;
}

static std::string
serialize_value (const GValue * v)
{
  gchar *str = gst_value_serialize (v);
  std::string out = str ? str : "?";
  g_free (str);
  return out;
}

/* Names the first caps field where what stft can produce and what downstream
 * accepts do not meet, so the user knows which property to change. */
static std::string
explain_mismatch (GstCaps * offer, GstCaps * peer, const std::string & who)
{
  if (!peer || gst_caps_is_empty (peer))
    return "downstream accepts no caps at all";
  const GstStructure *o = gst_caps_get_structure (offer, 0);
  for (guint i = 0; i < gst_caps_get_size (peer); i++) {
    const GstStructure *p = gst_caps_get_structure (peer, i);
    if (!gst_structure_has_name (p, neuro::kSpectrogramMediaType))
      continue;
    for (gint f = 0; f < gst_structure_n_fields (o); f++) {
      const char *name = gst_structure_nth_field_name (o, f);
      const GValue *ov = gst_structure_get_value (o, name), *pv = gst_structure_get_value (p, name);
      if (!pv || gst_value_intersect (NULL, ov, pv))
        continue;
      const std::string field = name;
      const bool from_input = field == "rate" || field == "channels" || field == "framerate";
      return "downstream " + who + " requires " + field + "=" + serialize_value (pv) +
          " but stft can only produce " + field + "=" + serialize_value (ov) + (from_input ?
          " (taken from the input): have the source produce it (eegsrc rate=0 follows downstream), "
          "or convert before stft (audioresample/audioconvert, below 64 channels)" :
          " (from its property or its limits): change or unset the property `" + field +
          "` (unset, stft takes it from downstream)");
    }
  }
  gchar *str = gst_caps_to_string (peer);
  std::string out = std::string ("downstream does not accept ") + neuro::kSpectrogramMediaType + " (it accepts " +
      str + ")";
  g_free (str);
  return out;
}

static void
post_negotiation_error (GstStft * self, GstCaps * incaps)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstCaps *offer = gst_stft_transform_caps (trans, GST_PAD_SINK, incaps, NULL);
  GstCaps *peer = gst_pad_peer_query_caps (trans->srcpad, NULL);
  std::string who = "element";
  if (GstPad *peer_pad = gst_pad_get_peer (trans->srcpad)) {
    if (GstElement *el = gst_pad_get_parent_element (peer_pad)) {
      gchar *name = gst_object_get_name (GST_OBJECT (el));
      who = name;
      g_free (name);
      gst_object_unref (el);
    }
    gst_object_unref (peer_pad);
  }
  const std::string why = explain_mismatch (offer, peer, who);
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("stft cannot produce caps that downstream accepts: %s.",
          why.c_str ()), ("input %" GST_PTR_FORMAT "; stft offers %" GST_PTR_FORMAT
          "; downstream accepts %" GST_PTR_FORMAT, incaps, offer, peer));
  gst_caps_unref (offer);
  if (peer)
    gst_caps_unref (peer);
}

/* ---- events and queries ---------------------------------------------- */

static bool
is_flushing (GstBaseTransform * trans)
{
  bool flushing = false;
  for (GstPad * pad : {trans->srcpad, trans->sinkpad}) {
    GST_OBJECT_LOCK (pad);
    flushing = flushing || GST_PAD_IS_FLUSHING (pad);
    GST_OBJECT_UNLOCK (pad);
  }
  return flushing;
}

static gboolean
gst_stft_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstStft *self = GST_STFT (trans);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *incaps;
      gst_event_parse_caps (event, &incaps);
      gst_caps_ref (incaps);
      const gboolean ok = GST_BASE_TRANSFORM_CLASS (gst_stft_parent_class)->sink_event (trans, event);
      /* During a flushing seek the caps cannot be pushed downstream: that is
       * the flush, not a negotiation failure (the caps come again after it). */
      if (!ok && !self->stream->error_posted && !is_flushing (trans)) {
        post_negotiation_error (self, incaps);
        self->stream->error_posted = true;
      }
      gst_caps_unref (incaps);
      return ok;
    }
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_EOS:
      /* A partial frame is never completed with invented samples. */
      reset_stream (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_stft_parent_class)->sink_event (trans, event);
}

static gboolean
gst_stft_query (GstBaseTransform * trans, GstPadDirection direction, GstQuery * query)
{
  GstStft *self = GST_STFT (trans);
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_BASE_TRANSFORM_CLASS (gst_stft_parent_class)->query (trans, direction, query);

  if (!GST_BASE_TRANSFORM_CLASS (gst_stft_parent_class)->query (trans, direction, query))
    return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  GST_OBJECT_LOCK (self);
  const GstClockTime ours = self->latency;
  GST_OBJECT_UNLOCK (self);
  /* A frame leaves only when its last (n-fft-th) sample has arrived. */
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += ours;
  gst_query_set_latency (query, live, min, max);
  GST_DEBUG_OBJECT (self, "latency %" GST_TIME_FORMAT " (ours %" GST_TIME_FORMAT ")",
      GST_TIME_ARGS (min), GST_TIME_ARGS (ours));
  return TRUE;
}

/* ---- data -------------------------------------------------------------- */

static GstClockTime
frame_pts (const StftStream & st, guint64 frame)
{
  return st.base_pts + gst_util_uint64_scale (frame * st.stft->config ().hop, GST_SECOND, st.rate);
}

static void
begin_stream (GstStft * self, GstBuffer * in)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  StftStream & st = *self->stream;
  st.stft->reset ();
  st.discont = true;
  st.samples = 0;
  if (GST_BUFFER_PTS_IS_VALID (in))
    st.base_pts = GST_BUFFER_PTS (in);
  else if (trans->segment.format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID (trans->segment.start))
    st.base_pts = trans->segment.start;
  else
    st.base_pts = 0;
  GST_DEBUG_OBJECT (self, "stream (re)starts at %" GST_TIME_FORMAT, GST_TIME_ARGS (st.base_pts));
}

/* A buffer whose PTS is more than half a frame period away from where the
 * samples so far put it (data lost or repeated upstream without a DISCONT
 * flag) restarts framing at its PTS, as a DISCONT would: stamping on from the
 * sample counter would put every later frame off by the jump. */
static bool
jumps (GstStft * self, GstBuffer * in)
{
  const StftStream & st = *self->stream;
  if (!GST_BUFFER_PTS_IS_VALID (in))
    return false;
  const GstClockTime expected = st.base_pts + gst_util_uint64_scale (st.samples, GST_SECOND, st.rate);
  const GstClockTime period = gst_util_uint64_scale_int (st.stft->config ().hop, GST_SECOND, st.rate);
  if (neuro::continues_run (expected, GST_BUFFER_PTS (in), period))
    return false;
  GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Input timestamps jump without a DISCONT flag"),
      ("buffer at %" GST_TIME_FORMAT " where the samples so far end at %" GST_TIME_FORMAT
          "; framing restarts at the buffer's time", GST_TIME_ARGS (GST_BUFFER_PTS (in)),
          GST_TIME_ARGS (expected)));
  return true;
}

static void
post_frame_messages (GstStft * self, guint64 first, size_t n, const float *frames)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  const StftStream & st = *self->stream;
  const neuro::StftConfig & cfg = st.stft->config ();
  const size_t per = neuro::stft_frame_floats (cfg), mags = (size_t) cfg.channels * cfg.bins;
  for (size_t i = 0; i < n; i++) {
    const GstClockTime pts = frame_pts (st, first + i);
    GBytes *bytes = g_bytes_new (frames + i * per, mags * sizeof (float));
    GstStructure *s = gst_structure_new ("stft",
        "timestamp", G_TYPE_UINT64, pts,
        "stream-time", G_TYPE_UINT64, gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, pts),
        "running-time", G_TYPE_UINT64, gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, pts),
        "duration", G_TYPE_UINT64, frame_pts (st, first + i + 1) - pts,
        "frame", G_TYPE_UINT64, (guint64) (first + i),
        "channels", G_TYPE_INT, cfg.channels, "bins", G_TYPE_INT, cfg.bins,
        "scaling", G_TYPE_STRING, neuro::stft_scaling_name (cfg.scaling),
        "magnitudes", G_TYPE_BYTES, bytes, NULL);
    g_bytes_unref (bytes);
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
  }
}

static void
stamp_output (GstStft * self, GstBuffer * out, guint64 first, size_t n)
{
  StftStream & st = *self->stream;
  const GstClockTime pts = frame_pts (st, first);
  GST_BUFFER_PTS (out) = pts;
  GST_BUFFER_DURATION (out) = frame_pts (st, first + n) - pts;
  GST_BUFFER_OFFSET (out) = first;
  GST_BUFFER_OFFSET_END (out) = first + n;
  if (st.discont) {
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
    st.discont = false;
  }
}

static GstFlowReturn
process_input (GstStft * self, GstBuffer * in, GstBuffer ** outbuf)
{
  StftStream & st = *self->stream;
  if (!st.stft) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Received data before caps."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  const size_t bpf = sizeof (float) * st.stft->config ().channels;
  GstMapInfo map;
  if (!gst_buffer_map (in, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Cannot map the input buffer."), (NULL));
    return GST_FLOW_ERROR;
  }
  if (map.size % bpf != 0) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Input buffer of %" G_GSIZE_FORMAT
            " bytes is not a whole number of %d-channel F32LE sample frames.", map.size,
            st.stft->config ().channels), (NULL));
    gst_buffer_unmap (in, &map);
    return GST_FLOW_ERROR;
  }
  if (GST_BUFFER_IS_DISCONT (in) || !GST_CLOCK_TIME_IS_VALID (st.base_pts) || jumps (self, in))
    begin_stream (self, in);

  /* Frames are computed straight into the output buffer. */
  const size_t samples = map.size / bpf;
  st.samples += samples;
  const size_t n = st.stft->frames_after (samples);
  const guint64 first = st.stft->next_frame ();
  GstBuffer *out = NULL;
  GstMapInfo omap = GST_MAP_INFO_INIT;
  if (n > 0) {
    out = gst_buffer_new_allocate (NULL, n * neuro::stft_frame_floats (st.stft->config ()) * sizeof (float),
        NULL);
    gst_buffer_map (out, &omap, GST_MAP_WRITE);
  }
  st.stft->push (reinterpret_cast<const float *> (map.data), samples, reinterpret_cast<float *> (omap.data));
  gst_buffer_unmap (in, &map);
  if (n == 0)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  const bool post = self->post_messages;
  GST_OBJECT_UNLOCK (self);
  if (post)
    post_frame_messages (self, first, n, reinterpret_cast<const float *> (omap.data));
  gst_buffer_unmap (out, &omap);
  stamp_output (self, out, first, n);
  *outbuf = out;
  return GST_FLOW_OK;
}

/* GstBaseTransform renegotiates on RECONFIGURE inside its chain function and
 * only warns "not negotiated" when that fails: say which field is at fault. */
static GstFlowReturn
gst_stft_submit_input_buffer (GstBaseTransform * trans, gboolean is_discont, GstBuffer * input)
{
  GstStft *self = GST_STFT (trans);
  const GstFlowReturn ret =
      GST_BASE_TRANSFORM_CLASS (gst_stft_parent_class)->submit_input_buffer (trans, is_discont, input);
  if (ret != GST_FLOW_NOT_NEGOTIATED || self->stream->error_posted)
    return ret;
  GstCaps *incaps = gst_pad_get_current_caps (trans->sinkpad);
  if (incaps) {
    post_negotiation_error (self, incaps);
    gst_caps_unref (incaps);
  } else {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("stft received data before its input caps."), (NULL));
  }
  self->stream->error_posted = true;
  return ret;
}

/* Input and output sizes are unrelated (frames leave when complete), so the
 * element produces its own output instead of GstBaseTransform's 1:1 path. */
static GstFlowReturn
gst_stft_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstStft *self = GST_STFT (trans);
  *outbuf = NULL;
  GstBuffer *in = trans->queued_buf;
  trans->queued_buf = NULL;
  if (!in)
    return GST_FLOW_OK;
  const GstFlowReturn ret = process_input (self, in, outbuf);
  gst_buffer_unref (in);
  return ret;
}

static gboolean
gst_stft_start (GstBaseTransform * trans)
{
  reset_stream (GST_STFT (trans));
  GST_STFT (trans)->stream->error_posted = false;
  return TRUE;
}

static gboolean
gst_stft_stop (GstBaseTransform * trans)
{
  GstStft *self = GST_STFT (trans);
  self->stream->stft.reset ();
  self->stream->rate = 0;
  reset_stream (self);
  GST_OBJECT_LOCK (self);
  self->latency = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_stft_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstStft *self = GST_STFT (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_N_FFT:
      self->n_fft = g_value_get_int (value);
      self->set_mask |= SET_N_FFT;
      break;
    case PROP_HOP:
      self->hop = g_value_get_int (value);
      break;
    case PROP_BINS:
      self->bins = g_value_get_int (value);
      break;
    case PROP_WINDOW:
      self->window = g_value_get_enum (value);
      self->set_mask |= SET_WINDOW;
      break;
    case PROP_SCALING:
      self->scaling = g_value_get_enum (value);
      self->set_mask |= SET_SCALING;
      break;
    case PROP_WAVEFORM:
      self->waveform = g_value_get_boolean (value);
      self->set_mask |= SET_WAVEFORM;
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (prop_id != PROP_POST_MESSAGES)
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
}

static void
gst_stft_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstStft *self = GST_STFT (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_N_FFT:
      g_value_set_int (value, self->n_fft);
      break;
    case PROP_HOP:
      g_value_set_int (value, self->hop);
      break;
    case PROP_BINS:
      g_value_set_int (value, self->bins);
      break;
    case PROP_WINDOW:
      g_value_set_enum (value, self->window);
      break;
    case PROP_SCALING:
      g_value_set_enum (value, self->scaling);
      break;
    case PROP_WAVEFORM:
      g_value_set_boolean (value, self->waveform);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_stft_finalize (GObject * object)
{
  delete GST_STFT (object)->stream;
  G_OBJECT_CLASS (gst_stft_parent_class)->finalize (object);
}

static void
gst_stft_class_init (GstStftClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags flags = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  gobject_class->set_property = gst_stft_set_property;
  gobject_class->get_property = gst_stft_get_property;
  gobject_class->finalize = gst_stft_finalize;

  g_object_class_install_property (gobject_class, PROP_N_FFT,
      g_param_spec_int ("n-fft", "FFT size",
          "Frame length and FFT size in samples. Unset: taken from downstream caps, else 200",
          2, neuro::kMaxNfft, DEFAULT_N_FFT, flags));
  g_object_class_install_property (gobject_class, PROP_HOP,
      g_param_spec_int ("hop", "Hop",
          "Samples between the starts of consecutive frames (1..n-fft). "
          "0: taken from downstream caps, else n-fft/2", 0, G_MAXINT, DEFAULT_HOP, flags));
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_enum ("window", "Window",
          "Periodic analysis window (dimensionless). Unset: taken from downstream caps, else hann",
          GST_TYPE_STFT_WINDOW, DEFAULT_WINDOW, flags));
  g_object_class_install_property (gobject_class, PROP_BINS,
      g_param_spec_int ("bins", "Bins",
          "Frequency bins kept from bin 0 (DC) upward, bin k at k*rate/n-fft Hz (1..n-fft/2+1). "
          "0: taken from downstream caps, else n-fft/2 (drops Nyquist)", 0, G_MAXINT, DEFAULT_BINS, flags));
  g_object_class_install_property (gobject_class, PROP_SCALING,
      g_param_spec_enum ("scaling", "Scaling",
          "Value per bin: magnitude and spectrum in input units, power in input units squared, "
          "db in dB re 1 unit^2. Unset: taken from downstream caps, else magnitude",
          GST_TYPE_STFT_SCALING, DEFAULT_SCALING, flags));
  g_object_class_install_property (gobject_class, PROP_WAVEFORM,
      g_param_spec_boolean ("waveform", "Waveform",
          "Append the n-fft unwindowed input samples (input units) of every channel to each frame. "
          "Unset: taken from downstream caps, else true", DEFAULT_WAVEFORM, flags));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post one element message \"stft\" per frame with its timestamp (ns) and values "
          "(GBytes of float32, see the element documentation)", DEFAULT_POST_MESSAGES, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  GstCaps *spectrogram = neuro::spectrogram_template_caps ();
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, spectrogram));
  gst_caps_unref (spectrogram);
  gst_element_class_set_static_metadata (element_class, "Short-time Fourier transform",
      "Filter/Analyzer/Audio",
      "Short-time Fourier transform (FFTW3f) of F32LE audio/x-raw into application/x-spectrogram "
      "frames (channels x bins float32, then channels x n-fft waveform samples). Posts element "
      "message \"stft\" (timestamp, stream-time, running-time, duration: guint64 ns; frame: guint64; "
      "channels, bins: gint; scaling: string; magnitudes: GBytes float32 channel-major) "
      "when post-messages=true",
      "neurotokens developers");

  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_stft_transform_caps);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR (gst_stft_fixate_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_stft_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_stft_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_stft_query);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR (gst_stft_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR (gst_stft_generate_output);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_stft_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_stft_stop);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_STFT_WINDOW, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STFT_SCALING, (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_stft_debug, "stft", 0, "Short-time Fourier transform");
}

static void
gst_stft_init (GstStft * self)
{
  self->n_fft = DEFAULT_N_FFT;
  self->hop = DEFAULT_HOP;
  self->bins = DEFAULT_BINS;
  self->window = DEFAULT_WINDOW;
  self->scaling = DEFAULT_SCALING;
  self->waveform = DEFAULT_WAVEFORM;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->set_mask = 0;
  self->latency = 0;
  self->stream = new StftStream ();
}
