// SPDX-License-Identifier: LGPL-2.1-or-later
#include "stft.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

#ifdef __SSE2__
#include <xmmintrin.h>
#endif

namespace neuro {

namespace {

/* FFTW's planner and plan destruction share global state (wisdom). */
std::mutex &
fftw_planner_mutex ()
{
  static std::mutex m;
  return m;
}

struct NamedWindow { StftWindow value; const char *name; };
const NamedWindow kWindows[] = {
  { StftWindow::Hann, "hann" }, { StftWindow::Hamming, "hamming" },
  { StftWindow::Blackman, "blackman" }, { StftWindow::Rectangular, "rectangular" },
};
struct NamedScaling { StftScaling value; const char *name; };
const NamedScaling kScalings[] = {
  { StftScaling::Magnitude, "magnitude" }, { StftScaling::Spectrum, "spectrum" },
  { StftScaling::Power, "power" }, { StftScaling::Db, "db" },
};

/* librosa/torchaudio's default floor for power in dB. */
constexpr float kDbPowerFloor = 1e-10f;

}  // namespace

const char *
stft_window_name (StftWindow w)
{
  for (const auto &e : kWindows)
    if (e.value == w)
      return e.name;
  return "hann";
}

const char *
stft_scaling_name (StftScaling s)
{
  for (const auto &e : kScalings)
    if (e.value == s)
      return e.name;
  return "magnitude";
}

bool
stft_window_from_name (const std::string &name, StftWindow &w)
{
  for (const auto &e : kWindows)
    if (name == e.name) {
      w = e.value;
      return true;
    }
  return false;
}

bool
stft_scaling_from_name (const std::string &name, StftScaling &s)
{
  for (const auto &e : kScalings)
    if (name == e.name) {
      s = e.value;
      return true;
    }
  return false;
}

std::vector<std::string>
stft_window_names ()
{
  std::vector<std::string> names;
  for (const auto &e : kWindows)
    names.push_back (e.name);
  return names;
}

std::vector<std::string>
stft_scaling_names ()
{
  std::vector<std::string> names;
  for (const auto &e : kScalings)
    names.push_back (e.name);
  return names;
}

std::string
stft_config_error (const StftConfig &cfg)
{
  const std::string n = std::to_string (cfg.n_fft);
  if (cfg.channels < 1)
    return "channels (" + std::to_string (cfg.channels) + ") must be at least 1";
  if (cfg.n_fft < 2)
    return "n-fft (" + n + ") must be at least 2";
  if (cfg.hop < 1 || cfg.hop > cfg.n_fft)
    return "hop (" + std::to_string (cfg.hop) + ") must be between 1 and n-fft (" + n +
        "): frames would skip input samples; set hop <= n-fft";
  if (cfg.bins < 1 || cfg.bins > cfg.n_fft / 2 + 1)
    return "bins (" + std::to_string (cfg.bins) + ") must be between 1 and n-fft/2+1 (" +
        std::to_string (cfg.n_fft / 2 + 1) + "): a real FFT of " + n +
        " points has no more distinct bins; lower bins or raise n-fft";
  return {};
}

std::vector<float>
stft_make_window (StftWindow w, int n)
{
  std::vector<float> out (n);
  for (int i = 0; i < n; i++) {
    /* Periodic windows: the period is n, not n - 1 (torch/scipy defaults). */
    const double a = 2.0 * M_PI * i / n;
    double v = 1.0;
    switch (w) {
      case StftWindow::Hann: v = 0.5 - 0.5 * std::cos (a); break;
      case StftWindow::Hamming: v = 0.54 - 0.46 * std::cos (a); break;
      case StftWindow::Blackman: v = 0.42 - 0.5 * std::cos (a) + 0.08 * std::cos (2 * a); break;
      case StftWindow::Rectangular: v = 1.0; break;
    }
    out[i] = static_cast<float> (v);
  }
  return out;
}

size_t
stft_frame_floats (const StftConfig &cfg)
{
  size_t n = static_cast<size_t> (cfg.channels) * cfg.bins;
  if (cfg.waveform)
    n += static_cast<size_t> (cfg.channels) * cfg.n_fft;
  return n;
}

/* One batched real-to-complex plan transforms every channel of a frame. */
struct Stft::Fft {
  int n_fft, channels, n_out;
  float *in = nullptr;
  fftwf_complex *out = nullptr;
  fftwf_plan plan = nullptr;

  Fft (int n, int c) : n_fft (n), channels (c), n_out (n / 2 + 1)
  {
    in = fftwf_alloc_real (static_cast<size_t> (n) * c);
    out = fftwf_alloc_complex (static_cast<size_t> (n_out) * c);
    std::lock_guard<std::mutex> lock (fftw_planner_mutex ());
    plan = fftwf_plan_many_dft_r2c (1, &n_fft, channels, in, nullptr, 1, n_fft,
        out, nullptr, 1, n_out, FFTW_MEASURE);
  }
  ~Fft ()
  {
    {
      std::lock_guard<std::mutex> lock (fftw_planner_mutex ());
      if (plan)
        fftwf_destroy_plan (plan);
    }
    fftwf_free (in);
    fftwf_free (out);
  }
};

Stft::Stft (const StftConfig &cfg) : cfg_ (cfg)
{
  const std::string err = stft_config_error (cfg);
  if (!err.empty ())
    throw std::invalid_argument (err);
  window_ = stft_make_window (cfg.window, cfg.n_fft);
  double sum = 0.0;
  for (float v : window_)
    sum += v;
  spectrum_scale_ = static_cast<float> (1.0 / sum);
  fft_.reset (new Fft (cfg.n_fft, cfg.channels));
  if (!fft_->plan)
    throw std::runtime_error ("FFTW could not plan a transform of " + std::to_string (cfg.n_fft) +
        " points");
  pending_.reserve (static_cast<size_t> (cfg.n_fft) * cfg.channels * 2);
}

Stft::~Stft () = default;

void
Stft::reset ()
{
  pending_.clear ();
  next_frame_ = 0;
}

size_t
Stft::frames_after (size_t frames) const
{
  const size_t total = pending_.size () / cfg_.channels + frames;
  if (total < static_cast<size_t> (cfg_.n_fft))
    return 0;
  return (total - cfg_.n_fft) / cfg_.hop + 1;
}

size_t
Stft::push (const float *interleaved, size_t frames, std::vector<float> &out)
{
  const size_t first = out.size ();
  out.resize (first + frames_after (frames) * stft_frame_floats (cfg_));
  return push (interleaved, frames, out.data () + first);
}

size_t
Stft::push (const float *x, size_t frames, float *out)
{
  const size_t C = cfg_.channels, H = cfg_.hop, N = cfg_.n_fft;
  const size_t P = pending_.size () / C;            /* buffered samples, fewer than N */
  const size_t produced = frames_after (frames);
  const size_t per_frame = stft_frame_floats (cfg_);

  /* Frames that start among the buffered samples end at most N-1 samples
   * into the input: extend the buffer by that much and read them from it. */
  const size_t head = std::min (frames, N - 1);
  if (P > 0)
    pending_.insert (pending_.end (), x, x + head * C);
  size_t f = 0;
  for (; f < produced && f * H < P; f++)
    compute_frame (pending_.data () + f * H * C, out + f * per_frame);
  /* The others lie wholly in the input: no copy. */
  for (; f < produced; f++)
    compute_frame (x + (f * H - P) * C, out + f * per_frame);

  /* Keep the samples from the next frame's start on (fewer than N). */
  const size_t next_start = produced * H;
  if (next_start >= P) {
    pending_.assign (x + (next_start - P) * C, x + frames * C);
  } else {
    pending_.erase (pending_.begin (), pending_.begin () + next_start * C);
    pending_.insert (pending_.end (), x + head * C, x + frames * C);
  }
  next_frame_ += produced;
  return produced;
}

/* Copies the n_fft samples of every channel under a frame into channel-major
 * rows, times `window` (nullptr: unwindowed): a transpose of the frame's
 * n_fft × C interleaved block. 4×4 tiles keep loads and stores contiguous;
 * the scalar loop handles the edges (and builds without SSE). */
static void
gather_channels (const float *start, int C, int N, const float *window, float *dst)
{
  int n0 = 0, c0 = 0;
#ifdef __SSE2__
  const int N4 = N & ~3, C4 = C & ~3;
  for (int n = 0; n < N4; n += 4) {
    const __m128 w = window ? _mm_loadu_ps (window + n) : _mm_set1_ps (1.0f);
    for (int c = 0; c < C4; c += 4) {
      __m128 r0 = _mm_loadu_ps (start + static_cast<size_t> (n) * C + c);
      __m128 r1 = _mm_loadu_ps (start + static_cast<size_t> (n + 1) * C + c);
      __m128 r2 = _mm_loadu_ps (start + static_cast<size_t> (n + 2) * C + c);
      __m128 r3 = _mm_loadu_ps (start + static_cast<size_t> (n + 3) * C + c);
      _MM_TRANSPOSE4_PS (r0, r1, r2, r3);
      _mm_storeu_ps (dst + static_cast<size_t> (c) * N + n, _mm_mul_ps (r0, w));
      _mm_storeu_ps (dst + static_cast<size_t> (c + 1) * N + n, _mm_mul_ps (r1, w));
      _mm_storeu_ps (dst + static_cast<size_t> (c + 2) * N + n, _mm_mul_ps (r2, w));
      _mm_storeu_ps (dst + static_cast<size_t> (c + 3) * N + n, _mm_mul_ps (r3, w));
    }
  }
  n0 = N4;
  c0 = C4;
#endif
  /* Edges, one channel row at a time: channels c0.. for the tiled samples,
   * every channel for the samples n0.. (all of it for fewer than 4 channels). */
  for (int c = 0; c < C; c++) {
    float *d = dst + static_cast<size_t> (c) * N;
    for (int n = (c < c0 ? n0 : 0); n < N; n++)
      d[n] = start[static_cast<size_t> (n) * C + c] * (window ? window[n] : 1.0f);
  }
}

/* One loop per scaling, so each is a plain vectorisable loop. */
static void
scale_bins (const fftwf_complex *X, int B, StftScaling scaling, float spectrum_scale, float *d)
{
  switch (scaling) {
    case StftScaling::Magnitude:
      for (int k = 0; k < B; k++)
        d[k] = std::sqrt (X[k][0] * X[k][0] + X[k][1] * X[k][1]);
      break;
    case StftScaling::Spectrum:
      for (int k = 0; k < B; k++)
        d[k] = std::sqrt (X[k][0] * X[k][0] + X[k][1] * X[k][1]) * spectrum_scale;
      break;
    case StftScaling::Power:
      for (int k = 0; k < B; k++)
        d[k] = X[k][0] * X[k][0] + X[k][1] * X[k][1];
      break;
    case StftScaling::Db:
      for (int k = 0; k < B; k++)
        d[k] = 10.0f * std::log10 (std::max (X[k][0] * X[k][0] + X[k][1] * X[k][1], kDbPowerFloor));
      break;
  }
}

void
Stft::compute_frame (const float *start, float *dst)
{
  const int C = cfg_.channels, N = cfg_.n_fft, B = cfg_.bins;
  gather_channels (start, C, N, window_.data (), fft_->in);
  fftwf_execute (fft_->plan);
  for (int c = 0; c < C; c++)
    scale_bins (fft_->out + static_cast<size_t> (c) * fft_->n_out, B, cfg_.scaling, spectrum_scale_,
        dst + static_cast<size_t> (c) * B);
  if (cfg_.waveform)
    gather_channels (start, C, N, nullptr, dst + static_cast<size_t> (C) * B);
}

std::vector<float>
stft_frames (const float *interleaved, size_t frames, const StftConfig &cfg)
{
  Stft stft (cfg);
  std::vector<float> out;
  stft.push (interleaved, frames, out);
  return out;
}

std::vector<float>
stft_magnitude (const float *x, size_t n, const StftConfig &cfg)
{
  StftConfig mono = cfg;
  mono.channels = 1;
  mono.waveform = false;
  return stft_frames (x, n, mono);
}

}  // namespace neuro
