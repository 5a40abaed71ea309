// SPDX-License-Identifier: LGPL-2.1-or-later
/* The simple baseline the classifier card compares against: multinomial
 * logistic regression on the relative alpha band power (8-13 Hz over 2-30 Hz,
 * log) of each channel. LibTorch-free. */
#pragma once

#include "windows.h"

#include <vector>

namespace neuro::train {

/* One feature per channel: log(alpha power / 2-30 Hz power) of the
 * un-normalised window (scale-free, so no normalisation is needed). */
std::vector<double> alpha_features (const ChannelWindow &w, int channels, int rate);

class LogisticRegression {
 public:
  /* Standardises features, then full-batch gradient descent with L2. */
  void fit (const std::vector<std::vector<double>> &x, const std::vector<int> &y, int classes);
  int predict (const std::vector<double> &x) const;

 private:
  std::vector<double> mean_, sd_;
  std::vector<std::vector<double>> w_;  /* classes x (features + 1) */
  std::vector<double> scores (const std::vector<double> &x) const;
};

/* Mean over classes present in `truth` of per-class recall. */
double balanced_accuracy (const std::vector<int> &truth, const std::vector<int> &pred, int classes);

}  // namespace neuro::train
