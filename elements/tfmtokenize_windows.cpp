// SPDX-License-Identifier: LGPL-2.1-or-later
/* tfmtokenize's handling of each window the cutter completes (internal, not
 * an element): in a live stream a window whose successor is already due is
 * skipped, with a QoS message per skipped window, one warning per run and the
 * skipped-windows count; otherwise it is tokenized, a slower forward pass
 * than any before raising the reported latency, and becomes a token buffer:
 * the whole window (emit=window) or only the frames no earlier window gave
 * (emit=newest), with a GAP over frames of skipped windows. */
#include "tfmtokenize_windows.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <vector>

#include "tags.h"

GST_DEBUG_CATEGORY_EXTERN (gst_tfm_tokenize_debug);
#define GST_CAT_DEFAULT gst_tfm_tokenize_debug

/* ---- live overload ----------------------------------------------------- */

/* Whether upstream is live and how late its data may legitimately arrive,
 * asked once per continuous run. */
static void
learn_upstream (GstTfmTokenize * self)
{
  TokenizeState & st = *self->state;
  st.upstream_known = true;
  st.upstream_live = false;
  GstQuery *q = gst_query_new_latency ();
  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (self), q)) {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency (q, &live, &min, &max);
    st.upstream_live = live;
    st.upstream_latency = GST_CLOCK_TIME_IS_VALID (min) ? min : 0;
  }
  gst_query_unref (q);
}

/* How long ago, in running time, the last frame of the window starting at
 * first_frame was due here (its PTS plus upstream's latency); 0 unless live
 * with a clock. */
static GstClockTimeDiff
window_lateness (GstTfmTokenize * self, guint64 first_frame)
{
  TokenizeState & st = *self->state;
  if (!st.upstream_known)
    learn_upstream (self);
  GstClock *clock = st.upstream_live ? gst_element_get_clock (GST_ELEMENT (self)) : NULL;
  if (!clock)
    return 0;
  const GstClockTime clock_time = gst_clock_get_time (clock);
  gst_object_unref (clock);
  const GstClockTime base_time = gst_element_get_base_time (GST_ELEMENT (self));
  if (clock_time < base_time)
    return 0;  /* not playing yet */
  const GstClockTime now = clock_time - base_time;
  const guint64 last = first_frame + st.cutter->geometry ().frames_per_window () - 1;
  const guint64 due = gst_segment_to_running_time (&GST_BASE_TRANSFORM (self)->segment, GST_FORMAT_TIME,
      st.base_pts + frame_time (st, last));
  return GST_CLOCK_TIME_IS_VALID (due) ? GST_CLOCK_DIFF (due + st.upstream_latency, now) : 0;
}

/* A QoS message per skipped window (processed/dropped in windows, jitter =
 * lateness) and one warning per run, so the application learns that it
 * asks for more than the machine does. */
static void
report_skip (GstTfmTokenize * self, guint64 index, guint64 first_frame, GstClockTimeDiff lateness)
{
  TokenizeState & st = *self->state;
  GST_OBJECT_LOCK (self);
  const guint64 skipped = ++st.skipped;
  const GstClockTime processing = st.processing;
  GST_OBJECT_UNLOCK (self);
  const GstClockTime pts = st.base_pts + frame_time (st, first_frame);
  const GstClockTime duration = frame_time (st, st.cutter->geometry ().frames_per_window ());
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstMessage *qos = gst_message_new_qos (GST_OBJECT (self), TRUE,
      gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts),
      gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts), pts, duration);
  const double proportion = (double) processing / (double) frame_time (st, st.window_stride);
  const gint quality = (gint) (1000000.0 * st.processed / (double) (st.processed + skipped));
  gst_message_set_qos_values (qos, lateness, proportion, quality);
  gst_message_set_qos_stats (qos, GST_FORMAT_BUFFERS, st.processed, skipped);
  gst_element_post_message (GST_ELEMENT (self), qos);
  GST_DEBUG_OBJECT (self, "window %" G_GUINT64_FORMAT " is %.3f s late: skipped", index, lateness / 1e9);
  if (st.overload_warned)
    return;
  st.overload_warned = true;
  GST_ELEMENT_WARNING (self, CORE, CLOCK,
      ("tfmtokenize cannot keep up with the live stream: a forward pass takes up to %.0f ms for a new "
          "window every %.0f ms, so it skips to the newest window (the skipped-windows property counts "
          "them). Use a larger window-stride, fewer channels or more threads.", processing / 1e6,
          frame_time (st, st.window_stride) / 1e6),
      ("%" G_GUINT64_FORMAT " channels, window %" G_GUINT64_FORMAT " late by %.3f s", (guint64) st.channels,
          index, lateness / 1e9));
}

/* In a live stream a window whose successor is already due is skipped: the
 * newest window is worth more than a backlog. */
bool
skip_if_late (GstTfmTokenize * self, guint64 index, guint64 first_frame)
{
  TokenizeState & st = *self->state;
  const GstClockTimeDiff lateness = window_lateness (self, first_frame);
  if (lateness <= (GstClockTimeDiff) frame_time (st, st.window_stride))
    return false;
  report_skip (self, index, first_frame, lateness);
  return true;
}

static void
apply_threads (GstTfmTokenize * self)
{
  GST_OBJECT_LOCK (self);
  const gint threads = self->threads;
  GST_OBJECT_UNLOCK (self);
  self->state->threads.apply (threads);
}

/* A slower forward pass than any before raises the reported latency. */
static void
note_processing_time (GstTfmTokenize * self, GstClockTime elapsed)
{
  TokenizeState & st = *self->state;
  GST_OBJECT_LOCK (self);
  const bool grew = elapsed > st.processing;
  if (grew)
    st.processing = elapsed + elapsed / 4;  /* headroom so jitter does not post a message per window */
  GST_OBJECT_UNLOCK (self);
  if (grew)
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
}

/* Output tags: a tag list without modality gets the model's. */
GstEvent *
tags_with_modality (GstTfmTokenize * self, GstTagList * tags)
{
  gchar *have = NULL;
  if (gst_tag_list_get_string (tags, NEURO_TAG_MODALITY, &have)) {
    g_free (have);
    return NULL;
  }
  tags = gst_tag_list_copy (tags);
  gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, NEURO_TAG_MODALITY,
      self->state->slot.model->info ().modality.c_str (), NULL);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  return gst_event_new_tag (tags);
}

static void
ensure_modality_tag (GstTfmTokenize * self)
{
  TokenizeState & st = *self->state;
  if (st.tags_seen)
    return;
  st.tags_seen = true;
  GstTagList *tags = gst_tag_list_new_empty ();
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  GstEvent *event = tags_with_modality (self, tags);
  gst_tag_list_unref (tags);
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self), event);
}

/* Token frames [from, T) of window w, frame-major. Buffer PTS = PTS of its
 * first frame, from the frame counter; offsets: emit=window w*T .. (w+1)*T
 * (so w = offset / T also when windows overlap), emit=newest the stream's
 * frame indices. */
static GstBuffer *
tokens_buffer (GstTfmTokenize * self, const neuro::TokenizerWindow & w, const std::vector<uint32_t> & tokens,
    int from)
{
  TokenizeState & st = *self->state;
  const int T = st.cutter->geometry ().frames_per_window ();
  const int channels = st.channels;
  const int n = T - from;
  GstBuffer *out = gst_buffer_new_allocate (NULL, (gsize) n * channels * sizeof (guint32), NULL);
  GstMapInfo map;
  gst_buffer_map (out, &map, GST_MAP_WRITE);
  guint32 *dst = reinterpret_cast<guint32 *> (map.data);
  /* tokenize() gives channel-major rows; the stream is frame-major. */
  for (int t = 0; t < n; t++)
    for (int c = 0; c < channels; c++)
      dst[(size_t) t * channels + c] = GUINT32_TO_LE (tokens[(size_t) c * T + from + t]);
  gst_buffer_unmap (out, &map);

  const guint64 first = w.first_frame + from, end = w.first_frame + T;
  const GstClockTime start = st.base_pts + frame_time (st, first);
  GST_BUFFER_PTS (out) = start;
  GST_BUFFER_DURATION (out) = st.base_pts + frame_time (st, end) - start;
  const bool whole = st.emit == GST_TFM_TOKENIZE_EMIT_WINDOW;
  GST_BUFFER_OFFSET (out) = whole ? w.index * T : first;
  GST_BUFFER_OFFSET_END (out) = whole ? (w.index + 1) * T : end;
  if (st.discont) {
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
    st.discont = false;
  }
  return out;
}

/* emit=newest after skipped windows: the frames nobody tokenized are a GAP
 * (tokensink records it), and the stream restarts with a DISCONT buffer. */
static void
push_gap (GstTfmTokenize * self, guint64 from_frame, guint64 to_frame)
{
  TokenizeState & st = *self->state;
  const GstClockTime start = st.base_pts + frame_time (st, from_frame);
  const GstClockTime end = st.base_pts + frame_time (st, to_frame);
  gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self), gst_event_new_gap (start, end - start));
  st.discont = true;
}

/* ---- non-finite input -------------------------------------------------- */

/* "Fp1 (channel 0)", or "channel 0" when the stream names no channels. */
static std::string
channel_label (const TokenizeState & st, int c)
{
  const std::string index = "channel " + std::to_string (c);
  if (st.channel_names.size () != (size_t) st.channels || st.channel_names[c].empty ())
    return index;
  return st.channel_names[c] + " (" + index + ")";
}

static std::string
channel_list (const TokenizeState & st, const std::vector<int> & channels)
{
  constexpr size_t kNamed = 8;  /* a dead 256-channel cap must not give a 4 kB message */
  std::string out;
  for (size_t i = 0; i < channels.size () && i < kNamed; i++)
    out += (i ? ", " : "") + channel_label (st, channels[i]);
  if (channels.size () > kNamed)
    out += " and " + std::to_string (channels.size () - kNamed) + " more";
  return out;
}

/* One warning when channels start a run of non-finite windows (not one per
 * window: a dead electrode would flood the bus), naming them and the
 * window's running time. */
static void
warn_non_finite (GstTfmTokenize * self, const neuro::TokenizerWindow & w)
{
  TokenizeState & st = *self->state;
  std::vector<int> started;
  for (int c = 0; c < st.channels; c++) {
    const uint8_t bad = !w.finite[c];
    if (bad && !st.non_finite[c])
      started.push_back (c);
    else if (!bad && st.non_finite[c])
      GST_INFO_OBJECT (self, "%s is finite again from window %" G_GUINT64_FORMAT, channel_label (st, c).c_str (),
          w.index);
    st.non_finite[c] = bad;
  }
  if (started.empty ())
    return;
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  const GstClockTime pts = st.base_pts + frame_time (st, w.first_frame);
  const GstClockTime end = st.base_pts + frame_time (st, w.first_frame) +
      gst_util_uint64_scale (st.cutter->geometry ().window_samples, GST_SECOND, st.rate);
  const GstClockTime from = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
  const GstClockTime to = gst_segment_to_running_time (segment, GST_FORMAT_TIME, end);
  const std::string names = channel_list (st, started);
  GST_ELEMENT_WARNING (self, STREAM, DECODE,
      ("Non-finite input (NaN or infinity) on %s in the window from %.3f s to %.3f s of running time: "
          "%s tokens there are \"no token\" (0xFFFFFFFF) until the input is finite again; the other "
          "channels are tokenized as usual.", names.c_str (), from / 1e9, to / 1e9,
          started.size () == 1 ? "its" : "their"),
      ("window %" G_GUINT64_FORMAT ", PTS %" GST_TIME_FORMAT ", %zu of %d channels not finite; one warning "
          "per run of such windows", w.index, GST_TIME_ARGS (pts), w.non_finite_channels (), st.channels));
}

/* The tokens of a channel whose window held a non-finite value mean
 * nothing (the cutter laid those values out as 0): no token instead. */
static void
mark_non_finite (GstTfmTokenize * self, const neuro::TokenizerWindow & w, std::vector<uint32_t> & tokens)
{
  TokenizeState & st = *self->state;
  const int T = st.cutter->geometry ().frames_per_window ();
  for (int c = 0; c < st.channels; c++)
    if (!w.finite[c])
      std::fill_n (tokens.begin () + (size_t) c * T, T, neuro::kNoToken);
  warn_non_finite (self, w);
}

GstFlowReturn
tokenize_window (GstTfmTokenize * self, const neuro::TokenizerWindow & w, GstBuffer ** outbuf)
{
  TokenizeState & st = *self->state;
  const int T = st.cutter->geometry ().frames_per_window ();
  std::vector<uint32_t> tokens ((size_t) st.channels * T);
  apply_threads (self);
  const auto began = std::chrono::steady_clock::now ();
  try {
    if (st.sharing)
      st.sharing->tokenize (w.first_frame, w.stft.data (), w.raw.data (), tokens.data ());
    else
      st.slot.model->tokenize (w.stft.data (), w.raw.data (), st.channels, tokens.data ());
  } catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Tokenizer failed on window %" G_GUINT64_FORMAT ": %s",
            w.index, e.what ()), ("model %s", st.slot.path.c_str ()));
    return GST_FLOW_ERROR;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds> (
      std::chrono::steady_clock::now () - began).count ();
  note_processing_time (self, (GstClockTime) elapsed);
  mark_non_finite (self, w, tokens);
  st.processed++;
  ensure_modality_tag (self);
  int from = 0;
  if (st.emit == GST_TFM_TOKENIZE_EMIT_NEWEST) {
    if (w.first_frame > st.next_frame)
      push_gap (self, st.next_frame, w.first_frame);
    from = (int) (st.next_frame > w.first_frame ? st.next_frame - w.first_frame : 0);
    st.next_frame = w.first_frame + T;
  }
  *outbuf = tokens_buffer (self, w, tokens, from);
  GST_LOG_OBJECT (self, "window %" G_GUINT64_FORMAT " -> %" GST_PTR_FORMAT " in %.1f ms", w.index, *outbuf,
      elapsed / 1e6);
  return GST_FLOW_OK;
}
