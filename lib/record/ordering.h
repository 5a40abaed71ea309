// SPDX-License-Identifier: LGPL-2.1-or-later
/* tokensink's ordering engine: the records of several token streams, each
 * in running-time order, merged into one file by availability
 * (docs/tokensink.md, "Order").
 *
 * GStreamer-element-free: the element converts timestamps to running time
 * and hands over what its pads received; this decides when each line can be
 * written. A record's place is a running time; its availability is that
 * place plus its stream's upstream latency (the running time at which its
 * content could first exist), and the file is sorted by availability. A
 * stream's horizon is the running time up to which its content is known
 * (its next record cannot be placed earlier); a record is written once every
 * stream still running has a horizon whose availability is past the
 * record's. So a fast stream's lines wait for its own latency, not for a
 * slow stream's window: a kill loses about each stream's own latency. With
 * equal latencies (one stream, or none reported) this is running-time
 * order. Ties go to the lower stream number, so the file does not depend on
 * how data arrived. */
#pragma once

#include <gst/gst.h>

#include <deque>
#include <string>
#include <vector>

#include "jsonl.h"
#include "media.h"

namespace neuro {

struct PendingRecord {
  GstClockTime key;             /* running time that places the line in its stream */
  std::string line;
};

class RecordStream {
 public:
  /* Pad number and name (set once, when the pad is made). */
  void set_pad (guint stream, const std::string &pad);

  /* Caps accepted: the stream can record from now on. */
  void set_caps (const TokensInfo &caps);
  /* Tag values; empty ones keep what was known. */
  void set_tags (const std::string &modality, const std::string &source, const std::vector<std::string> &names,
      const std::vector<std::string> &units);
  /* The source's measurement start (GST_TAG_DATE_TIME), ns since the epoch, UTC. */
  void set_measurement_start (gint64 unix_ns);
  /* The stream's upstream latency (LATENCY query, ns; 0 when none is
   * reported): its records are available that long after their place.
   * Set before the caps it comes with, so their stream line states it. */
  void set_latency (GstClockTime latency) { desc_.latency = latency; }

  /* One token frame at running time rt (GST_CLOCK_TIME_NONE: outside the
   * segment, dropped), the next frame at rt_next. On a stream of overlapping
   * windows (caps window-frames) `window` is the frame's window, and the
   * horizon moves only with end_window(). */
  void add_tokens (GstClockTime rt, GstClockTime rt_next, const guint32 *tokens, gint64 window = -1);
  /* Overlapping windows: a window was recorded and the next one starts at
   * running time next_start, so the stream's content is known up to there
   * (its later frames recur in the next window). */
  void end_window (GstClockTime next_start);
  /* Windows recorded since the start: the index of the next one when the
   * buffers carry no offsets. */
  guint64 windows () const { return windows_; }
  /* An upstream GAP from start to end (end may equal start). */
  void add_gap (GstClockTime start, GstClockTime end);
  /* A classification or annotation line dated rt (placed no earlier than
   * the horizon: a decision comes after its window). */
  void add_event (GstClockTime rt, std::string line);
  /* The stream's data is known up to t (e.g. a buffer's end). */
  void extend_horizon (GstClockTime t);
  /* A live stream delivered nothing that is available by `available`
   * (running time now minus the time granted to late inputs): it no longer
   * holds the others back, and its silence, up to `available` minus its
   * latency, is recorded in gap records of at most `chunk`. */
  void mark_silent (GstClockTime available, GstClockTime chunk);
  /* Data arrived (or not) in the last pass; silent() is what mark_silent needs. */
  void set_silent (bool silent) { silent_ = silent; }
  /* EOS: closes a silence and queues the end record. */
  void finish ();
  /* Flushing seek: starts over (described again). */
  void restart ();

  bool caps_ok () const { return caps_ok_; }
  bool eos () const { return eos_; }
  bool silent () const { return silent_; }
  bool done () const { return eos_ && pending_.empty (); }
  GstClockTime horizon () const { return horizon_; }
  GstClockTime latency () const { return desc_.latency; }
  /* When the stream's next record could be available (NONE before data). */
  GstClockTime available_horizon () const;
  const StreamDescription &description () const { return desc_; }

  /* Every record that can be written now across `streams`, in file order;
   * a stream's description line goes before its first record. */
  static void emit_ready (const std::vector<RecordStream *> &streams, std::string &out);

 private:
  void insert (GstClockTime key, std::string line);
  GstClockTime event_key (GstClockTime rt) const;
  void describe ();
  void close_silence (GstClockTime until);

  StreamDescription desc_;
  std::string caps_modality_, tag_modality_;
  std::vector<std::string> tag_names_, tag_units_;
  bool caps_ok_ = false;
  bool described_ = false;        /* the first stream line has been written */
  std::string first_description_; /* the stream line as of the first record */

  std::deque<PendingRecord> pending_;    /* sorted by key */
  GstClockTime horizon_ = GST_CLOCK_TIME_NONE;  /* NONE before the first data */
  bool eos_ = false;
  bool silent_ = false;           /* had no data at the last live timeout */
  GstClockTime gap_start_ = GST_CLOCK_TIME_NONE; /* open silence */
  guint64 frames_ = 0;
  guint64 windows_ = 0;
};

}  // namespace neuro
