// SPDX-License-Identifier: LGPL-2.1-or-later
#include "media.h"

#include "stft.h"
#include "utf8.h"

namespace neuro {

namespace {

std::string
string_list (const std::vector<std::string> &names)
{
  std::string out = "{ ";
  for (size_t i = 0; i < names.size (); i++)
    out += (i ? ", " : "") + names[i];
  return out + " }";
}

/* "channels=5000 exceeds the limit of 4096" when value > limit, else "". */
std::string
over_limit (const char *what, int value, int limit)
{
  return value > limit ? std::string (what) + "=" + std::to_string (value) + " exceeds the limit of " +
      std::to_string (limit) : std::string ();
}

bool
has_name (const std::vector<std::string> &names, const char *name)
{
  for (const std::string &n : names)
    if (n == name)
      return true;
  return false;
}

}  // namespace

GstCaps *
spectrogram_template_caps ()
{
  const std::string caps = std::string (kSpectrogramMediaType) +
      ", rate=(int)[1, MAX], channels=(int)[1, MAX], n-fft=(int)[2, " + std::to_string (kMaxNfft) +
      "], hop=(int)[1, MAX], bins=(int)[1, MAX], window=(string)" + string_list (stft_window_names ()) +
      ", scaling=(string)" + string_list (stft_scaling_names ()) +
      ", waveform=(boolean){ true, false }, framerate=(fraction)[0/1, MAX]";
  return gst_caps_from_string (caps.c_str ());
}

GstCaps *
tokens_template_caps ()
{
  const std::string caps = std::string (kTokensMediaType) +
      ", channels=(int)[1, MAX], vocabulary=(int)[1, MAX], codebooks=(int)[1, MAX], "
      "framerate=(fraction)[0/1, MAX]";
  return gst_caps_from_string (caps.c_str ());
}

std::string
one_of (const std::vector<std::string> &names)
{
  std::string out;
  for (size_t i = 0; i < names.size (); i++)
    out += (i == 0 ? "" : i + 1 == names.size () ? " or " : ", ") + names[i];
  return out;
}

std::string
SpectrogramInfo::from_caps (const GstStructure *s, SpectrogramInfo &out)
{
  if (!gst_structure_has_name (s, kSpectrogramMediaType))
    return std::string ("expected ") + kSpectrogramMediaType + ", got " + valid_utf8 (gst_structure_get_name (s));
  SpectrogramInfo info;
  if (!gst_structure_get_int (s, "rate", &info.rate) || !gst_structure_get_int (s, "channels", &info.channels)
      || !gst_structure_get_int (s, "n-fft", &info.n_fft) || !gst_structure_get_int (s, "hop", &info.hop)
      || !gst_structure_get_int (s, "bins", &info.bins))
    return "the spectrogram caps lack one of rate, channels, n-fft, hop, bins";
  /* As the template caps require: a zero hop would also make the framerate
   * (rate / hop) a fraction over zero. */
  if (info.rate < 1 || info.channels < 1 || info.n_fft < 2 || info.n_fft > kMaxNfft || info.hop < 1 ||
      info.bins < 1)
    return "spectrogram caps need rate, channels, hop and bins of at least 1 and n-fft in 2.." +
        std::to_string (kMaxNfft) + " (rate=" + std::to_string (info.rate) + ", channels=" +
        std::to_string (info.channels) + ", n-fft=" + std::to_string (info.n_fft) + ", hop=" +
        std::to_string (info.hop) + ", bins=" + std::to_string (info.bins) + ")";
  const char *window = gst_structure_get_string (s, "window");
  const char *scaling = gst_structure_get_string (s, "scaling");
  gboolean waveform = FALSE;
  if (window && !has_name (stft_window_names (), window))
    return "unknown window \"" + valid_utf8 (window) + "\": use " + one_of (stft_window_names ());
  if (scaling && !has_name (stft_scaling_names (), scaling))
    return "unknown scaling \"" + valid_utf8 (scaling) + "\": use " + one_of (stft_scaling_names ());
  if (const std::string problem = over_limit ("channels", info.channels, kMaxChannels); !problem.empty ())
    return "spectrogram " + problem;
  if (window)
    info.window = window;
  if (scaling)
    info.scaling = scaling;
  info.waveform = gst_structure_get_boolean (s, "waveform", &waveform) && waveform;
  out = info;
  return "";
}

GstStructure *
SpectrogramInfo::to_structure () const
{
  GstStructure *s = gst_structure_new (kSpectrogramMediaType,
      "rate", G_TYPE_INT, rate,
      "n-fft", G_TYPE_INT, n_fft,
      "hop", G_TYPE_INT, hop,
      "bins", G_TYPE_INT, bins,
      "window", G_TYPE_STRING, window.c_str (),
      "scaling", G_TYPE_STRING, scaling.c_str (),
      "waveform", G_TYPE_BOOLEAN, (gboolean) waveform,
      "framerate", GST_TYPE_FRACTION, rate, hop, NULL);
  if (channels > 0)
    gst_structure_set (s, "channels", G_TYPE_INT, channels, NULL);
  return s;
}

WindowGeometry
SpectrogramInfo::geometry () const
{
  WindowGeometry g;
  g.channels = channels;
  g.rate = rate;
  g.n_fft = n_fft;
  g.hop = hop;
  g.bins = bins;
  return g;
}

std::string
TokensInfo::from_caps (const GstStructure *s, TokensInfo &out)
{
  if (!gst_structure_has_name (s, kTokensMediaType))
    return std::string ("expected ") + kTokensMediaType + ", got " + valid_utf8 (gst_structure_get_name (s));
  TokensInfo info;
  gst_structure_get_int (s, "codebooks", &info.codebooks);
  if (!gst_structure_get_int (s, "channels", &info.channels) ||
      !gst_structure_get_int (s, "vocabulary", &info.vocabulary) ||
      !gst_structure_get_fraction (s, "framerate", &info.fps_n, &info.fps_d) ||
      info.channels < 1 || info.vocabulary < 1 || info.codebooks < 1 || info.fps_n <= 0 || info.fps_d <= 0)
    return std::string (kTokensMediaType) + " needs channels, vocabulary and codebooks of at least 1 "
        "and a positive framerate";
  const bool has_frames = gst_structure_has_field (s, "window-frames");
  const bool has_stride = gst_structure_has_field (s, "window-stride");
  if ((has_frames || has_stride) &&
      !(gst_structure_get_int (s, "window-frames", &info.window_frames) &&
          gst_structure_get_int (s, "window-stride", &info.window_stride) && info.window_frames >= 1 &&
          info.window_stride >= 1))
    return "overlapping windows need both window-frames and window-stride as positive ints";
  for (const std::string &problem : {over_limit ("channels", info.channels, kMaxChannels),
           over_limit ("vocabulary", info.vocabulary, kMaxVocabulary),
           over_limit ("codebooks", info.codebooks, kMaxCodebooks)})
    if (!problem.empty ())
      return std::string (kTokensMediaType) + " " + problem;
  const char *modality = gst_structure_get_string (s, "modality");
  const char *model = gst_structure_get_string (s, "model");
  const char *model_sha256 = gst_structure_get_string (s, "model-sha256");
  info.modality = modality ? modality : "";
  info.model = model ? model : "";
  info.model_sha256 = model_sha256 ? model_sha256 : "";
  out = info;
  return "";
}

GstStructure *
TokensInfo::to_structure () const
{
  GstStructure *s = gst_structure_new (kTokensMediaType,
      "vocabulary", G_TYPE_INT, vocabulary,
      "codebooks", G_TYPE_INT, codebooks,
      "framerate", GST_TYPE_FRACTION, fps_n, fps_d, NULL);
  if (channels > 0)
    gst_structure_set (s, "channels", G_TYPE_INT, channels, NULL);
  if (!modality.empty ())
    gst_structure_set (s, "modality", G_TYPE_STRING, modality.c_str (), NULL);
  if (!model.empty ())
    gst_structure_set (s, "model", G_TYPE_STRING, model.c_str (), NULL);
  if (!model_sha256.empty ())
    gst_structure_set (s, "model-sha256", G_TYPE_STRING, model_sha256.c_str (), NULL);
  if (window_frames > 0)
    gst_structure_set (s, "window-frames", G_TYPE_INT, window_frames, "window-stride", G_TYPE_INT,
        window_stride, NULL);
  return s;
}

GstClockTime
TokensInfo::frame_time (guint64 frame) const
{
  return gst_util_uint64_scale (frame * (guint64) fps_d, GST_SECOND, (guint64) fps_n);
}

bool
continues_run (GstClockTime expected, GstClockTime pts, GstClockTime frame_period)
{
  const GstClockTime distance = pts > expected ? pts - expected : expected - pts;
  return distance <= frame_period / 2;
}

}  // namespace neuro
