/* Decisions per second of lbmclassify with the authors' TUEV classifier on
 * tokenizer-shaped input: 16 channels x 19 frames (one 10 s window per
 * buffer), one decision per window; and, for comparison, the bare
 * neuro::Classifier::logits call. The authors' PyTorch code takes about
 * 4.5 ms per window on this machine. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "classification_meta.h"
#include "classify_fixtures.h"
#include "tfm_models.h"

using namespace classify_test;
using Clock = std::chrono::steady_clock;

static const int kChannels = 16, kFrames = 19, kWarmup = 5, kWindows = 200;

static double
seconds_since (Clock::time_point start)
{
  return std::chrono::duration<double> (Clock::now () - start).count ();
}

/* Returns decisions per second, or a negative number when decisions are missing. */
static double
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
  for (int w = 0; w < kWarmup + kWindows; w++)
    buffers.push_back (token_buffer (tokens, kChannels, (w % 50) * kFrames, kFrames,
            w * 10 * GST_SECOND, period));

  int decisions = 0;
  Clock::time_point start = Clock::now ();
  for (int w = 0; w < kWarmup + kWindows; w++) {
    if (w == kWarmup)
      start = Clock::now ();
    if (gst_harness_push (h, buffers[w]) != GST_FLOW_OK)
      break;
    GstBuffer *out = gst_harness_pull (h);
    decisions += w >= kWarmup && gst_buffer_get_lbm_classification_meta (out) ? 1 : 0;
    gst_buffer_unref (out);
  }
  const double elapsed = seconds_since (start);
  gst_harness_teardown (h);
  return decisions == kWindows ? decisions / elapsed : -1.0;
}

static double
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
  Clock::time_point start = Clock::now ();
  for (int w = 0; w < kWarmup + kWindows; w++) {
    if (w == kWarmup)
      start = Clock::now ();
    model->logits (windows[w % 50].data (), kChannels, kFrames);
  }
  return kWindows / seconds_since (start);
}

int
main (int argc, char **argv)
{
  gst_check_init (&argc, &argv);
  const std::vector<uint32_t> tokens = random_tokens (50 * kFrames, kChannels, 11);
  int status = 0;
  for (int threads : { 1, 2 }) {
    const double element = bench_element (threads, tokens);
    const double direct = bench_classifier (threads, tokens);
    if (element <= 0) {
      std::printf ("lbmclassify threads=%d: decisions missing\n", threads);
      status = 1;
      continue;
    }
    std::printf ("lbmclassify, TUEV model, %d ch x %d frames, threads=%d: "
        "%.0f decisions/s (%.2f ms per decision)\n", kChannels, kFrames, threads,
        element, 1000.0 / element);
    std::printf ("neuro::Classifier::logits alone,           threads=%d: "
        "%.0f windows/s (%.2f ms per window)\n", threads, direct, 1000.0 / direct);
  }
  return status;
}
