// SPDX-License-Identifier: LGPL-2.1-or-later
#include "progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace neuro::train {

std::string
format_duration (double seconds)
{
  long s = std::lround (std::max (0.0, seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf (buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60)
    std::snprintf (buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf (buf, sizeof buf, "%lds", s);
  return buf;
}

Progress::Progress (const std::string &what, long total_steps, long first_step)
    : what_ (what), total_ (std::max (1L, total_steps)), first_ (first_step), tty_ (isatty (STDERR_FILENO)),
      start_ (std::chrono::steady_clock::now ())
{
}

double
Progress::elapsed_seconds () const
{
  return std::chrono::duration<double> (std::chrono::steady_clock::now () - start_).count ();
}

void
Progress::update (long step, double loss, double lr)
{
  int decile = static_cast<int> (10 * step / total_);
  if (!tty_ && decile == last_decile_)
    return;
  last_decile_ = decile;
  double elapsed = elapsed_seconds ();
  long done = step - first_;
  double eta = done > 0 ? elapsed / done * (total_ - step) : 0;
  const int width = 24;
  int filled = static_cast<int> (width * step / total_);
  std::string bar (filled, '#');
  bar.resize (width, '.');
  std::fprintf (stderr, "%s%s [%s] %ld/%ld loss %.4f lr %.2e elapsed %s ETA %s%s", tty_ ? "\r" : "",
      what_.c_str (), bar.c_str (), step, total_, loss, lr, format_duration (elapsed).c_str (),
      format_duration (eta).c_str (), tty_ ? "\033[K" : "\n");
  std::fflush (stderr);
}

void
Progress::finish ()
{
  std::fprintf (stderr, "%s%s done in %s\n", tty_ ? "\n" : "", what_.c_str (),
      format_duration (elapsed_seconds ()).c_str ());
}

}  // namespace neuro::train
