// SPDX-License-Identifier: LGPL-2.1-or-later
/* Throughput of `stft` next to gst-plugins-good's `spectrum` on the same
 * input in the same run, at equal FFT size and equal FFT count.
 *
 * spectrum runs one FFT of nfft = 2·bands − 2 points per channel
 * (multi-channel=true) whenever a message interval completes before nfft
 * new samples arrived, so bands = n-fft/2 + 1 and interval = hop/rate make it
 * compute exactly the same STFT frames as stft (Hamming window, dB
 * magnitudes). It is measured with post-messages=false (pure analysis) and
 * post-messages=true (its only way to deliver results).
 *
 * Each element first runs once on 2 s of signal: that start-up (plugin
 * loading, FFTW planning with FFTW_MEASURE, which FFTW then remembers for the
 * process) is printed apart; the timed runs measure steady-state throughput.
 *
 * Usage: stft_bench [seconds-of-signal-scale]   (default 1.0)
 * Prints, per case, process CPU and wall time, sample frames per second (one
 * sample of every channel), channel-samples per second, and the speed-up of
 * stft over spectrum (ratio of CPU times). */
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

namespace {

struct Case {
  const char *name;
  int rate, channels, n_fft, hop;
  double seconds;               /* signal length pushed through each element */
};

struct Timing {
  double wall = 0, cpu = 0;     /* seconds */
};

double
now (clockid_t clock)
{
  timespec ts;
  clock_gettime (clock, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One second of Gaussian noise, reused (shallow copies) for every buffer. */
GstBuffer *
noise_second (int rate, int channels)
{
  std::vector<float> x (static_cast<size_t> (rate) * channels);
  std::mt19937 rng (1);
  std::normal_distribution<float> d (0.f, 0.1f);
  for (auto &v : x)
    v = d (rng);
  return gst_buffer_new_memdup (x.data (), x.size () * sizeof (float));
}

Timing
run (const Case &c, const std::string &element, GstBuffer *second, int buffers)
{
  const std::string desc = "appsrc name=src format=time block=true max-bytes=" +
      std::to_string (8 * gst_buffer_get_size (second)) +
      " caps=audio/x-raw,format=F32LE,layout=interleaved,rate=" + std::to_string (c.rate) +
      ",channels=" + std::to_string (c.channels) + ",channel-mask=(bitmask)0 ! " + element +
      " ! fakesink sync=false";
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc.c_str (), &err);
  if (!pipe) {
    g_printerr ("cannot build \"%s\": %s\n", desc.c_str (), err->message);
    exit (1);
  }
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  gst_element_set_state (pipe, GST_STATE_PLAYING);

  Timing t;
  const double wall0 = now (CLOCK_MONOTONIC), cpu0 = now (CLOCK_PROCESS_CPUTIME_ID);
  for (int i = 0; i < buffers; i++) {
    GstBuffer *b = gst_buffer_copy (second);
    GST_BUFFER_PTS (b) = i * GST_SECOND;
    GST_BUFFER_DURATION (b) = GST_SECOND;
    gst_app_src_push_buffer (GST_APP_SRC (src), b);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  t.wall = now (CLOCK_MONOTONIC) - wall0;
  t.cpu = now (CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    g_printerr ("%s failed: %s\n", element.c_str (), err->message);
    exit (1);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  return t;
}

void
report (const Case &c, const char *label, const Timing &t, double stft_cpu)
{
  const double frames = static_cast<double> (static_cast<int> (c.seconds)) * c.rate;
  std::printf ("  %-34s %9.3f s cpu %9.3f s wall %14.0f frames/s %16.0f ch-samples/s  x%.1f\n",
      label, t.cpu, t.wall, frames / t.cpu, frames * c.channels / t.cpu,
      stft_cpu > 0 ? t.cpu / stft_cpu : 1.0);
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  const double scale = argc > 1 ? atof (argv[1]) : 1.0;
  const Case cases[] = {
    { "EEG: 64 channels, 200 Hz, stft defaults (n-fft 200, hop 100, waveform)", 200, 64, 200, 100,
      7200 * scale },
    { "Audio: stereo 44.1 kHz, n-fft 1024, hop 512", 44100, 2, 1024, 512, 600 * scale },
  };
  bool ok = true;
  for (const Case &c : cases) {
    GstBuffer *second = noise_second (c.rate, c.channels);
    const std::string stft = c.n_fft == 200 ? "stft" :
        "stft n-fft=" + std::to_string (c.n_fft) + " hop=" + std::to_string (c.hop);
    const std::string interval = std::to_string (gst_util_uint64_scale (c.hop, GST_SECOND, c.rate));
    const std::string spectrum = "spectrum multi-channel=true bands=" + std::to_string (c.n_fft / 2 + 1) +
        " interval=" + interval;
    std::printf ("%s (%.0f s of signal)\n", c.name, static_cast<double> (static_cast<int> (c.seconds)));
    const int warmup = 2, buffers = static_cast<int> (c.seconds);
    const Timing ts0 = run (c, stft, second, warmup);
    const Timing sp0 = run (c, spectrum + " post-messages=false", second, warmup);
    std::printf ("  start-up on %d s of signal: stft %.3f s cpu, spectrum %.3f s cpu\n", warmup,
        ts0.cpu, sp0.cpu);
    const Timing ts = run (c, stft, second, buffers);
    const Timing sp_off = run (c, spectrum + " post-messages=false", second, buffers);
    const Timing sp_on = run (c, spectrum + " post-messages=true", second, buffers);
    report (c, stft.c_str (), ts, 0);
    report (c, "spectrum (post-messages=false)", sp_off, ts.cpu);
    report (c, "spectrum (post-messages=true)", sp_on, ts.cpu);
    std::printf ("  stft speed-up over spectrum at equal n-fft and hop: x%.1f (messages off), "
        "x%.1f (messages on)\n", sp_off.cpu / ts.cpu, sp_on.cpu / ts.cpu);
    ok &= ts.cpu > 0;
    gst_buffer_unref (second);
  }
  return ok ? 0 : 1;
}
