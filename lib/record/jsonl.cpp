// SPDX-License-Identifier: LGPL-2.1-or-later
#include "jsonl.h"

#include <nlohmann/json.hpp>

#include <ctime>

#include "geometry.h"  /* kNoToken */

namespace neuro {

using Json = nlohmann::ordered_json;

namespace {

/* Invalid UTF-8 (e.g. a Latin-1 EDF+ annotation) is replaced, never fatal. */
std::string
finish (const Json &j)
{
  return j.dump (-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Json
time_or_null (GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID (t) ? Json ((guint64) t) : Json (nullptr);
}

Json
record (const char *type, guint stream)
{
  return Json { {"type", type}, {"stream", stream} };
}

}  // namespace

std::string
iso8601_utc (gint64 unix_ns)
{
  gint64 secs = unix_ns / GST_SECOND;
  gint64 frac = unix_ns % GST_SECOND;
  if (frac < 0) {
    secs -= 1;
    frac += GST_SECOND;
  }
  time_t t = (time_t) secs;
  struct tm tm;
  gmtime_r (&t, &tm);
  char date[32], out[48];
  strftime (date, sizeof (date), "%Y-%m-%dT%H:%M:%S", &tm);
  g_snprintf (out, sizeof (out), "%s.%09" G_GINT64_FORMAT "Z", date, frac);
  return out;
}

std::string
header_line (const HeaderDescription &h)
{
  Json j { {"type", "header"}, {"version", kJsonlVersion},
    {"start-utc", iso8601_utc (h.start_unix_ns)}, {"start-unix-ns", h.start_unix_ns},
    {"clock", h.clock}, {"host", h.host}, {"software", h.software} };
  return finish (j);
}

std::string
stream_line (const StreamDescription &s)
{
  Json j = record ("stream", s.stream);
  j["pad"] = s.pad;
  j["modality"] = s.modality;
  j["channels"] = s.channel_names;
  j["units"] = s.channel_units.empty () ? Json (nullptr) : Json (s.channel_units);
  j["framerate"] = { s.fps_n, s.fps_d };
  j["vocabulary"] = s.vocabulary;
  j["codebooks"] = s.codebooks;
  j["model"] = s.model;
  j["latency"] = s.latency;
  if (!s.model_sha256.empty ())
    j["model-sha256"] = s.model_sha256;
  if (!s.source.empty ())
    j["source"] = s.source;
  if (!s.source_sha256.empty ())
    j["source-sha256"] = s.source_sha256;
  if (s.meas_start_unix_ns >= 0) {
    j["meas-start-utc"] = iso8601_utc (s.meas_start_unix_ns);
    j["meas-start-unix-ns"] = s.meas_start_unix_ns;
  }
  if (s.window_frames > 0) {
    j["window-frames"] = s.window_frames;
    j["window-stride"] = s.window_stride;
  }
  return finish (j);
}

/* "No token" is null, so the list keeps one entry per channel (codebook). */
static Json
token_value (guint32 token)
{
  return token == kNoToken ? Json (nullptr) : Json (token);
}

std::string
tokens_line (guint stream, GstClockTime pts, GstClockTime duration,
    const guint32 *tokens, int channels, int codebooks, gint64 window)
{
  Json values = Json::array ();
  for (int c = 0; c < channels; c++) {
    if (codebooks == 1) {
      values.push_back (token_value (tokens[c]));
      continue;
    }
    Json per_channel = Json::array ();
    for (int k = 0; k < codebooks; k++)
      per_channel.push_back (token_value (tokens[c * codebooks + k]));
    values.push_back (per_channel);
  }
  Json j = record ("tokens", stream);
  j["pts"] = (guint64) pts;
  j["duration"] = (guint64) duration;
  j["tokens"] = values;
  if (window >= 0)
    j["window"] = window;
  return finish (j);
}

std::string
classification_line (guint stream, GstClockTime pts, GstClockTime duration,
    const Classification &c)
{
  Json probabilities = Json::object ();
  for (size_t i = 0; i < c.labels.size () && i < c.probabilities.size (); i++)
    probabilities[c.labels[i]] = c.probabilities[i];
  const bool known = c.class_index >= 0 && (size_t) c.class_index < c.labels.size ();
  Json j = record ("classification", stream);
  j["pts"] = time_or_null (pts);
  j["duration"] = time_or_null (duration);
  j["label"] = known ? Json (c.labels[c.class_index]) : Json (nullptr);
  j["class"] = c.class_index;
  j["probabilities"] = probabilities;
  if (c.missing_tokens > 0)
    j["missing-tokens"] = c.missing_tokens;
  return finish (j);
}

std::string
annotation_line (guint stream, GstClockTime pts, GstClockTime duration, const std::string &text)
{
  Json j = record ("annotation", stream);
  j["pts"] = time_or_null (pts);
  j["duration"] = time_or_null (duration);
  j["text"] = text;
  return finish (j);
}

std::string
gap_line (guint stream, GstClockTime pts, GstClockTime duration, const char *cause)
{
  Json j = record ("gap", stream);
  j["pts"] = (guint64) pts;
  j["duration"] = (guint64) duration;
  j["cause"] = cause;
  return finish (j);
}

std::string
end_line (guint stream, GstClockTime pts, guint64 frames)
{
  Json j = record ("end", stream);
  j["pts"] = time_or_null (pts);
  j["frames"] = frames;
  return finish (j);
}

}  // namespace neuro
