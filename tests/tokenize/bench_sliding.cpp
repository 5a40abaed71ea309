// SPDX-License-Identifier: LGPL-2.1-or-later
/* Benchmark of tfmtokenize's window modes (window-stride, emit, the shared
 * frequency branch of normalize=none) and of its lag in a live pipeline.
 *
 * 1. Throughput, offline: audiotestsrc (pink noise, 200 Hz, as fast as it
 *    goes) ! stft ! tfmtokenize <mode> ! fakesink, for 19 and 64 channels:
 *    channel-seconds of input per wall-clock second and the real-time factor
 *    (seconds of signal per second). The modes run alternately, ROUNDS times,
 *    and the ratios to the fixed grid come from the same round, since the
 *    machine's speed drifts with its other jobs.
 * 2. Lag, live: eegsrc is-live=true (synthetic EEG, 19 or 64 channels),
 *    200 Hz in 50 ms buffers ! stft ! tfmtokenize window-stride=1
 *    emit=newest ! appsink. eegsrc releases a buffer when the clock reaches
 *    its last sample, as a device delivers it (audiotestsrc is-live releases
 *    it at its first sample, which would understate the lag by up to a
 *    buffer). A token's lag is its arrival (pipeline running time) minus the
 *    end of its support (PTS + n-fft/rate); the first window's older frames,
 *    which wait for the window to fill, are left out. Prints p50/p95/max,
 *    the p95 of every minute (sustained, not a good moment), the skipped
 *    windows and the process's resident memory after the first minute and at
 *    the end (flat when nothing piles up).
 *
 * usage: bench_sliding MODEL [LIVE_SECONDS=120] [THROUGHPUT_SECONDS=40] [ROUNDS=2] */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "synthetic.h"

namespace {

const int RATE = 200, HOP = 100, N_FFT = 200;

struct Mode {
  const char *name;
  const char *properties;  /* tfmtokenize properties */
};

const Mode kModes[] = {
  { "grid (window-stride=S, reference)", "" },
  { "window-stride=1 emit=window", "window-stride=1" },
  { "window-stride=1 emit=newest", "window-stride=1 emit=newest" },
  { "window-stride=1 emit=newest normalize=none (shared frequency branch)",
    "window-stride=1 emit=newest normalize=none" },
  { "window-stride=4 emit=newest", "window-stride=4 emit=newest" },
};

GstElement *
launch (const std::string & desc)
{
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc.c_str (), &err);
  if (!pipe) {
    fprintf (stderr, "bad pipeline %s: %s\n", desc.c_str (), err->message);
    exit (1);
  }
  return pipe;
}

/* Runs to EOS; false on an error. */
bool
run_to_eos (GstElement * pipe)
{
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const bool ok = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  if (!ok) {
    GError *e = NULL;
    gst_message_parse_error (msg, &e, NULL);
    fprintf (stderr, "error: %s\n", e->message);
    g_error_free (e);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  return ok;
}

/* `seconds` of pink noise in 1 s buffers, as fast as it goes. */
std::string
test_source (int channels, int seconds)
{
  return "audiotestsrc wave=pink-noise volume=0.5 samplesperbuffer=200 num-buffers=" + std::to_string (seconds) +
      " ! audio/x-raw,format=F32LE,layout=interleaved,rate=" +
      std::to_string (RATE) + ",channels=" + std::to_string (channels) + ",channel-mask=(bitmask)0";
}

/* Wall-clock seconds to tokenize `seconds` of signal in one mode. */
double
throughput_run (const std::string & model, int channels, int seconds, const Mode & mode)
{
  const std::string desc = test_source (channels, seconds) + " ! stft ! tfmtokenize model=\"" + model + "\" " +
      mode.properties + " ! fakesink sync=false";
  GstElement *pipe = launch (desc);
  const auto t0 = std::chrono::steady_clock::now ();
  if (!run_to_eos (pipe))
    exit (1);
  const double wall = std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
  gst_object_unref (pipe);
  return wall;
}

void
throughput (const std::string & model, int seconds, int rounds)
{
  for (int channels : { 19, 64 }) {
    printf ("\nthroughput, %d channels x %d s of 200 Hz signal (channel-seconds/s | x real time | "
        "cost vs grid in the same round)\n", channels, seconds);
    std::map<int, std::vector<double>> walls;
    for (int r = 0; r < rounds; r++) {
      /* Alternate the order so no mode always runs in the same slot. */
      std::vector<int> order;
      for (int m = 0; m < (int) G_N_ELEMENTS (kModes); m++)
        order.push_back (r % 2 ? (int) G_N_ELEMENTS (kModes) - 1 - m : m);
      std::map<int, double> round;
      for (int m : order)
        round[m] = throughput_run (model, channels, seconds, kModes[m]);
      for (int m = 0; m < (int) G_N_ELEMENTS (kModes); m++) {
        printf ("  round %d  %-70s %8.0f ch-s/s  %7.1f x  %5.1f x the grid's time\n", r + 1, kModes[m].name,
            channels * seconds / round[m], seconds / round[m], round[m] / round[0]);
        walls[m].push_back (round[m]);
      }
      printf ("  round %d  shared frequency branch: newest K=1 normalize=none takes %.2f x the time of "
          "normalize=q95\n", r + 1, round[3] / round[2]);
      fflush (stdout);
    }
  }
}

double
percentile (std::vector<double> v, double q)
{
  std::sort (v.begin (), v.end ());
  return v[std::min (v.size () - 1, (size_t) (q * (double) v.size ()))];
}

/* Resident memory of this process, MiB. */
double
resident_mib ()
{
  std::ifstream statm ("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return (double) resident * (double) sysconf (_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* Synthetic live EEG with `channels` 10-10 sites. */
std::string
live_source (int channels)
{
  std::string names;
  for (const std::string &name : neuro::synthetic_channel_names ((size_t) channels))
    names += (names.empty () ? "" : ",") + name;
  return "eegsrc is-live=true samplesperbuffer=10 rate=" + std::to_string (RATE) + " channels=" + names;
}

void
live_lag (const std::string & model, int channels, int seconds, const char *extra)
{
  const std::string desc = live_source (channels) + " ! stft ! tfmtokenize name=tok model=\"" + model +
      "\" window-stride=1 emit=newest " + extra + " ! appsink name=sink sync=false";
  GstElement *pipe = launch (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstElement *tok = gst_bin_get_by_name (GST_BIN (pipe), "tok");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  std::vector<double> lags;
  std::vector<std::vector<double>> minutes;   /* lags per minute of the run */
  double rss_first_minute = 0;
  bool first = true;
  const auto t0 = std::chrono::steady_clock::now ();
  for (;;) {
    const double elapsed = std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
    if (elapsed >= seconds)
      break;
    const size_t minute = (size_t) (elapsed / 60);
    if (minute >= minutes.size ()) {
      if (minute == 1)
        rss_first_minute = resident_mib ();
      minutes.resize (minute + 1);
    }
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), GST_SECOND);
    if (!sample)
      continue;
    GstClock *clock = gst_element_get_clock (pipe);
    const GstClockTime now = gst_clock_get_time (clock) - gst_element_get_base_time (pipe);
    gst_object_unref (clock);
    GstBuffer *buf = gst_sample_get_buffer (sample);
    const guint64 frames = GST_BUFFER_OFFSET_END (buf) - GST_BUFFER_OFFSET (buf);
    /* The first window's frames before its last waited for the window to fill. */
    for (guint64 i = first ? frames - 1 : 0; i < frames; i++) {
      const GstClockTime end = GST_BUFFER_PTS (buf) + gst_util_uint64_scale (i * HOP + N_FFT, GST_SECOND, RATE);
      const double lag = (double) GST_CLOCK_DIFF (end, now) / GST_SECOND;
      lags.push_back (lag);
      minutes.back ().push_back (lag);
    }
    first = false;
    gst_sample_unref (sample);
  }
  guint64 skipped = 0;
  g_object_get (tok, "skipped-windows", &skipped, NULL);
  const double rss_end = resident_mib ();
  gst_element_set_state (pipe, GST_STATE_NULL);
  double load[1] = { 0 };
  getloadavg (load, 1);
  if (lags.empty ()) {
    printf ("  %d channels %s: no tokens in %d s\n", channels, extra, seconds);
  } else {
    printf ("  %d channels, newest K=1 %s: %zu tokens in %d s, lag p50 %.3f s, p95 %.3f s, max %.3f s "
        "(goal p95 <= %.1f s), %" G_GUINT64_FORMAT " windows skipped; load average %.1f on %ld cores\n",
        channels, extra, lags.size (), seconds, percentile (lags, 0.5), percentile (lags, 0.95),
        *std::max_element (lags.begin (), lags.end ()), channels <= 19 ? 0.3 : 0.6, skipped, load[0],
        sysconf (_SC_NPROCESSORS_ONLN));
    printf ("    p95 per minute:");
    double worst = 0;
    for (const std::vector<double> &m : minutes)
      if (!m.empty ()) {
        printf (" %.3f", percentile (m, 0.95));
        worst = std::max (worst, percentile (m, 0.95));
      }
    printf ("  (worst minute %.3f s)\n", worst);
    if (rss_first_minute > 0)
      printf ("    resident memory %.1f MiB after the first minute, %.1f MiB at the end\n", rss_first_minute,
          rss_end);
  }
  fflush (stdout);
  gst_object_unref (sink);
  gst_object_unref (tok);
  gst_object_unref (pipe);
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 2) {
    fprintf (stderr, "usage: %s MODEL [LIVE_SECONDS=120] [THROUGHPUT_SECONDS=40] [ROUNDS=2]\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1];
  const int live_seconds = argc > 2 ? atoi (argv[2]) : 120;
  const int seconds = argc > 3 ? atoi (argv[3]) : 40;
  const int rounds = argc > 4 ? atoi (argv[4]) : 2;
  printf ("model %s\n", model.c_str ());
  if (seconds > 0)
    throughput (model, seconds, rounds);
  if (live_seconds > 0) {
    printf ("\nlive lag, 200 Hz in 50 ms buffers, %d s per run (the machine is shared with other jobs)\n",
        live_seconds);
    live_lag (model, 19, live_seconds, "");
    live_lag (model, 64, live_seconds, "");
    live_lag (model, 64, live_seconds, "normalize=none");
  }
  return 0;
}
