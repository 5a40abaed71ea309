// SPDX-License-Identifier: LGPL-2.1-or-later
/* The tokensink JSON Lines records (docs/tokensink.md, "File format").
 *
 * Every function returns one complete line, terminated by '\n', so a writer
 * only ever hands whole lines to the kernel. Times are nanoseconds. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "events.h"

namespace neuro {

constexpr int kJsonlVersion = 1;

struct StreamDescription {
  guint stream = 0;                     /* index of the sink pad (sink_%u) */
  std::string pad;                      /* pad name, e.g. "sink_0" */
  std::string modality;
  std::vector<std::string> channel_names;
  std::vector<std::string> channel_units; /* empty when unknown */
  int channels = 0;
  int vocabulary = 0;
  int codebooks = 1;
  int fps_n = 0, fps_d = 1;
  std::string model;
  std::string model_sha256;             /* caps model-sha256; empty when unknown */
  std::string source;                   /* neuro-source tag; empty when unknown */
  std::string source_sha256;            /* SHA-256 of that file, hex; empty when unknown */
  gint64 meas_start_unix_ns = -1;       /* GST_TAG_DATE_TIME of the source (its measurement
                                           start, UTC); -1 when unknown */
  /* Overlapping windows (caps window-frames, window-stride): frames per
   * window and frames between window starts; 0 for a plain stream. */
  int window_frames = 0, window_stride = 0;
  /* Upstream latency (LATENCY query), ns: a record is available that long
   * after its running time; 0 when none is reported. */
  GstClockTime latency = 0;
};

struct HeaderDescription {
  gint64 start_unix_ns = 0;             /* UTC wall-clock time of running time 0 */
  std::string clock;                    /* name of the pipeline clock's type */
  std::string host;
  std::string software;
};

/* "2026-11-23T19:04:08.123456789Z" */
std::string iso8601_utc (gint64 unix_ns);

std::string header_line (const HeaderDescription &h);
std::string stream_line (const StreamDescription &s);
/* tokens holds channels × codebooks values, channel-major, kNoToken written
 * as null; window >= 0 is the index of the overlapping window the frame
 * belongs to. */
std::string tokens_line (guint stream, GstClockTime pts, GstClockTime duration,
    const guint32 *tokens, int channels, int codebooks, gint64 window = -1);
std::string classification_line (guint stream, GstClockTime pts, GstClockTime duration,
    const Classification &c);
std::string annotation_line (guint stream, GstClockTime pts, GstClockTime duration,
    const std::string &text);
std::string gap_line (guint stream, GstClockTime pts, GstClockTime duration, const char *cause);
std::string end_line (guint stream, GstClockTime pts, guint64 frames);

}  // namespace neuro
