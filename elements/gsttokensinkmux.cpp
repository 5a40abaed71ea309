// SPDX-License-Identifier: LGPL-2.1-or-later
/* tokensink's record orderer (internal, not registered as an element): a
 * GstAggregator with one pad per recorded stream that turns buffers, GAP,
 * caps, tag, annotation and classification events into records, hands them
 * to the bin's writer in order of availability across streams (running time
 * plus the stream's upstream latency, lib/record/ordering.h), and in a live
 * pipeline records a stream that sends nothing within its latency as silent
 * (gap records) so the others go on being written. */
#include "gsttokensinkmux.h"

#include <string>
#include <vector>

#include "events.h"
#include "hdf5_recording.h"  /* kNoToken */
#include "jsonl.h"
#include "media.h"
#include "ordering.h"
#include "tags.h"

GST_DEBUG_CATEGORY_EXTERN (gst_token_sink_debug);
#define GST_CAT_DEFAULT gst_token_sink_debug

/* While a live stream stays silent, the recorder re-checks it this often; it
 * bounds how long the other streams' records wait for the silent one. */
#define SILENCE_STEP (100 * GST_MSECOND)
/* Bounds one aggregate pass so records keep flowing to the file. */
#define MAX_BUFFERS_PER_AGGREGATE 256

static GstStaticPadTemplate lines_src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (LINES_CAPS));

/* ------------------------------------------------------------------------ */
/* Internal aggregator pad: one recorded stream. */

#define GST_TYPE_TOKEN_SINK_PAD (gst_token_sink_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstTokenSinkPad, gst_token_sink_pad, GST, TOKEN_SINK_PAD, GstAggregatorPad)

struct _GstTokenSinkPad
{
  GstAggregatorPad parent;
  neuro::RecordStream *st;      /* touched only from the aggregator's thread */
};

G_DEFINE_TYPE (GstTokenSinkPad, gst_token_sink_pad, GST_TYPE_AGGREGATOR_PAD);

static void
gst_token_sink_pad_finalize (GObject * object)
{
  delete GST_TOKEN_SINK_PAD (object)->st;
  G_OBJECT_CLASS (gst_token_sink_pad_parent_class)->finalize (object);
}

static void
gst_token_sink_pad_class_init (GstTokenSinkPadClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_token_sink_pad_finalize;
}

static void
gst_token_sink_pad_init (GstTokenSinkPad * pad)
{
  pad->st = new neuro::RecordStream ();
}

/* ------------------------------------------------------------------------ */
/* Internal aggregator: orders records across streams. */


struct _GstTokenSinkMux
{
  GstAggregator parent;
  GstClockTime silence_chunk;   /* longest gap record while a silence lasts */
  /* Live only, as of the last aggregate pass (get_next_time runs with the
   * aggregator's lock held, so it cannot ask for them): live_available ()
   * and GstAggregator's latency without the grace time. */
  GstClockTime last_available;
  GstClockTime upstream_latency;
};

G_DEFINE_TYPE (GstTokenSinkMux, gst_token_sink_mux, GST_TYPE_AGGREGATOR);

/* Holds references to the sink pads so they can be used without the object lock. */
struct PadList
{
  std::vector<GstTokenSinkPad *> pads;
  explicit PadList (GstTokenSinkMux * mux)
  {
    GST_OBJECT_LOCK (mux);
    for (GList * l = GST_ELEMENT (mux)->sinkpads; l; l = l->next)
      pads.push_back (GST_TOKEN_SINK_PAD (gst_object_ref (l->data)));
    GST_OBJECT_UNLOCK (mux);
  }
  ~PadList ()
  {
    for (GstTokenSinkPad * p : pads)
      gst_object_unref (p);
  }
  PadList (const PadList &) = delete;
  PadList &operator= (const PadList &) = delete;

  std::vector<neuro::RecordStream *> streams () const
  {
    std::vector<neuro::RecordStream *> out;
    for (GstTokenSinkPad * p : pads)
      out.push_back (p->st);
    return out;
  }
};

static GstClockTime
pad_running_time (GstTokenSinkPad * pad, GstClockTime ts)
{
  GstAggregatorPad *apad = GST_AGGREGATOR_PAD (pad);
  GST_OBJECT_LOCK (apad);
  GstClockTime rt = gst_segment_to_running_time (&apad->segment, GST_FORMAT_TIME, ts);
  GST_OBJECT_UNLOCK (apad);
  return rt;
}

static GstClockTime
pad_stream_time_to_running_time (GstTokenSinkPad * pad, GstClockTime stream_time)
{
  GstAggregatorPad *apad = GST_AGGREGATOR_PAD (pad);
  GST_OBJECT_LOCK (apad);
  guint64 position = gst_segment_position_from_stream_time (&apad->segment,
      GST_FORMAT_TIME, stream_time);
  GstClockTime rt = gst_segment_to_running_time (&apad->segment, GST_FORMAT_TIME, position);
  GST_OBJECT_UNLOCK (apad);
  return rt;
}

static GstFlowReturn
take_gap (GstTokenSinkPad * pad, GstBuffer * buf)
{
  GstClockTime start = pad_running_time (pad, GST_BUFFER_PTS (buf));
  GstClockTime end = GST_BUFFER_DURATION_IS_VALID (buf) ?
      pad_running_time (pad, GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf)) : start;
  pad->st->add_gap (start, end);
  return GST_FLOW_OK;
}

static GstClockTime
frame_offset (const neuro::StreamDescription & d, guint64 frame)
{
  return gst_util_uint64_scale (frame * d.fps_d, GST_SECOND, d.fps_n);
}

static GstFlowReturn
push_lines (GstAggregator * agg, const std::string & lines)
{
  GstBuffer *buf = gst_buffer_new_memdup (lines.data (), lines.size ());
  return gst_aggregator_finish_buffer (agg, buf);
}

/* Hands every record whose place in the file is known to the writer. */
static GstFlowReturn
write_ready (GstTokenSinkMux * self)
{
  PadList pads (self);
  std::string out;
  neuro::RecordStream::emit_ready (pads.streams (), out);
  return out.empty () ? GST_FLOW_OK : push_lines (GST_AGGREGATOR (self), out);
}

/* A code at or past the vocabulary is not a token of the stream's model
 * (kNoToken, "no token", is allowed): recording it would be silent garbage. */
static bool
in_vocabulary (const std::vector<guint32> & frame, int vocabulary)
{
  for (guint32 v : frame)
    if (v != neuro::kNoToken && v >= (guint32) vocabulary)
      return false;
  return true;
}

static void
post_vocabulary_error (GstTokenSinkMux * self, GstTokenSinkPad * pad, const std::vector<guint32> & frame,
    GstClockTime rt)
{
  const neuro::StreamDescription &d = pad->st->description ();
  size_t k = 0;
  while (frame[k] == neuro::kNoToken || frame[k] < (guint32) d.vocabulary)
    k++;
  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("Token %u on %s (stream %u, channel %d) at running time %" GST_TIME_FORMAT
          " is outside the stream's vocabulary of %d codes", frame[k], GST_PAD_NAME (pad), d.stream,
          (int) (k / d.codebooks), GST_TIME_ARGS (rt), d.vocabulary),
      ("valid tokens are 0 .. %d, or %u for no token; the producer and the vocabulary in its caps "
          "disagree (the records before this frame are kept)", d.vocabulary - 1, neuro::kNoToken));
}

static GstFlowReturn
take_tokens (GstTokenSinkMux * self, GstTokenSinkPad * pad, GstBuffer * buf)
{
  neuro::RecordStream &st = *pad->st;
  const neuro::StreamDescription &d = st.description ();
  if (!st.caps_ok ()) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("%s received data before valid application/x-tokens caps", GST_PAD_NAME (pad)));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!GST_BUFFER_PTS_IS_VALID (buf)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Token buffer without timestamp on %s",
            GST_PAD_NAME (pad)), ("every application/x-tokens buffer needs a PTS"));
    return GST_FLOW_ERROR;
  }
  const gsize frame_bytes = (gsize) d.channels * d.codebooks * sizeof (guint32);
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;
  if (map.size % frame_bytes != 0) {
    gst_buffer_unmap (buf, &map);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Malformed token buffer on %s",
            GST_PAD_NAME (pad)), ("%" G_GSIZE_FORMAT " bytes is not a whole number of "
            "%d×%d uint32 token frames", map.size, d.channels, d.codebooks));
    return GST_FLOW_ERROR;
  }
  const guint64 n_frames = map.size / frame_bytes;
  const GstClockTime pts = GST_BUFFER_PTS (buf);
  /* A buffer of an overlapping-window stream is one window, offset w * T
   * (tfmtokenize); the next window starts window-stride frames later, so the
   * stream's content is known only up to there. */
  const bool windows = d.window_frames > 0;
  const gint64 window = !windows ? -1 : GST_BUFFER_OFFSET_IS_VALID (buf) ?
      (gint64) (GST_BUFFER_OFFSET (buf) / d.window_frames) : (gint64) st.windows ();
  std::vector<guint32> frame (d.channels * d.codebooks);
  for (guint64 i = 0; i < n_frames; i++) {
    const guint8 *src = map.data + i * frame_bytes;
    for (size_t k = 0; k < frame.size (); k++)
      frame[k] = GST_READ_UINT32_LE (src + 4 * k);
    const GstClockTime rt = pad_running_time (pad, pts + frame_offset (d, i));
    if (!in_vocabulary (frame, d.vocabulary)) {
      gst_buffer_unmap (buf, &map);
      /* the records before the frame reach the file before the error stops the pipeline */
      write_ready (self);
      post_vocabulary_error (self, pad, frame, rt);
      return GST_FLOW_ERROR;
    }
    st.add_tokens (rt, pad_running_time (pad, pts + frame_offset (d, i + 1)), frame.data (), window);
  }
  gst_buffer_unmap (buf, &map);
  if (windows)
    st.end_window (pad_running_time (pad, pts + frame_offset (d, d.window_stride)));
  else if (GST_BUFFER_DURATION_IS_VALID (buf))
    st.extend_horizon (pad_running_time (pad, pts + GST_BUFFER_DURATION (buf)));
  return GST_FLOW_OK;
}

static GstFlowReturn
take_buffer (GstTokenSinkMux * self, GstTokenSinkPad * pad, GstBuffer * buf)
{
  /* GstAggregator turns GAP events into empty buffers flagged GAP. */
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP) && gst_buffer_get_size (buf) == 0)
    return take_gap (pad, buf);
  return take_tokens (self, pad, buf);
}

static bool
is_playing (GstAggregator * agg)
{
  GST_OBJECT_LOCK (agg);
  bool playing = GST_STATE (agg) == GST_STATE_PLAYING;
  GST_OBJECT_UNLOCK (agg);
  return playing;
}

/* The `latency` property: how long the recorder waits for a late live
 * input beyond the input's own latency. */
static GstClockTime
grace_time (GstAggregator * agg)
{
  guint64 grace = 0;
  g_object_get (agg, "latency", &grace, NULL);
  return grace;
}

/* Running time now minus the grace time: a live input that has nothing
 * available by then (its data up to this minus its own latency) is late.
 * GST_CLOCK_TIME_NONE unless live and playing (only then do clock and base
 * time say where the inputs should be). Also notes GstAggregator's latency
 * for get_next_time. */
static GstClockTime
live_available (GstTokenSinkMux * self)
{
  GstAggregator *agg = GST_AGGREGATOR (self);
  const GstClockTime latency = gst_aggregator_get_latency (agg);
  const GstClockTime grace = grace_time (agg);
  self->upstream_latency = GST_CLOCK_TIME_IS_VALID (latency) ? latency - MIN (latency, grace) : 0;
  if (!GST_CLOCK_TIME_IS_VALID (latency) || !is_playing (agg))
    return GST_CLOCK_TIME_NONE;
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (agg));
  if (!clock)
    return GST_CLOCK_TIME_NONE;
  GstClockTime now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  GstClockTime waited = gst_element_get_base_time (GST_ELEMENT (agg)) + grace;
  return now > waited ? now - waited : 0;
}

/* Takes every queued buffer: a fast stream must not wait for one buffer of
 * a slow stream per buffer of its own (live queues hold up to the latency).
 * Leaves st.silent set when the pad had nothing. */
static GstFlowReturn
drain_pad (GstTokenSinkMux * self, GstTokenSinkPad * pad)
{
  bool took = false;
  for (int n = 0; n < MAX_BUFFERS_PER_AGGREGATE; n++) {
    GstBuffer *buf = gst_aggregator_pad_pop_buffer (GST_AGGREGATOR_PAD (pad));
    if (!buf)
      break;
    took = true;
    GstFlowReturn ret = take_buffer (self, pad, buf);
    gst_buffer_unref (buf);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  pad->st->set_silent (!took);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_token_sink_mux_aggregate (GstAggregator * agg, gboolean timeout)
{
  GstTokenSinkMux *self = GST_TOKEN_SINK_MUX (agg);
  PadList pads (self);
  const GstClockTime available = live_available (self);
  self->last_available = available;

  for (GstTokenSinkPad * pad : pads.pads) {
    GstFlowReturn ret = drain_pad (self, pad);
    if (ret != GST_FLOW_OK) {
      if (ret != GST_FLOW_FLUSHING)
        gst_pad_push_event (GST_AGGREGATOR_SRC_PAD (agg), gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
                gst_structure_new_empty (RECORDING_FAILED_EVENT)));
      return ret;
    }
    if (timeout && !pad->st->eos () && pad->st->silent ())
      pad->st->mark_silent (available, self->silence_chunk);
  }

  GstFlowReturn ret = write_ready (self);
  if (ret != GST_FLOW_OK)
    return ret;
  bool done = !pads.pads.empty ();
  for (GstTokenSinkPad * pad : pads.pads)
    done = done && pad->st->done ();
  return done ? GST_FLOW_EOS : GST_FLOW_OK;
}

/* Live only: when to run even though some input has no data. When the
 * earliest input not yet known to be silent is late (its data not available
 * by then), so a silence is noticed once that input's latency and the grace
 * time have passed, and at least every SILENCE_STEP, so the inputs that do
 * deliver are drained (a live aggregator pad holds only two buffers) and
 * silent inputs advance. At start-up every input gets its latency to show
 * up. GstAggregator waits until this time plus its own latency (the largest
 * upstream latency plus the grace time), hence the conversion. */
static GstClockTime
gst_token_sink_mux_get_next_time (GstAggregator * agg)
{
  GstTokenSinkMux *self = GST_TOKEN_SINK_MUX (agg);
  if (!is_playing (agg))
    return GST_CLOCK_TIME_NONE; /* base time not set yet */
  GstClockTime wake = GST_CLOCK_TIME_IS_VALID (self->last_available) ?
      self->last_available + SILENCE_STEP : 0;
  PadList pads (self);
  for (GstTokenSinkPad * pad : pads.pads) {
    const neuro::RecordStream &st = *pad->st;
    if (!st.eos () && !st.silent () && GST_CLOCK_TIME_IS_VALID (st.available_horizon ()))
      wake = MIN (wake, st.available_horizon ());
  }
  return wake > self->upstream_latency ? wake - self->upstream_latency : 0;
}

/* The upstream latency of one input: how long after their running time its
 * records become available. */
static void
read_stream_latency (GstTokenSinkPad * pad)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;
  GstClockTime min = 0, max;
  if (gst_pad_peer_query (GST_PAD (pad), query))
    gst_query_parse_latency (query, &live, &min, &max);
  gst_query_unref (query);
  pad->st->set_latency (GST_CLOCK_TIME_IS_VALID (min) ? min : 0);
  GST_DEBUG_OBJECT (pad, "upstream latency %" GST_TIME_FORMAT, GST_TIME_ARGS (min));
}

static bool
read_token_caps (GstTokenSinkMux * self, GstTokenSinkPad * pad, GstCaps * caps)
{
  neuro::TokensInfo info;
  const std::string problem = neuro::TokensInfo::from_caps (gst_caps_get_structure (caps, 0), info);
  if (!problem.empty ()) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Unusable caps on %s: %s.", GST_PAD_NAME (pad),
            problem.c_str ()), ("got %" GST_PTR_FORMAT, caps));
    return false;
  }
  read_stream_latency (pad);
  pad->st->set_caps (info);
  return true;
}

/* Upstream latency can only be known once caps are set (tfmtokenize's window
 * depends on them), but GstAggregator keeps the answer of its first query.
 * Asking again through our own source pad makes it recompute. (To the
 * pipeline the writer answers as a sink that never syncs, so the recorder
 * does not delay the pipeline's other sinks.) */
static void
refresh_latency (GstTokenSinkMux * self)
{
  GstQuery *query = gst_query_new_latency ();
  if (gst_pad_query (GST_AGGREGATOR_SRC_PAD (self), query)) {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency (query, &live, &min, &max);
    GST_DEBUG_OBJECT (self, "inputs %slive, latency %" GST_TIME_FORMAT, live ? "" : "not ",
        GST_TIME_ARGS (min));
  }
  gst_query_unref (query);
}

static void
read_tags (GstTokenSinkPad * pad, GstEvent * event)
{
  GstTagList *tags;
  gst_event_parse_tag (event, &tags);
  gchar *modality = NULL, *source = NULL;
  gst_tag_list_get_string (tags, NEURO_TAG_MODALITY, &modality);
  gst_tag_list_get_string (tags, NEURO_TAG_SOURCE, &source);
  pad->st->set_tags (modality ? modality : "", source ? source : "",
      neuro::tag_list_get_strings (tags, NEURO_TAG_CHANNEL_NAMES),
      neuro::tag_list_get_strings (tags, NEURO_TAG_CHANNEL_UNITS));
  g_free (modality);
  g_free (source);
  GstDateTime *start = NULL;
  if (gst_tag_list_get_date_time (tags, GST_TAG_DATE_TIME, &start)) {
    if (gst_date_time_has_time (start)) {
      GDateTime *utc = gst_date_time_to_g_date_time (start);
      pad->st->set_measurement_start (g_date_time_to_unix (utc) * (gint64) GST_SECOND
          + g_date_time_get_microsecond (utc) * (gint64) GST_USECOND);
      g_date_time_unref (utc);
    }
    gst_date_time_unref (start);
  }
}

/* Records the suite's custom events; returns false for any other event. */
static bool
read_record_event (GstTokenSinkPad * pad, GstEvent * event)
{
  neuro::RecordStream &st = *pad->st;
  const GstStructure *s = gst_event_get_structure (event);
  neuro::Annotation a;
  neuro::Classification c;
  if (neuro::annotation_from_structure (s, a)) {
    GstClockTime rt = pad_stream_time_to_running_time (pad, a.pts);
    st.add_event (rt, neuro::annotation_line (st.description ().stream, rt, a.duration, a.text));
    return true;
  }
  if (neuro::classification_from_structure (s, c)) {
    GstClockTime rt = pad_running_time (pad, c.timestamp);
    st.add_event (rt, neuro::classification_line (st.description ().stream, rt, c.duration, c));
    return true;
  }
  return false;
}

static gboolean
gst_token_sink_mux_sink_event (GstAggregator * agg, GstAggregatorPad * apad, GstEvent * event)
{
  GstTokenSinkMux *self = GST_TOKEN_SINK_MUX (agg);
  GstTokenSinkPad *pad = GST_TOKEN_SINK_PAD (apad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      bool ok = read_token_caps (self, pad, caps);
      gst_event_unref (event);
      if (ok)
        refresh_latency (self);
      return ok;
    }
    case GST_EVENT_TAG:
      read_tags (pad, event);
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_SEGMENT:{
      const GstSegment *segment;
      gst_event_parse_segment (event, &segment);
      if (segment->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
            ("%s got a %s segment; token streams need TIME segments", GST_PAD_NAME (pad),
                gst_format_get_name (segment->format)));
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      if (read_record_event (pad, event)) {
        gst_event_unref (event);
        return TRUE;
      }
      break;
    case GST_EVENT_EOS:
      pad->st->finish ();
      break;
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS (gst_token_sink_mux_parent_class)->sink_event (agg, apad, event);
}

/* Whether every input can seek in time. */
static bool
inputs_seekable (GstTokenSinkMux * self)
{
  PadList pads (self);
  for (GstTokenSinkPad * pad : pads.pads) {
    GstQuery *query = gst_query_new_seeking (GST_FORMAT_TIME);
    gboolean seekable = FALSE;
    if (gst_pad_peer_query (GST_PAD (pad), query))
      gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
    gst_query_unref (query);
    if (!seekable)
      return false;
  }
  return !pads.pads.empty ();
}

/* A seek is refused unless every input can seek: GstAggregator would report
 * success when no input seeked at all (a live or synthetic source), and the
 * pipeline then waits for a flush that never comes: no EOS, a hang. Seeking
 * some inputs only would misalign the streams of one recording. */
static gboolean
gst_token_sink_mux_src_event (GstAggregator * agg, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK && !inputs_seekable (GST_TOKEN_SINK_MUX (agg))) {
    GST_INFO_OBJECT (agg, "seek refused: an input cannot seek");
    gst_event_unref (event);
    return FALSE;
  }
  return GST_AGGREGATOR_CLASS (gst_token_sink_mux_parent_class)->src_event (agg, event);
}

/* A flushing seek restarts running time: every stream starts over (and is
 * described again). Called with the aggregation thread stopped. */
static GstFlowReturn
gst_token_sink_mux_flush (GstAggregator * agg)
{
  GstTokenSinkMux *self = GST_TOKEN_SINK_MUX (agg);
  self->last_available = GST_CLOCK_TIME_NONE;
  self->upstream_latency = 0;
  PadList pads (self);
  for (GstTokenSinkPad * pad : pads.pads)
    pad->st->restart ();
  return GST_FLOW_OK;
}

static gboolean
gst_token_sink_mux_start (GstAggregator * agg)
{
  GstTokenSinkMux *self = GST_TOKEN_SINK_MUX (agg);
  SinkSettings settings = settings_of_parent (GST_ELEMENT (agg));
  self->silence_chunk = MAX (SILENCE_STEP, settings.flush_interval * GST_MSECOND);
  return gst_token_sink_mux_flush (agg) == GST_FLOW_OK;
}

static GstAggregatorPad *
gst_token_sink_mux_create_new_pad (GstAggregator * agg, GstPadTemplate * templ,
    const gchar * req_name, const GstCaps * caps)
{
  GstAggregatorPad *apad = GST_AGGREGATOR_CLASS (gst_token_sink_mux_parent_class)->create_new_pad
      (agg, templ, req_name, caps);
  if (!apad)
    return NULL;
  GST_TOKEN_SINK_PAD (apad)->st->set_pad ((guint) g_ascii_strtoull (GST_PAD_NAME (apad) + strlen ("sink_"),
          NULL, 10), GST_PAD_NAME (apad));
  return apad;
}

static void
gst_token_sink_mux_class_init (GstTokenSinkMuxClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);

  gst_element_class_add_pad_template (element_class, tokens_sink_template (GST_TYPE_TOKEN_SINK_PAD));
  gst_element_class_add_static_pad_template_with_gtype (element_class, &lines_src_template,
      GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata (element_class, "tokensink record orderer",
      "Muxer", "Orders token records of several streams by availability (inside tokensink)",
      "neurotokens developers");

  agg_class->aggregate = gst_token_sink_mux_aggregate;
  agg_class->get_next_time = gst_token_sink_mux_get_next_time;
  agg_class->sink_event = gst_token_sink_mux_sink_event;
  agg_class->src_event = gst_token_sink_mux_src_event;
  agg_class->start = gst_token_sink_mux_start;
  agg_class->flush = gst_token_sink_mux_flush;
  agg_class->create_new_pad = gst_token_sink_mux_create_new_pad;
}

static void
gst_token_sink_mux_init (GstTokenSinkMux * self)
{
  self->silence_chunk = DEFAULT_FLUSH_INTERVAL * GST_MSECOND;
  self->last_available = GST_CLOCK_TIME_NONE;
  self->upstream_latency = 0;
}

