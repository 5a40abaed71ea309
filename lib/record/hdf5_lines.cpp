// SPDX-License-Identifier: LGPL-2.1-or-later
#include "hdf5_lines.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace neuro {

/* Ordered, so that probabilities keep their label order. */
using Json = nlohmann::ordered_json;

namespace {

int64_t
time_of (const Json &j, const char *key)
{
  const auto it = j.find (key);
  return it == j.end () || it->is_null () ? kHdf5NoTime : it->get<int64_t> ();
}

Hdf5StreamInfo
stream_info (const Json &j)
{
  Hdf5StreamInfo s;
  s.stream = j.at ("stream").get<unsigned> ();
  s.modality = j.value ("modality", "");
  s.channel_names = j.at ("channels").get<std::vector<std::string>> ();
  s.channels = (int) s.channel_names.size ();
  if (j.contains ("units") && j["units"].is_array ())
    s.channel_units = j["units"].get<std::vector<std::string>> ();
  s.fps_n = j.at ("framerate").at (0).get<int> ();
  s.fps_d = j.at ("framerate").at (1).get<int> ();
  s.vocabulary = j.at ("vocabulary").get<int64_t> ();
  s.codebooks = j.value ("codebooks", 1);
  s.model = j.value ("model", "");
  s.model_sha256 = j.value ("model-sha256", "");
  s.source = j.value ("source", "");
  s.source_sha256 = j.value ("source-sha256", "");
  s.window_frames = j.value ("window-frames", 0);
  s.window_stride = j.value ("window-stride", 0);
  return s;
}

/* One value per channel, or one list of codebooks per channel; null is "no token". */
void
flatten_tokens (const Json &values, std::vector<uint32_t> &out)
{
  for (const Json &v : values) {
    if (v.is_array ())
      flatten_tokens (v, out);
    else
      out.push_back (v.is_null () ? kNoToken : v.get<uint32_t> ());
  }
}

}  // namespace

Hdf5Status
Hdf5LineRecorder::create (const std::string &location, bool overwrite)
{
  file_info_ = Hdf5FileInfo ();
  streams_.clear ();
  return rec_.create (location, overwrite);
}

Hdf5Status
Hdf5LineRecorder::take_lines (const std::string &lines)
{
  size_t start = 0;
  while (start < lines.size ()) {
    size_t end = lines.find ('\n', start);
    if (end == std::string::npos)
      end = lines.size ();
    if (end > start) {
      Hdf5Status s = take_line (lines.substr (start, end - start));
      if (!s.ok)
        return s;
    }
    start = end + 1;
  }
  return Hdf5Status ();
}

Hdf5Status
Hdf5LineRecorder::take_line (const std::string &line)
{
  Json j;
  try {
    j = Json::parse (line);
    const std::string type = j.at ("type").get<std::string> ();
    if (type == "header") {
      file_info_.start_utc = j.value ("start-utc", "");
      file_info_.start_unix_ns = j.value ("start-unix-ns", (int64_t) 0);
      file_info_.host = j.value ("host", "");
      file_info_.software = j.value ("software", "");
      return Hdf5Status ();
    }
    const unsigned stream = j.at ("stream").get<unsigned> ();
    if (type == "stream") {
      Hdf5StreamInfo info = stream_info (j);
      streams_[stream] = info;
      return rec_.describe_stream (info);
    }
    if (type == "tokens") {
      std::vector<uint32_t> tokens;
      flatten_tokens (j.at ("tokens"), tokens);
      const Hdf5StreamInfo &info = streams_[stream];
      if (tokens.size () != (size_t) info.channels * info.codebooks)
        throw std::runtime_error ("tokens record of the wrong shape");
      const int64_t pts = time_of (j, "pts"), duration = time_of (j, "duration");
      const int64_t window = j.value ("window", (int64_t) -1);
      return rec_.append_tokens (stream, &pts, &duration, tokens.data (), 1, &window);
    }
    if (type == "classification") {
      std::vector<std::string> labels;
      std::vector<double> probabilities;
      for (const auto &item : j.at ("probabilities").items ()) {
        labels.push_back (item.key ());
        probabilities.push_back (item.value ().get<double> ());
      }
      return rec_.add_classification (stream, time_of (j, "pts"), time_of (j, "duration"),
          j.at ("class").get<int> (), labels, probabilities, j.value ("missing-tokens", 0u));
    }
    if (type == "annotation")
      return rec_.add_annotation (stream, time_of (j, "pts"), time_of (j, "duration"),
          j.at ("text").get<std::string> ());
    if (type == "gap")
      return rec_.add_gap (stream, time_of (j, "pts"), time_of (j, "duration"),
          j.value ("cause", ""));
    return Hdf5Status ();       /* end, and records of later versions */
  } catch (const std::exception &e) {
    Hdf5Status s = Hdf5Status::failure ("Unreadable record for \"" + rec_.location () + "\": " +
        e.what () + ": " + line.substr (0, 200));
    rec_.abort ();
    return s;
  }
}

Hdf5Status
Hdf5LineRecorder::finish ()
{
  for (const auto &entry : streams_) {
    const Hdf5StreamInfo &info = entry.second;
    if (!info.source.empty ()) {
      file_info_.source = info.source;
      file_info_.source_sha256 = info.source_sha256;
      break;
    }
  }
  rec_.set_file_info (file_info_);
  return rec_.finish ();
}

void
Hdf5LineRecorder::abort ()
{
  rec_.abort ();
}

}  // namespace neuro
