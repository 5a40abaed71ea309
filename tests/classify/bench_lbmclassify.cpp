// SPDX-License-Identifier: LGPL-2.1-or-later
/* Decisions per second of lbmclassify with the authors' TUEV classifier on
 * tokenizer-shaped input: 16 channels x 19 frames (one 10 s window per
 * buffer), one decision per window; and, for comparison, the bare
 * neuro::Classifier::logits call. The authors' PyTorch code takes about
 * 4.5 ms per window on this machine. Besides wall time it reports process CPU
 * time per decision, which other processes on a shared machine disturb less. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "classification_meta.h"
#include "classify_fixtures.h"
#include "tfm_models.h"

using namespace classify_test;
using Clock = std::chrono::steady_clock;

static const int kChannels = 16, kFrames = 19, kWarmup = 5;

/* Two threads can be 50x slower on a loaded 2-core machine (OpenMP workers
 * spin for cores): time fewer windows there so the benchmark ends. */
static int
windows_for (int threads)
{
  return threads == 1 ? 200 : 20;
}

struct Timing
{
  double per_second = -1;  /* decisions (or windows) per wall-clock second */
  double cpu_ms = 0;       /* process CPU milliseconds per decision */
};

static double
process_cpu_seconds ()
{
  timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Stopwatch
{
  Clock::time_point wall = Clock::now ();
  double cpu = process_cpu_seconds ();

  Timing result (int count) const
  {
    Timing t;
    t.per_second = count / std::chrono::duration<double> (Clock::now () - wall).count ();
    t.cpu_ms = (process_cpu_seconds () - cpu) * 1000.0 / count;
    return t;
  }
};

/* per_second stays negative when decisions are missing. */
static Timing
bench_element (int threads, const std::vector<uint32_t> &tokens)
{
  GstElement *element =
      GST_ELEMENT (gst_object_ref_sink (gst_element_factory_make ("lbmclassify", NULL)));
  g_object_set (element, "model", tuev_model ().c_str (), "threads", threads, NULL);
  GstHarness *h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_set_src_caps (h, token_caps (kChannels));
  const GstClockTime period = GST_SECOND / 2;
  std::vector<GstBuffer *> buffers;
  const int windows = windows_for (threads);
  for (int w = 0; w < kWarmup + windows; w++)
    buffers.push_back (token_buffer (tokens, kChannels, (w % 50) * kFrames, kFrames,
            w * 10 * GST_SECOND, period));

  int decisions = 0;
  Stopwatch watch;
  for (int w = 0; w < kWarmup + windows; w++) {
    if (w == kWarmup)
      watch = Stopwatch ();
    if (gst_harness_push (h, buffers[w]) != GST_FLOW_OK)
      break;
    GstBuffer *out = gst_harness_pull (h);
    decisions += w >= kWarmup && gst_buffer_get_lbm_classification_meta (out) ? 1 : 0;
    gst_buffer_unref (out);
  }
  const Timing timing = decisions == windows ? watch.result (windows) : Timing ();
  gst_harness_teardown (h);
  return timing;
}

static Timing
bench_classifier (int threads, const std::vector<uint32_t> &tokens)
{
  neuro::set_model_threads (threads);
  auto model = neuro::Classifier::load (tuev_model ());
  std::vector<int> all (kChannels);
  for (int c = 0; c < kChannels; c++)
    all[c] = c;
  std::vector<std::vector<uint32_t>> windows;
  for (int w = 0; w < 50; w++)
    windows.push_back (channel_major (tokens, kChannels, w * kFrames, kFrames, all));
  const int count = windows_for (threads);
  Stopwatch watch;
  for (int w = 0; w < kWarmup + count; w++) {
    if (w == kWarmup)
      watch = Stopwatch ();
    model->logits (windows[w % 50].data (), kChannels, kFrames);
  }
  return watch.result (count);
}

int
main (int argc, char **argv)
{
  gst_check_init (&argc, &argv);
  const std::vector<uint32_t> tokens = random_tokens (50 * kFrames, kChannels, 11);
  int status = 0;
  for (int threads : { 1, 2 }) {
    const Timing element = bench_element (threads, tokens);
    const Timing direct = bench_classifier (threads, tokens);
    if (element.per_second <= 0) {
      std::printf ("lbmclassify threads=%d: decisions missing\n", threads);
      status = 1;
      continue;
    }
    std::printf ("lbmclassify, TUEV model, %d ch x %d frames, threads=%d: %.0f decisions/s "
        "(%.2f ms wall, %.2f ms CPU per decision)\n", kChannels, kFrames, threads,
        element.per_second, 1000.0 / element.per_second, element.cpu_ms);
    std::printf ("neuro::Classifier::logits alone,           threads=%d: %.0f windows/s "
        "(%.2f ms wall, %.2f ms CPU per window)\n", threads, direct.per_second,
        1000.0 / direct.per_second, direct.cpu_ms);
  }
  return status;
}
