// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ordering.h"

#include <algorithm>

#include "file_hash.h"

namespace neuro {

namespace {

GstClockTime
later (GstClockTime a, GstClockTime b)
{
  if (!GST_CLOCK_TIME_IS_VALID (a))
    return b;
  if (!GST_CLOCK_TIME_IS_VALID (b))
    return a;
  return MAX (a, b);
}

/* Records available before this running time can be written: no stream can
 * still produce anything available earlier. Strictly before, so ties resolve
 * the same way (by stream number) however the data arrived. */
GstClockTime
emission_limit (const std::vector<RecordStream *> &streams)
{
  GstClockTime limit = G_MAXUINT64;
  for (const RecordStream *st : streams) {
    if (st->eos ())
      continue;
    const GstClockTime h = st->available_horizon ();
    limit = MIN (limit, GST_CLOCK_TIME_IS_VALID (h) ? h : st->latency ());
  }
  return limit;
}

}  // namespace

void
RecordStream::set_pad (guint stream, const std::string &pad)
{
  desc_.stream = stream;
  desc_.pad = pad;
}

void
RecordStream::insert (GstClockTime key, std::string line)
{
  if (first_description_.empty ())
    first_description_ = stream_line (desc_);
  auto pos = std::upper_bound (pending_.begin (), pending_.end (), key,
      [] (GstClockTime k, const PendingRecord &r) { return k < r.key; });
  pending_.insert (pos, PendingRecord { key, std::move (line) });
}

/* Events carry no later data than the stream's horizon, so a record dated in
 * the past (a classification decided after its window) is placed there. */
GstClockTime
RecordStream::event_key (GstClockTime rt) const
{
  GstClockTime key = later (rt, horizon_);
  return GST_CLOCK_TIME_IS_VALID (key) ? key : 0;
}

/* Channel names and units come from tags only when they match the caps.
 * The description as of the stream's first record is written just before
 * that record's line; a later change is queued where the stream's data has
 * got to, so the lines before it keep their description. */
void
RecordStream::describe ()
{
  StreamDescription &d = desc_;
  d.modality = !caps_modality_.empty () ? caps_modality_ : tag_modality_;
  d.channel_names = tag_names_;
  if ((int) d.channel_names.size () != d.channels) {
    d.channel_names.clear ();
    for (int c = 0; c < d.channels; c++)
      d.channel_names.push_back ("ch" + std::to_string (c));
  }
  d.channel_units = (int) tag_units_.size () == d.channels ? tag_units_ : std::vector<std::string> ();
  if (!first_description_.empty ())
    insert (event_key (GST_CLOCK_TIME_NONE), stream_line (d));
}

void
RecordStream::set_caps (const TokensInfo &caps)
{
  desc_.channels = caps.channels;
  desc_.vocabulary = caps.vocabulary;
  desc_.codebooks = caps.codebooks;
  desc_.fps_n = caps.fps_n;
  desc_.fps_d = caps.fps_d;
  desc_.model = caps.model;
  desc_.model_sha256 = caps.model_sha256;
  desc_.window_frames = caps.window_frames;
  desc_.window_stride = caps.window_stride;
  caps_modality_ = caps.modality;
  caps_ok_ = true;
  describe ();
}

void
RecordStream::set_tags (const std::string &modality, const std::string &source,
    const std::vector<std::string> &names, const std::vector<std::string> &units)
{
  if (!modality.empty ())
    tag_modality_ = modality;
  if (!source.empty () && source != desc_.source) {
    desc_.source = source;
    /* once per source: names exactly which bytes the tokens came from ("" when unreadable) */
    desc_.source_sha256 = file_sha256 (source);
  }
  if (!names.empty ())
    tag_names_ = names;
  if (!units.empty ())
    tag_units_ = units;
  describe ();
}

void
RecordStream::set_measurement_start (gint64 unix_ns)
{
  desc_.meas_start_unix_ns = unix_ns;
  describe ();
}

void
RecordStream::close_silence (GstClockTime until)
{
  if (GST_CLOCK_TIME_IS_VALID (gap_start_) && GST_CLOCK_TIME_IS_VALID (until) && until > gap_start_)
    insert (until, gap_line (desc_.stream, gap_start_, until - gap_start_, "silence"));
  gap_start_ = GST_CLOCK_TIME_NONE;
  silent_ = false;
}

GstClockTime
RecordStream::available_horizon () const
{
  return GST_CLOCK_TIME_IS_VALID (horizon_) ? horizon_ + desc_.latency : GST_CLOCK_TIME_NONE;
}

void
RecordStream::mark_silent (GstClockTime available, GstClockTime chunk)
{
  silent_ = true;
  if (!GST_CLOCK_TIME_IS_VALID (available) || available <= desc_.latency)
    return;
  const GstClockTime deadline = available - desc_.latency;
  if (GST_CLOCK_TIME_IS_VALID (horizon_) && deadline <= horizon_)
    return;
  /* A silence is only recorded for a stream that has started. */
  if (caps_ok_ && GST_CLOCK_TIME_IS_VALID (horizon_) && !GST_CLOCK_TIME_IS_VALID (gap_start_))
    gap_start_ = horizon_;
  horizon_ = deadline;
  if (GST_CLOCK_TIME_IS_VALID (gap_start_) && deadline - gap_start_ >= chunk) {
    insert (deadline, gap_line (desc_.stream, gap_start_, deadline - gap_start_, "silence"));
    gap_start_ = deadline;
  }
}

void
RecordStream::add_gap (GstClockTime start, GstClockTime end)
{
  if (!GST_CLOCK_TIME_IS_VALID (start))
    return;
  close_silence (start);
  if (caps_ok_)
    insert (start, gap_line (desc_.stream, start, GST_CLOCK_TIME_IS_VALID (end) ? end - start : 0, "upstream"));
  horizon_ = later (horizon_, later (start, end));
}

void
RecordStream::add_tokens (GstClockTime rt, GstClockTime rt_next, const guint32 *tokens, gint64 window)
{
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return;
  if (GST_CLOCK_TIME_IS_VALID (gap_start_))
    close_silence (rt);
  const GstClockTime duration = GST_CLOCK_TIME_IS_VALID (rt_next) && rt_next > rt ? rt_next - rt : 0;
  insert (rt, tokens_line (desc_.stream, rt, duration, tokens, desc_.channels, desc_.codebooks, window));
  if (window < 0)
    horizon_ = later (horizon_, rt + duration);
  frames_++;
}

void
RecordStream::end_window (GstClockTime next_start)
{
  horizon_ = later (horizon_, next_start);
  windows_++;
}

void
RecordStream::add_event (GstClockTime rt, std::string line)
{
  insert (event_key (rt), std::move (line));
}

void
RecordStream::extend_horizon (GstClockTime t)
{
  horizon_ = later (horizon_, t);
}

void
RecordStream::finish ()
{
  close_silence (horizon_);
  eos_ = true;
  if (caps_ok_)
    insert (event_key (horizon_), end_line (desc_.stream, horizon_, frames_));
}

void
RecordStream::restart ()
{
  pending_.clear ();
  horizon_ = gap_start_ = GST_CLOCK_TIME_NONE;
  eos_ = silent_ = described_ = false;
  first_description_.clear ();
  frames_ = windows_ = 0;
}

void
RecordStream::emit_ready (const std::vector<RecordStream *> &streams, std::string &out)
{
  const GstClockTime limit = emission_limit (streams);
  auto available = [] (const RecordStream *st) { return st->pending_.front ().key + st->desc_.latency; };
  for (;;) {
    RecordStream *best = NULL;
    for (RecordStream *st : streams) {
      if (st->pending_.empty () || (limit != G_MAXUINT64 && available (st) >= limit))
        continue;
      if (!best || available (st) < available (best) ||
          (available (st) == available (best) && st->desc_.stream < best->desc_.stream))
        best = st;
    }
    if (!best)
      return;
    if (!best->described_) {
      out += best->first_description_;
      best->described_ = true;
    }
    out += best->pending_.front ().line;
    best->pending_.pop_front ();
  }
}

}  // namespace neuro
