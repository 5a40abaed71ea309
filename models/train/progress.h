// SPDX-License-Identifier: LGPL-2.1-or-later
/* A one-line progress bar on stderr: step, loss, learning rate and ETA.
 * On a terminal the line is redrawn in place; otherwise (logs, tests) a line
 * is printed every 10 % so that logs stay short. */
#pragma once

#include <chrono>
#include <string>

namespace neuro::train {

class Progress {
 public:
  Progress (const std::string &what, long total_steps, long first_step = 0);
  /* Reports that `step` steps of the total are done. */
  void update (long step, double loss, double lr);
  /* Ends the line and prints the elapsed time. */
  void finish ();
  double elapsed_seconds () const;

 private:
  std::string what_;
  long total_;
  long first_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
};

/* "1h02m", "3m07s", "12s". */
std::string format_duration (double seconds);

}  // namespace neuro::train
