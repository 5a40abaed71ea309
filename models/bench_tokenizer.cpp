// SPDX-License-Identifier: LGPL-2.1-or-later
/* Benchmark of the model library through its public API (tfm_models.h):
 *  - tokenizer throughput in channel-seconds per wall-clock second for
 *    64 channels x 10 s windows of 200 Hz EEG (one batch per window), with
 *    random weights of the authors' 2x2x8 shape;
 *  - classifier decision time for one 16-channel x 10 s window (16 x 19
 *    tokens), random 64x4 weights;
 *  - CPU time per stage of the tokenizer on one worker's chunk of 8 windows
 *    (thread CPU time, so neighbours on a shared machine do not inflate it);
 *  - peak RSS of the process.
 *
 * usage: bench_tokenizer [threads=2] [windows=20] [all|tokenizer|classifier|stages] */
#include "tfm_models.h"
#include "tfm_torch.h"
#include "worker_memory.h"

#include <ATen/Context.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/randn.h>
#include <c10/core/InferenceMode.h>

#include <sys/resource.h>
#include <time.h>
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
thread_cpu_seconds ()
{
  timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
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

/* Least thread-CPU milliseconds of f over `reps` calls (after one warm-up):
 * on a shared core, contention only ever adds time. */
template <typename F>
double
stage_ms (int reps, F &&f)
{
  f ();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = thread_cpu_seconds ();
    f ();
    t.push_back (1e3 * (thread_cpu_seconds () - t0));
  }
  return *std::min_element (t.begin (), t.end ());
}

/* Where a worker's time goes, on the chunk of 8 windows a worker takes at a
 * time: the frequency and temporal transformer stacks timed on their own,
 * the patch embeddings and the aggregation as the rest of each branch. */
void
bench_stages (const std::string &path, int reps)
{
  using neuro::tfm::lat_stack;
  const neuro::tfm::TokenizerModel m = neuro::tfm::TokenizerModel::load (path);
  const neuro::tfm::TokenizerConfig &c = m.config ();
  const int n = 8, S = 2000, T = c.frames (S);
  const neuro::ModelInfo info = neuro::Tokenizer::load (path)->info ();
  std::vector<float> raw_v = make_signal (n, S), stft_v = make_stft (raw_v, n, info);
  c10::InferenceMode guard;
  neuro::tfm::SerialThreads serial;  /* as a tokenizer worker runs */
  neuro::tfm::WorkerMemory memory (0);
  const at::Tensor raw = at::from_blob (raw_v.data (), {n, S});
  const at::Tensor stft = at::from_blob (stft_v.data (), {n, c.geometry.bins, T});
  const at::Tensor freq_seq = at::randn ({n * T, c.freq_patches (), c.emb});
  const at::Tensor temporal_seq = at::randn ({n, T, c.emb});
  at::Tensor qi;
  const double f_all = stage_ms (reps, [&] { m.frequency_features (stft); });
  const double f_lat = stage_ms (reps, [&] {
    lat_stack (m.weights (), "trans_freq_encoder.transformer", c.freq_depth, c.heads, freq_seq, false); });
  /* In this thread: tokenize() would hand the chunk to a pool worker, whose CPU time this thread's clock misses. */
  const double whole = stage_ms (reps, [&] { m.nearest_codes (m.encode (stft, raw)); });
  const double t_lat = stage_ms (reps, [&] {
    lat_stack (m.weights (), "trans_temporal_encoder.transformer", c.temporal_depth, c.heads, temporal_seq, false); });
  qi = m.encode (stft, raw);
  const double q = stage_ms (reps, [&] { m.nearest_codes (qi); });
  const double total = whole, rest = whole - f_all;
  std::printf ("stages, CPU ms per %d windows (one worker chunk), total %.2f: frequency patch embedding + "
      "aggregation %.2f, frequency attention %.2f, temporal branch %.2f, temporal attention %.2f, quantiser %.2f\n",
      n, total, f_all - f_lat, f_lat, rest - t_lat - q, t_lat, q);
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
  const std::string only = argc > 3 ? argv[3] : "all";
  neuro::set_model_threads (threads);
  const std::string dir = std::getenv ("TMPDIR") ? std::getenv ("TMPDIR") : "/tmp";
  const std::string tok_path = dir + "/bench-tokenizer-" + std::to_string (getpid ()) + ".safetensors";
  const std::string cls_path = dir + "/bench-classifier-" + std::to_string (getpid ()) + ".safetensors";
  try {
    at::manual_seed (0);
    neuro::tfm::TokenizerModel (neuro::tfm::TokenizerConfig ()).save (tok_path, {});
    neuro::tfm::ClassifierModel (neuro::tfm::ClassifierConfig ()).save (cls_path, {});
    std::printf ("threads: %d\n", threads);
    if (only == "all" || only == "tokenizer")
      bench_tokenizer (tok_path, windows, threads);
    if (only == "all" || only == "classifier")
      bench_classifier (cls_path, 5 * windows);
    if (only == "all" || only == "stages")
      bench_stages (tok_path, windows);
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
