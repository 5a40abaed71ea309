/* Benchmark of the model library through its public API (tfm_models.h):
 *  - tokenizer throughput in channel-seconds per wall-clock second for
 *    64 channels x 10 s windows of 200 Hz EEG (one batch per window), with
 *    random weights of the authors' 2x2x8 shape;
 *  - classifier decision time for one 16-channel x 10 s window (16 x 19
 *    tokens), random 64x4 weights;
 *  - peak RSS of the process.
 *
 * usage: bench_tokenizer [threads=2] [windows=20] */
#include "tfm_models.h"
#include "tfm_torch.h"

#include <ATen/Context.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kChannels = 64, kRate = 200, kSeconds = 10, kClassifierChannels = 16;

double
seconds_since (std::chrono::steady_clock::time_point t0)
{
  return std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
}

/* EEG-like test signal: alpha rhythm plus noise, scaled to O(1). */
std::vector<float>
make_signal (int n, int samples)
{
  std::mt19937 gen (1);
  std::normal_distribution<float> noise (0.f, 0.5f);
  std::vector<float> x (static_cast<size_t> (n) * samples);
  for (int c = 0; c < n; ++c)
    for (int i = 0; i < samples; ++i)
      x[static_cast<size_t> (c) * samples + i] = std::sin (2.f * 3.14159265f * (9.f + c % 5) * i / kRate) + noise (gen);
  return x;
}

/* |STFT|, periodic Hann, no centring: what the stft element delivers. */
std::vector<float>
make_stft (const std::vector<float> &raw, int n, const neuro::ModelInfo &info)
{
  const int T = info.geometry.frames_per_window ();
  std::vector<float> out (static_cast<size_t> (n) * info.geometry.bins * T);
  for (int c = 0; c < n; ++c)
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < info.geometry.bins; ++k) {
        double re = 0, im = 0;
        for (int m = 0; m < info.geometry.n_fft; ++m) {
          const double w = 0.5 - 0.5 * std::cos (2 * M_PI * m / info.geometry.n_fft);
          const double v = raw[static_cast<size_t> (c) * info.geometry.window_samples + t * info.geometry.hop + m] * w;
          re += v * std::cos (2 * M_PI * k * m / info.geometry.n_fft);
          im -= v * std::sin (2 * M_PI * k * m / info.geometry.n_fft);
        }
        out[(static_cast<size_t> (c) * info.geometry.bins + k) * T + t] = static_cast<float> (std::hypot (re, im));
      }
  return out;
}

double
process_cpu_seconds ()
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double
median (std::vector<double> v)
{
  std::sort (v.begin (), v.end ());
  return v[v.size () / 2];
}

/* Wall time per window (median and best: the machine may be shared) and
 * CPU time, so a busy machine does not hide what the code costs. */
void
bench_tokenizer (const std::string &path, int windows, int threads)
{
  auto tok = neuro::Tokenizer::load (path);
  const neuro::ModelInfo &info = tok->info ();
  const std::vector<float> raw = make_signal (kChannels, info.geometry.window_samples);
  const std::vector<float> stft = make_stft (raw, kChannels, info);
  std::vector<uint32_t> tokens (static_cast<size_t> (kChannels) * info.geometry.frames_per_window ());
  tok->tokenize (stft.data (), raw.data (), kChannels, tokens.data ());  /* warm-up */
  std::vector<double> wall;
  const double cpu0 = process_cpu_seconds ();
  for (int w = 0; w < windows; ++w) {
    const auto t0 = std::chrono::steady_clock::now ();
    tok->tokenize (stft.data (), raw.data (), kChannels, tokens.data ());
    wall.push_back (seconds_since (t0));
  }
  const double cpu = (process_cpu_seconds () - cpu0) / windows;
  const double channel_seconds = kChannels * kSeconds;
  std::printf ("tokenizer 2x2x8, %d ch x %d s windows, %d threads: median %.1f ms/window (best %.1f) = "
      "%.0f channel-seconds/s (best %.0f); CPU %.1f ms/window = %.0f channel-seconds per CPU-second\n",
      kChannels, kSeconds, threads, 1e3 * median (wall), 1e3 * *std::min_element (wall.begin (), wall.end ()),
      channel_seconds / median (wall), channel_seconds / *std::min_element (wall.begin (), wall.end ()), 1e3 * cpu,
      channel_seconds / cpu);
}

void
bench_classifier (const std::string &path, int windows)
{
  auto cls = neuro::Classifier::load (path);
  const int frames = (kRate * kSeconds - 200) / 100 + 1;
  std::vector<uint32_t> tokens (static_cast<size_t> (kClassifierChannels) * frames);
  for (size_t i = 0; i < tokens.size (); ++i)
    tokens[i] = static_cast<uint32_t> ((i * 2654435761u) % 8192);
  cls->logits (tokens.data (), kClassifierChannels, frames);  /* warm-up */
  std::vector<double> wall;
  for (int w = 0; w < windows; ++w) {
    const auto t0 = std::chrono::steady_clock::now ();
    cls->logits (tokens.data (), kClassifierChannels, frames);
    wall.push_back (seconds_since (t0));
  }
  std::printf ("classifier 64x4, %d ch x %d frames: median %.2f ms/decision (best %.2f)\n", kClassifierChannels,
      frames, 1e3 * median (wall), 1e3 * *std::min_element (wall.begin (), wall.end ()));
}

}  // namespace

int
main (int argc, char **argv)
{
  const int threads = argc > 1 ? std::atoi (argv[1]) : 2;
  const int windows = argc > 2 ? std::atoi (argv[2]) : 20;
  neuro::set_model_threads (threads);
  const std::string dir = std::getenv ("TMPDIR") ? std::getenv ("TMPDIR") : "/tmp";
  const std::string tok_path = dir + "/bench-tokenizer-" + std::to_string (getpid ()) + ".safetensors";
  const std::string cls_path = dir + "/bench-classifier-" + std::to_string (getpid ()) + ".safetensors";
  try {
    at::manual_seed (0);
    neuro::tfm::TokenizerModel (neuro::tfm::TokenizerConfig ()).save (tok_path, {});
    neuro::tfm::ClassifierModel (neuro::tfm::ClassifierConfig ()).save (cls_path, {});
    std::printf ("threads: %d\n", threads);
    bench_tokenizer (tok_path, windows, threads);
    bench_classifier (cls_path, 5 * windows);
  } catch (const neuro::ModelError &e) {
    std::fprintf (stderr, "%s\n", e.what ());
    return 1;
  }
  std::remove (tok_path.c_str ());
  std::remove (cls_path.c_str ());
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double load[1] = {0};
  getloadavg (load, 1);
  std::printf ("peak RSS: %.1f MiB; load average during the run: %.1f on %ld cores\n", ru.ru_maxrss / 1024.0, load[0],
      sysconf (_SC_NPROCESSORS_ONLN));
  return 0;
}
