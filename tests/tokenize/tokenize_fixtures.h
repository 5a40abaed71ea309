// SPDX-License-Identifier: LGPL-2.1-or-later
/* Fixtures shared by the tfmtokenize element tests (test_tfmtokenize.cpp,
 * test_sliding.cpp): test signals and their spectrogram frames, the direct
 * reference (windows cut and tokenized by hand through the model library),
 * harness helpers. Models: random-weight tokenizers of the authors' 2x2x8
 * shape, written at build time by make_test_tokenizer.py into the build dir. */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "stft.h"
#include "test_paths.h"
#include "tfm_models.h"

constexpr int RATE = 200;
constexpr int N_FFT = 200;
constexpr int HOP = 100;
constexpr int BINS = 100;
constexpr int L = 2000;       /* window samples of the 10 s test model */
constexpr int T = 19;         /* token frames per window */
constexpr int S = L / HOP;    /* frames per window stride */

inline std::string
model_10s ()
{
  return neuro_test::build_dir () + "/tests/tokenize/test-tokenizer-10s.safetensors";
}

/* ---- signals and frames ---------------------------------------------------- */

/* Channel-major EEG-like test signal (uV): alpha, slower waves and noise,
 * different per channel. */
inline std::vector<float>
test_signal (int channels, size_t n_samples, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  std::vector<float> x ((size_t) channels * n_samples);
  for (int c = 0; c < channels; c++) {
    const double f = 8.0 + 0.1 * c;
    for (size_t i = 0; i < n_samples; i++) {
      const double t = (double) i / RATE;
      x[(size_t) c * n_samples + i] = (float) (20.0 * std::sin (2 * G_PI * f * t + c) +
          10.0 * std::sin (2 * G_PI * 1.3 * t) * (1 + c % 3) + g_rand_double_range (rand, -8.0, 8.0));
    }
  }
  g_rand_free (rand);
  return x;
}

inline std::vector<float>
interleave (const std::vector<float> & x, int channels)
{
  const size_t n = x.size () / channels;
  std::vector<float> out (x.size ());
  for (int c = 0; c < channels; c++)
    for (size_t i = 0; i < n; i++)
      out[i * channels + c] = x[(size_t) c * n + i];
  return out;
}

inline neuro::StftConfig
stft_config (int channels)
{
  neuro::StftConfig cfg;
  cfg.n_fft = N_FFT;
  cfg.hop = HOP;
  cfg.bins = BINS;
  cfg.channels = channels;
  cfg.waveform = true;
  return cfg;
}

inline GstCaps *
spectrogram_caps (int channels, int rate = RATE, int n_fft = N_FFT, int hop = HOP, int bins = BINS,
    gboolean waveform = TRUE)
{
  return gst_caps_new_simple ("application/x-spectrogram", "rate", G_TYPE_INT, rate,
      "channels", G_TYPE_INT, channels, "n-fft", G_TYPE_INT, n_fft, "hop", G_TYPE_INT, hop,
      "bins", G_TYPE_INT, bins, "window", G_TYPE_STRING, "hann", "scaling", G_TYPE_STRING, "magnitude",
      "waveform", G_TYPE_BOOLEAN, waveform, "framerate", GST_TYPE_FRACTION, rate, hop, NULL);
}

/* ---- direct reference -------------------------------------------------------- */

/* q95 written out here rather than taken from lib/window, so the test does
 * not share a mistake with the element. */
inline float
reference_q95 (std::vector<double> a)
{
  for (double &v : a)
    v = std::fabs (v);
  std::sort (a.begin (), a.end ());
  const double pos = 0.95 * (double) (a.size () - 1);
  const size_t lo = (size_t) pos;
  const double frac = pos - (double) lo;
  const double hi = lo + 1 < a.size () ? a[lo + 1] : a[lo];
  const double q = frac >= 0.5 ? hi - (hi - a[lo]) * (1 - frac) : a[lo] + (hi - a[lo]) * frac;
  return (float) (q + 1e-8);
}

/* Tokens of the window of a channel-major signal that starts at sample
 * `start`, cut by hand: samples [start, start + L), their STFT with the
 * project STFT (configured for all channels like the element's, so FFTW
 * solves the same problem), normalised, tokenized in one batch. Returns
 * channels x T. */
inline std::vector<uint32_t>
direct_tokens_at (neuro::Tokenizer & tok, const std::vector<float> & x, int channels, size_t start, bool q95)
{
  const size_t n = x.size () / channels;
  std::vector<float> window ((size_t) channels * L);
  for (int c = 0; c < channels; c++)
    std::copy_n (x.data () + (size_t) c * n + start, L, window.data () + (size_t) c * L);
  neuro::StftConfig cfg = stft_config (channels);
  cfg.waveform = false;
  const std::vector<float> mags = neuro::stft_frames (interleave (window, channels).data (), L, cfg);
  fail_unless_equals_int (mags.size (), (size_t) T * channels * BINS);

  std::vector<float> raw ((size_t) channels * L), stft ((size_t) channels * BINS * T);
  for (int c = 0; c < channels; c++) {
    const float *src = window.data () + (size_t) c * L;
    const float scale = q95 ? reference_q95 (std::vector<double> (src, src + L)) : 1.0f;
    for (int i = 0; i < L; i++)
      raw[(size_t) c * L + i] = src[i] / scale;
    for (int t = 0; t < T; t++)
      for (int b = 0; b < BINS; b++)
        stft[((size_t) c * BINS + b) * T + t] = mags[((size_t) t * channels + c) * BINS + b] / scale;
  }
  std::vector<uint32_t> tokens ((size_t) channels * T);
  tok.tokenize (stft.data (), raw.data (), channels, tokens.data ());
  return tokens;
}

/* Window w of the reference grid: samples [w*L, (w+1)*L). */
inline std::vector<uint32_t>
direct_tokens (neuro::Tokenizer & tok, const std::vector<float> & x, int channels, size_t w, bool q95)
{
  return direct_tokens_at (tok, x, channels, w * L, q95);
}

/* Token frame t, channel c of an element output buffer (frame-major, LE). */
inline std::vector<uint32_t>
buffer_tokens (GstBuffer * buf)
{
  GstMapInfo map;
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  std::vector<uint32_t> out (map.size / 4);
  for (size_t i = 0; i < out.size (); i++)
    out[i] = GUINT32_FROM_LE (reinterpret_cast<const guint32 *> (map.data)[i]);
  gst_buffer_unmap (buf, &map);
  return out;
}

/* Compares an element buffer (T x channels) with direct tokens (channels x T). */
inline void
assert_same_tokens (GstBuffer * buf, const std::vector<uint32_t> & direct, int channels, size_t w)
{
  const std::vector<uint32_t> got = buffer_tokens (buf);
  fail_unless_equals_int (got.size (), (size_t) T * channels);
  for (int t = 0; t < T; t++)
    for (int c = 0; c < channels; c++)
      fail_unless (got[(size_t) t * channels + c] == direct[(size_t) c * T + t],
          "window %u frame %d channel %d: pipeline token %u, direct %u", (guint) w, t, c,
          got[(size_t) t * channels + c], direct[(size_t) c * T + t]);
}

/* ---- harness helpers ----------------------------------------------------------- */

inline GstElement *
new_tokenizer (const std::string & model, const char *normalize = "q95")
{
  GstElement *e = gst_element_factory_make ("tfmtokenize", NULL);
  fail_unless (e != NULL);
  gst_util_set_object_arg (G_OBJECT (e), "normalize", normalize);
  g_object_set (e, "model", model.c_str (), NULL);
  return e;
}

inline GstHarness *
new_harness (GstElement * e, GstBus ** bus)
{
  *bus = gst_bus_new ();
  gst_element_set_bus (e, *bus);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  return h;
}

/* Drops the bus's pending messages (they hold refs on the element) and the
 * harness. */
inline void
teardown (GstHarness * h, GstBus * bus)
{
  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

/* A buffer of frames [first, first + count) of a frame array, PTS from the
 * frame index. */
inline GstBuffer *
spectrogram_buffer (const std::vector<float> & frames, size_t frame_floats, size_t first, size_t count,
    GstClockTime base)
{
  const size_t bytes = count * frame_floats * sizeof (float);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, bytes, NULL);
  gst_buffer_fill (buf, 0, frames.data () + first * frame_floats, bytes);
  GST_BUFFER_PTS (buf) = base + gst_util_uint64_scale (first * HOP, GST_SECOND, RATE);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (count * HOP, GST_SECOND, RATE);
  return buf;
}

inline std::string
pop_error (GstBus * bus)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (!msg)
    return "";
  GError *err = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (msg, &err, &dbg);
  std::string text = err->message;
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  return text;
}

inline bool
contains (const std::string & haystack, const std::string & needle)
{
  return haystack.find (needle) != std::string::npos;
}
