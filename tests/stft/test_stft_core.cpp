// SPDX-License-Identifier: LGPL-2.1-or-later
/* lib/dsp STFT against an independent double-precision DFT written here,
 * on synthetic and real EEG (YASA N2 sleep, 200 Hz, with the argument
 * "recordings"; otherwise its generated stand-in). */
#include <glib.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "dft_reference.h"
#include "stft.h"
#include "test_paths.h"

using neuro::StftConfig;
using neuro::StftScaling;
using neuro::StftWindow;

static std::vector<float>
noise (size_t n, unsigned seed)
{
  std::mt19937 rng (seed);
  std::normal_distribution<float> d (0.f, 30.f);
  std::vector<float> x (n);
  for (auto &v : x)
    v = d (rng);
  return x;
}

static std::vector<float>
load_yasa_n2 ()
{
  std::ifstream f (neuro_test::recording ("eeg/sleep_yasa/data_N2_spindles_15sec_200Hz.txt"));
  g_assert_true (f.good ());
  std::vector<float> x;
  float v;
  while (f >> v)
    x.push_back (v);
  g_assert_cmpuint (x.size (), ==, 3000);
  return x;
}

static void
check_against_reference (const std::vector<float> &x, StftConfig cfg)
{
  const auto got = neuro::stft_frames (x.data (), x.size () / cfg.channels, cfg);
  const auto want = ref::stft (x, cfg);
  g_assert_cmpuint (got.size (), ==, want.size ());
  const size_t per = (size_t) cfg.channels * cfg.bins;
  const double err = ref::max_rel_error (got.data (), per, want, per, cfg.scaling == StftScaling::Db);
  if (err > 1e-5)
    g_error ("n-fft %d hop %d window %s scaling %s channels %d: max relative error %g > 1e-5",
        cfg.n_fft, cfg.hop, neuro::stft_window_name (cfg.window),
        neuro::stft_scaling_name (cfg.scaling), cfg.channels, err);
}

static void
test_defaults_match_dft_on_sleep_eeg (void)
{
  const auto x = load_yasa_n2 ();
  StftConfig cfg;               /* n-fft 200, hop 100, hann, magnitude, 100 bins */
  const auto got = neuro::stft_magnitude (x.data (), x.size (), cfg);
  g_assert_cmpuint (got.size (), ==, 29u * 100u);  /* (3000-200)/100+1 frames */
  check_against_reference (x, cfg);
}

static void
test_every_window_and_scaling (void)
{
  const auto x = load_yasa_n2 ();
  for (auto w : { StftWindow::Hann, StftWindow::Hamming, StftWindow::Blackman, StftWindow::Rectangular })
    for (auto s : { StftScaling::Magnitude, StftScaling::Spectrum, StftScaling::Power, StftScaling::Db }) {
      StftConfig cfg;
      cfg.window = w;
      cfg.scaling = s;
      cfg.bins = 101;           /* Nyquist included */
      check_against_reference (x, cfg);
    }
}

static void
test_odd_sizes_and_channels (void)
{
  const int sizes[][3] = { { 7, 3, 4 }, { 256, 64, 129 }, { 255, 255, 128 }, { 2, 1, 2 }, { 1024, 512, 512 } };
  for (auto &s : sizes)
    for (int channels : { 1, 3 }) {
      StftConfig cfg;
      cfg.n_fft = s[0];
      cfg.hop = s[1];
      cfg.bins = s[2];
      cfg.channels = channels;
      check_against_reference (noise ((size_t) 4000 * channels + 7 * channels, 1 + s[0]), cfg);
    }
}

/* Results must be bit-identical however the input is cut, for overlapping,
 * touching and hop-1 framings. */
static void
test_partition_independence (void)
{
  const int framings[][2] = { { 200, 100 }, { 64, 24 }, { 16, 16 }, { 10, 1 }, { 200, 199 } };
  const size_t len = 2345;
  for (auto &fr : framings) {
    StftConfig cfg;
    cfg.n_fft = fr[0];
    cfg.hop = fr[1];
    cfg.bins = fr[0] / 2;
    cfg.channels = 3;
    cfg.waveform = true;
    const auto x = noise (3 * len, 7);
    const auto whole = neuro::stft_frames (x.data (), len, cfg);
    const size_t frames = (len - cfg.n_fft) / cfg.hop + 1;
    g_assert_cmpuint (whole.size (), ==, frames * neuro::stft_frame_floats (cfg));
    for (size_t chunk : { (size_t) 1, (size_t) 7, (size_t) 199, (size_t) 1000 }) {
      neuro::Stft stft (cfg);
      std::vector<float> out;
      for (size_t i = 0; i < len; i += chunk)
        stft.push (x.data () + i * 3, std::min (chunk, len - i), out);
      g_assert_true (out == whole);
      g_assert_cmpuint (stft.next_frame (), ==, frames);
    }
  }
}

/* The waveform part of frame t is the raw input under it, channel-major. */
static void
test_waveform_layout (void)
{
  StftConfig cfg;
  cfg.channels = 2;
  cfg.n_fft = 8;
  cfg.hop = 3;
  cfg.bins = 4;
  cfg.waveform = true;
  std::vector<float> x (2 * 20);
  for (size_t i = 0; i < x.size (); i++)
    x[i] = (float) i;
  const auto out = neuro::stft_frames (x.data (), 20, cfg);
  const size_t per = neuro::stft_frame_floats (cfg);
  g_assert_cmpuint (per, ==, 2u * 4u + 2u * 8u);
  g_assert_cmpuint (out.size (), ==, 5 * per);   /* (20-8)/3+1 */
  for (size_t t = 0; t < 5; t++)
    for (int c = 0; c < 2; c++)
      for (int n = 0; n < 8; n++)
        g_assert_cmpfloat (out[t * per + 8 + c * 8 + n], ==, x[(t * 3 + n) * 2 + c]);
}

static void
test_reset_restarts_framing (void)
{
  StftConfig cfg;
  const auto x = noise (1000, 3);
  neuro::Stft stft (cfg);
  std::vector<float> a, b;
  stft.push (x.data (), 150, a);              /* 150 samples buffered, no frame */
  g_assert_cmpuint (a.size (), ==, 0u);
  stft.reset ();
  stft.push (x.data () + 150, 850, b);
  const auto fresh = neuro::stft_frames (x.data () + 150, 850, cfg);
  g_assert_true (b == fresh);
}

/* FFTW's planner is not thread-safe: Stft objects made and destroyed in
 * parallel threads must neither crash nor change results. */
static void
test_parallel_planning (void)
{
  const auto x = noise (4 * 3000, 11);
  const int sizes[] = { 200, 256, 1000, 63, 512, 128, 300, 77 };
  std::vector<std::vector<float>> parallel (8);
  std::vector<StftConfig> cfgs;
  for (int n : sizes) {
    StftConfig cfg;
    cfg.n_fft = n;
    cfg.hop = n / 2;
    cfg.bins = n / 2;
    cfg.channels = 4;
    cfgs.push_back (cfg);
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < cfgs.size (); i++)
    threads.emplace_back ([&, i] {
      for (int rep = 0; rep < 5; rep++)
        parallel[i] = neuro::stft_frames (x.data (), 3000, cfgs[i]);
    });
  for (auto &t : threads)
    t.join ();
  for (size_t i = 0; i < cfgs.size (); i++) {
    const auto want = ref::stft (x, cfgs[i]);
    const size_t per = 4 * (size_t) cfgs[i].bins;
    g_assert_cmpuint (parallel[i].size (), ==, want.size ());
    g_assert_cmpfloat (ref::max_rel_error (parallel[i].data (), per, want, per, false), <=, 1e-5);
  }
}

/* A NaN or infinite sample is passed on, not zeroed: every frame over it has
 * non-finite magnitudes in all bins of its channel (each window and scaling)
 * and the sample in its waveform; every other value equals the clean run's. */
static void
test_non_finite_passed_on_n (void)
{
  const size_t len = 1000;
  const size_t at[2] = { 450, 700 };
  const float bad[2] = { std::numeric_limits<float>::quiet_NaN (), -std::numeric_limits<float>::infinity () };
  for (auto w : { StftWindow::Hann, StftWindow::Rectangular, StftWindow::Blackman })
    for (auto sc : { StftScaling::Magnitude, StftScaling::Power, StftScaling::Db }) {
      StftConfig cfg;
      cfg.window = w;
      cfg.scaling = sc;
      cfg.channels = 2;
      cfg.waveform = true;
      const auto clean = noise (2 * len, 11);
      auto x = clean;
      for (int c = 0; c < 2; c++)
        x[at[c] * 2 + c] = bad[c];
      const auto want = neuro::stft_frames (clean.data (), len, cfg);
      const auto got = neuro::stft_frames (x.data (), len, cfg);
      g_assert_cmpuint (got.size (), ==, want.size ());
      const size_t ff = neuro::stft_frame_floats (cfg);
      for (size_t k = 0; k < got.size () / ff; k++)
        for (int c = 0; c < 2; c++) {
          const bool over = k * cfg.hop <= at[c] && at[c] < k * cfg.hop + cfg.n_fft;
          const float *g = got.data () + k * ff, *e = want.data () + k * ff;
          for (int b = 0; b < cfg.bins; b++) {
            const size_t i = (size_t) c * cfg.bins + b;
            if (over && std::isfinite (g[i]))
              g_error ("frame %zu channel %d bin %d: finite %g over a non-finite sample", k, c, b, g[i]);
            if (!over && g[i] != e[i])
              g_error ("frame %zu channel %d bin %d: %g, clean run %g", k, c, b, g[i], e[i]);
          }
          const float *gw = g + 2 * cfg.bins + c * cfg.n_fft, *ew = e + 2 * cfg.bins + c * cfg.n_fft;
          for (int i = 0; i < cfg.n_fft; i++) {
            const bool is_bad = over && k * cfg.hop + i == at[c];
            g_assert_true (is_bad ? !std::isfinite (gw[i]) : gw[i] == ew[i]);
          }
        }
    }
}

static void
test_bad_configs_n (void)
{
  const struct { int n_fft, hop, bins; const char *needle; } bad[] = {
    { 1, 1, 1, "n-fft" }, { 200, 201, 100, "hop" }, { 200, 0, 100, "hop" },
    { 200, 100, 102, "bins" }, { 200, 100, 0, "bins" },
  };
  for (auto &b : bad) {
    StftConfig cfg;
    cfg.n_fft = b.n_fft;
    cfg.hop = b.hop;
    cfg.bins = b.bins;
    const std::string err = neuro::stft_config_error (cfg);
    g_assert_true (err.find (b.needle) != std::string::npos);
    bool threw = false;
    try {
      neuro::Stft s (cfg);
    } catch (const std::invalid_argument &e) {
      threw = err == e.what ();
    }
    g_assert_true (threw);
  }
}

int
main (int argc, char **argv)
{
  neuro_test::choose_recordings (&argc, argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stft/core/defaults_match_dft_on_sleep_eeg", test_defaults_match_dft_on_sleep_eeg);
  g_test_add_func ("/stft/core/every_window_and_scaling", test_every_window_and_scaling);
  g_test_add_func ("/stft/core/odd_sizes_and_channels", test_odd_sizes_and_channels);
  g_test_add_func ("/stft/core/partition_independence", test_partition_independence);
  g_test_add_func ("/stft/core/waveform_layout", test_waveform_layout);
  g_test_add_func ("/stft/core/reset_restarts_framing", test_reset_restarts_framing);
  g_test_add_func ("/stft/core/parallel_planning", test_parallel_planning);
  g_test_add_func ("/stft/core/non_finite_passed_on_n", test_non_finite_passed_on_n);
  g_test_add_func ("/stft/core/bad_configs_n", test_bad_configs_n);
  return g_test_run ();
}
