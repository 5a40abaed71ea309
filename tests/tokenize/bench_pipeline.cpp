// SPDX-License-Identifier: LGPL-2.1-or-later
/* Pipeline benchmark of tfmtokenize: channel-seconds of 200 Hz EEG tokenized
 * per wall-clock second through
 *
 *   appsrc ! stft ! tfmtokenize model=M threads=N ! fakesink
 *
 * with a synthetic EEG-like signal generated on demand (so the input does not
 * inflate the memory figure), plus the process's peak RSS.
 *
 * usage: bench_pipeline MODEL [CHANNELS=64] [SECONDS=600] [THREADS=0]
 * Targets (issue 4): >= 7000 channel-seconds/s and < 300 MiB for 64 channels,
 * 10 s windows, the authors' 2x2x8 shape. */
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

const int RATE = 200;
const int CHUNK = RATE;  /* one second per buffer */

struct Source {
  int channels = 64;
  guint64 total = 0;     /* samples per channel to play */
  guint64 next = 0;      /* next sample index */
  guint32 noise = 1;
};

/* Alpha and slow waves with cheap noise, different per channel (uV). */
void
fill (Source & s, float *dst, guint64 first, int n)
{
  for (int i = 0; i < n; i++) {
    const double t = (double) (first + i) / RATE;
    for (int c = 0; c < s.channels; c++) {
      s.noise = s.noise * 1664525u + 1013904223u;
      const float noise = (float) (s.noise >> 8) / (float) (1u << 24) - 0.5f;
      dst[(size_t) i * s.channels + c] = (float) (20.0 * std::sin (2 * G_PI * (9.0 + 0.05 * c) * t + c) +
          8.0 * std::sin (2 * G_PI * 1.1 * t)) + 10.0f * noise;
    }
  }
}

void
need_data (GstAppSrc * src, guint, gpointer user_data)
{
  Source & s = *static_cast<Source *> (user_data);
  if (s.next >= s.total) {
    gst_app_src_end_of_stream (src);
    return;
  }
  const int n = (int) std::min<guint64> (CHUNK, s.total - s.next);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, (gsize) n * s.channels * sizeof (float), NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  fill (s, reinterpret_cast<float *> (map.data), s.next, n);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (s.next, GST_SECOND, RATE);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (n, GST_SECOND, RATE);
  s.next += n;
  gst_app_src_push_buffer (src, buf);
}

/* User + system CPU seconds of the process: on a shared machine the wall
 * clock says as much about the neighbours as about us. */
double
cpu_seconds ()
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double
peak_rss_mib ()
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  /* KiB on Linux */
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 2) {
    fprintf (stderr, "usage: %s MODEL [CHANNELS=64] [SECONDS=600] [THREADS=0]\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1];
  Source s;
  s.channels = argc > 2 ? atoi (argv[2]) : 64;
  const int seconds = argc > 3 ? atoi (argv[3]) : 600;
  const int threads = argc > 4 ? atoi (argv[4]) : 0;
  s.total = (guint64) seconds * RATE;

  gchar *desc = g_strdup_printf ("appsrc name=src format=time max-bytes=0 caps=audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=%d,channels=%d%s ! stft ! tfmtokenize model=\"%s\" threads=%d ! "
      "fakesink name=sink sync=false", RATE, s.channels, s.channels > 2 ? ",channel-mask=(bitmask)0" : "",
      model.c_str (), threads);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!pipe) {
    fprintf (stderr, "bad pipeline: %s\n", err->message);
    return 1;
  }
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_signal_connect (src, "need-data", G_CALLBACK (need_data), &s);

  const double rss_before = peak_rss_mib ();
  const double cpu0 = cpu_seconds ();
  const auto t0 = std::chrono::steady_clock::now ();
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const double wall = std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
  const double cpu = cpu_seconds () - cpu0;
  int status = 0;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error (msg, &e, NULL);
    fprintf (stderr, "error: %s\n", e->message);
    g_error_free (e);
    status = 1;
  }
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);

  /* Only whole windows are tokenized (10 s for the authors' model); they are
   * what the rates count. */
  const double tokenized_seconds = (double) (seconds / 10 * 10);
  double load[1] = { 0 };
  getloadavg (load, 1);
  printf ("tfmtokenize pipeline (appsrc ! stft ! tfmtokenize ! fakesink), %d channels x %d s at %d Hz, "
      "threads=%d: %.2f s wall = %.0f channel-seconds/s (target >= 7000, %.1f x real time); %.2f CPU-s = "
      "%.0f channel-seconds per CPU-second; peak RSS %.0f MiB (target < 300; %.0f MiB before start); "
      "load average %.1f on %ld cores\n", s.channels, seconds, RATE, threads, wall,
      s.channels * tokenized_seconds / wall, tokenized_seconds / wall, cpu, s.channels * tokenized_seconds / cpu,
      peak_rss_mib (), rss_before, load[0], sysconf (_SC_NPROCESSORS_ONLN));

  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipe);
  return status;
}
