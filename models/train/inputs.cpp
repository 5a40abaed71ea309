// SPDX-License-Identifier: LGPL-2.1-or-later
#include "inputs.h"

#include "resampler.h"

#include <gst/app/gstappsink.h>
#include <gst/audio/audio.h>
#include <gst/gst.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace neuro::train {

namespace {

std::string
lower_extension (const std::string &path)
{
  std::string ext = std::filesystem::path (path).extension ().string ();
  std::transform (ext.begin (), ext.end (), ext.begin (), [] (unsigned char c) { return std::tolower (c); });
  return ext;
}

bool
is_eeg_file (const std::string &ext)
{
  return ext == ".edf" || ext == ".bdf";
}

bool
is_audio_file (const std::string &ext)
{
  return ext == ".wav" || ext == ".flac" || ext == ".ogg" || ext == ".oga" || ext == ".mp3" || ext == ".opus";
}

bool
is_text_file (const std::string &ext)
{
  return ext == ".txt" || ext == ".csv" || ext == ".tsv" || ext == ".arff";
}

[[noreturn]] void
fail (const std::string &path, const std::string &what)
{
  throw InputError (path + ": " + what);
}

/* Every sample must be finite: one NaN would poison a whole batch's loss. */
void
check_finite (const Recording &rec)
{
  for (size_t c = 0; c < rec.channels.size (); c++) {
    const auto &x = rec.channels[c];
    auto bad = std::find_if (x.begin (), x.end (), [] (float v) { return !std::isfinite (v); });
    if (bad != x.end ())
      fail (rec.path, "channel " + rec.channel_names[c] + " has a non-finite value (NaN or infinity) at sample "
          + std::to_string (bad - x.begin ()) + "; clean the file or leave it out");
  }
}

/* ---- EDF / BDF ---------------------------------------------------------- */

Recording
read_edf (const std::string &path, const InputOptions &opts)
{
  EegRecording eeg;
  try {
    eeg = read_eeg_file (path, opts.channels, {}, opts.rate);
  } catch (const std::exception &e) {
    throw InputError (e.what ());  /* already names the file */
  }
  Recording rec;
  rec.path = path;
  rec.rate = eeg.rate;
  rec.channel_names = eeg.channel_names;
  for (size_t c = 0; c < eeg.channel_names.size (); c++)
    rec.channels.emplace_back (eeg.channel (c), eeg.channel (c) + eeg.n_samples);
  rec.annotations = eeg.annotations;
  return rec;
}

/* ---- audio through GStreamer -------------------------------------------- */

struct GstPipelineGuard {
  GstElement *pipeline = nullptr;
  ~GstPipelineGuard ()
  {
    if (pipeline) {
      gst_element_set_state (pipeline, GST_STATE_NULL);
      gst_object_unref (pipeline);
    }
  }
};

GstElement *
make_decode_pipeline (const std::string &path, const InputOptions &opts)
{
  GError *err = nullptr;
  gchar *uri = gst_filename_to_uri (path.c_str (), &err);
  if (!uri) {
    std::string why = err ? err->message : "bad file name";
    g_clear_error (&err);
    fail (path, why);
  }
  std::string caps = "audio/x-raw,format=F32LE,layout=interleaved,rate=" + std::to_string (opts.rate);
  if (opts.mono)
    caps += ",channels=1";
  std::string desc = std::string ("uridecodebin uri=\"") + uri + "\" ! audioconvert ! audioresample ! "
      + caps + " ! appsink name=sink sync=false";
  g_free (uri);
  GstElement *pipeline = gst_parse_launch (desc.c_str (), &err);
  if (!pipeline) {
    std::string why = err ? err->message : "cannot build the decoding pipeline";
    g_clear_error (&err);
    fail (path, why);
  }
  g_clear_error (&err);
  return pipeline;
}

/* Appends one buffer's interleaved frames to the channel vectors. */
void
append_sample (GstSample *sample, Recording &rec)
{
  GstAudioInfo info;
  if (!gst_audio_info_from_caps (&info, gst_sample_get_caps (sample)))
    fail (rec.path, "decoder produced unusable caps");
  int ch = GST_AUDIO_INFO_CHANNELS (&info);
  if (rec.channels.empty ()) {
    rec.channels.resize (ch);
    for (int c = 0; c < ch; c++)
      rec.channel_names.push_back (ch == 1 ? "mono" : "ch" + std::to_string (c + 1));
  }
  GstMapInfo map;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  const float *x = reinterpret_cast<const float *> (map.data);
  size_t frames = map.size / (sizeof (float) * ch);
  for (size_t i = 0; i < frames; i++)
    for (int c = 0; c < ch; c++)
      rec.channels[c].push_back (x[i * ch + c]);
  gst_buffer_unmap (buf, &map);
}

/* Empty when the bus holds no error, else the first error's text. */
std::string
pending_error (GstBus *bus)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (!msg)
    return "";
  GError *err = nullptr;
  gst_message_parse_error (msg, &err, nullptr);
  std::string text = err && err->message ? err->message : "decoding failed";
  g_clear_error (&err);
  gst_message_unref (msg);
  return text;
}

Recording
read_audio (const std::string &path, const InputOptions &opts)
{
  if (!gst_is_initialized ())
    gst_init (nullptr, nullptr);
  if (!std::filesystem::is_regular_file (path))
    fail (path, "no such file");
  GstPipelineGuard guard;
  guard.pipeline = make_decode_pipeline (path, opts);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (guard.pipeline), "sink");
  GstBus *bus = gst_element_get_bus (guard.pipeline);
  Recording rec;
  rec.path = path;
  rec.rate = opts.rate;
  gst_element_set_state (guard.pipeline, GST_STATE_PLAYING);
  std::string error;
  /* Poll, so that a decoder error (which never reaches the appsink as EOS)
   * ends the loop instead of blocking forever. */
  while (error.empty ()) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 100 * GST_MSECOND);
    if (sample) {
      append_sample (sample, rec);
      gst_sample_unref (sample);
    } else if (gst_app_sink_is_eos (GST_APP_SINK (sink))) {
      break;
    }
    error = pending_error (bus);
  }
  gst_object_unref (bus);
  gst_object_unref (sink);
  if (!error.empty ())
    fail (path, "cannot decode: " + error);
  if (rec.n_samples () == 0)
    fail (path, "no audio samples (empty or undecodable file)");
  return rec;
}

/* ---- text, CSV, ARFF ------------------------------------------------------ */

std::vector<std::string>
split_fields (const std::string &line)
{
  std::vector<std::string> out;
  std::string cur;
  for (char ch : line) {
    if (ch == ',' || ch == ';' || ch == '\t' || ch == ' ') {
      if (!cur.empty ())
        out.push_back (cur);
      cur.clear ();
    } else if (ch != '\r') {
      cur += ch;
    }
  }
  if (!cur.empty ())
    out.push_back (cur);
  return out;
}

bool
parse_number (const std::string &s, double &v)
{
  char *end = nullptr;
  v = std::strtod (s.c_str (), &end);
  return end && *end == '\0' && end != s.c_str ();
}

struct Table {
  std::vector<std::string> names;
  std::vector<bool> nominal;  /* ARFF {a,b} attributes: class labels, not signals */
  std::vector<std::vector<double>> columns;
};

/* Column names: a header row of words, ARFF @ATTRIBUTE lines, or col1..colN. */
Table
read_table (const std::string &path)
{
  std::ifstream in (path);
  if (!in)
    fail (path, "cannot open");
  Table t;
  std::string line;
  bool arff_data = false, arff = lower_extension (path) == ".arff";
  size_t lineno = 0;
  while (std::getline (in, line)) {
    lineno++;
    auto f = split_fields (line);
    if (f.empty () || f[0][0] == '%' || f[0][0] == '#')
      continue;
    if (arff && !arff_data) {
      std::string key = f[0];
      std::transform (key.begin (), key.end (), key.begin (), ::tolower);
      if (key == "@attribute" && f.size () > 2) {
        t.names.push_back (f[1]);
        t.nominal.push_back (f[2][0] == '{');
      }
      arff_data = key == "@data";
      continue;
    }
    std::vector<double> row (f.size ());
    bool numeric = true;
    for (size_t i = 0; i < f.size () && numeric; i++)
      numeric = parse_number (f[i], row[i]);
    if (!numeric) {
      if (t.columns.empty () && t.names.empty ()) {
        t.names = f;  /* header row */
        continue;
      }
      fail (path, "line " + std::to_string (lineno) + ": not a number in \"" + line + "\"");
    }
    if (t.columns.empty ())
      t.columns.resize (row.size ());
    if (row.size () != t.columns.size ())
      fail (path, "line " + std::to_string (lineno) + ": " + std::to_string (row.size ()) + " columns, expected "
          + std::to_string (t.columns.size ()));
    for (size_t i = 0; i < row.size (); i++)
      t.columns[i].push_back (row[i]);
  }
  if (t.columns.empty () || t.columns[0].empty ())
    fail (path, "no numeric rows");
  if (t.names.size () != t.columns.size ()) {
    t.names.clear ();
    for (size_t i = 0; i < t.columns.size (); i++)
      t.names.push_back (t.columns.size () == 1 ? "value" : "col" + std::to_string (i + 1));
  }
  return t;
}

int
find_column (const Table &t, const std::string &name)
{
  for (size_t i = 0; i < t.names.size (); i++)
    if (g_ascii_strcasecmp (t.names[i].c_str (), name.c_str ()) == 0)
      return static_cast<int> (i);
  return -1;
}

/* Signal columns: the requested ones, else all but a time and the label column. */
std::vector<int>
signal_columns (const Table &t, const InputOptions &opts, const std::string &path)
{
  std::vector<int> cols;
  for (const auto &name : opts.channels) {
    int i = find_column (t, name);
    if (i < 0)
      fail (path, "no column named \"" + name + "\"");
    cols.push_back (i);
  }
  if (!cols.empty ())
    return cols;
  for (size_t i = 0; i < t.names.size (); i++) {
    std::string n = t.names[i];
    bool nominal = i < t.nominal.size () && t.nominal[i];
    if (nominal || g_ascii_strcasecmp (n.c_str (), "time") == 0
        || g_ascii_strcasecmp (n.c_str (), opts.label_column.c_str ()) == 0)
      continue;
    cols.push_back (static_cast<int> (i));
  }
  return cols;
}

float
median (std::vector<float> x)
{
  std::nth_element (x.begin (), x.begin () + x.size () / 2, x.end ());
  return x[x.size () / 2];
}

std::vector<float>
resample_channel (const std::vector<float> &x, double in_rate, int out_rate)
{
  if (static_cast<int> (in_rate) == out_rate)
    return x;
  Resampler rs (1, static_cast<int> (std::lround (in_rate)), out_rate);
  std::vector<float> out;
  rs.process (x.data (), x.size (), true, out);
  return out;
}

/* Per-sample labels resampled by nearest input sample. */
std::vector<int>
resample_labels (const std::vector<double> &labels, double in_rate, int out_rate, size_t n_out)
{
  std::vector<int> out (n_out);
  for (size_t i = 0; i < n_out; i++) {
    size_t src = std::min (labels.size () - 1, static_cast<size_t> (std::floor (i * in_rate / out_rate)));
    out[i] = static_cast<int> (std::lround (labels[src]));
  }
  return out;
}

Recording
read_text (const std::string &path, const InputOptions &opts)
{
  if (opts.text_rate <= 0)
    fail (path, "text/CSV input has no sample rate: pass --rate HZ");
  Table t = read_table (path);
  Recording rec;
  rec.path = path;
  rec.rate = opts.rate;
  for (int i : signal_columns (t, opts, path)) {
    std::vector<float> x (t.columns[i].begin (), t.columns[i].end ());
    rec.channel_names.push_back (t.names[i]);
    rec.channels.push_back (std::move (x));
  }
  if (rec.channels.empty ())
    fail (path, "no signal columns");
  check_finite (rec);
  for (auto &x : rec.channels) {
    if (opts.remove_dc) {
      float m = median (x);
      for (float &v : x)
        v -= m;
    }
    x = resample_channel (x, opts.text_rate, opts.rate);
  }
  if (!opts.label_column.empty ()) {
    int li = find_column (t, opts.label_column);
    if (li < 0)
      fail (path, "no label column named \"" + opts.label_column + "\"");
    rec.sample_labels = resample_labels (t.columns[li], opts.text_rate, opts.rate, rec.n_samples ());
  }
  return rec;
}

}  // namespace

bool
is_supported_input (const std::string &path)
{
  std::string ext = lower_extension (path);
  return is_eeg_file (ext) || is_audio_file (ext) || is_text_file (ext);
}

std::vector<std::string>
expand_inputs (const std::vector<std::string> &paths)
{
  std::vector<std::string> out;
  for (const auto &p : paths) {
    if (!std::filesystem::is_directory (p)) {
      out.push_back (p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto &e : std::filesystem::recursive_directory_iterator (p))
      if (e.is_regular_file () && is_supported_input (e.path ().string ()))
        found.push_back (e.path ().string ());
    std::sort (found.begin (), found.end ());
    out.insert (out.end (), found.begin (), found.end ());
  }
  return out;
}

Recording
read_input (const std::string &path, const InputOptions &opts)
{
  std::string ext = lower_extension (path);
  Recording rec;
  if (is_eeg_file (ext))
    rec = read_edf (path, opts);
  else if (is_audio_file (ext))
    rec = read_audio (path, opts);
  else if (is_text_file (ext))
    rec = read_text (path, opts);
  else
    fail (path, "unknown input format \"" + ext + "\" (EDF/BDF, WAV/FLAC/OGG, TXT/CSV/TSV/ARFF)");
  if (rec.n_samples () == 0)
    fail (path, "no samples");
  check_finite (rec);
  return rec;
}

}  // namespace neuro::train
