// SPDX-License-Identifier: LGPL-2.1-or-later
#include "baseline.h"

#include "stft.h"

#include <algorithm>
#include <cmath>

namespace neuro::train {

std::vector<double>
alpha_features (const ChannelWindow &w, int channels, int rate)
{
  const size_t L = w.signal.size () / channels;
  StftConfig cfg;
  cfg.n_fft = rate;  /* 1 s frames: 1 Hz bins */
  cfg.hop = rate / 2;
  cfg.bins = rate / 2;
  std::vector<double> f;
  for (int c = 0; c < channels; c++) {
    std::vector<float> m = stft_magnitude (w.signal.data () + c * L, L, cfg);
    size_t frames = m.size () / cfg.bins;
    double alpha = 0, total = 0;
    for (size_t t = 0; t < frames; t++)
      for (int b = 2; b <= std::min (30, cfg.bins - 1); b++) {
        double p = static_cast<double> (m[t * cfg.bins + b]) * m[t * cfg.bins + b];
        total += p;
        if (b >= 8 && b <= 13)
          alpha += p;
      }
    f.push_back (std::log ((alpha + 1e-12) / (total + 1e-12)));
  }
  return f;
}

std::vector<double>
LogisticRegression::scores (const std::vector<double> &x) const
{
  std::vector<double> s (w_.size ());
  for (size_t k = 0; k < w_.size (); k++) {
    s[k] = w_[k].back ();
    for (size_t j = 0; j < x.size (); j++)
      s[k] += w_[k][j] * (x[j] - mean_[j]) / sd_[j];
  }
  return s;
}

void
LogisticRegression::fit (const std::vector<std::vector<double>> &x, const std::vector<int> &y, int classes)
{
  const size_t n = x.size (), d = x.empty () ? 0 : x[0].size ();
  mean_.assign (d, 0);
  sd_.assign (d, 0);
  for (const auto &r : x)
    for (size_t j = 0; j < d; j++)
      mean_[j] += r[j] / n;
  for (const auto &r : x)
    for (size_t j = 0; j < d; j++)
      sd_[j] += (r[j] - mean_[j]) * (r[j] - mean_[j]) / n;
  for (double &s : sd_)
    s = std::sqrt (s) + 1e-9;
  w_.assign (classes, std::vector<double> (d + 1, 0.0));
  const double rate = 0.5, l2 = 1e-3;
  for (int it = 0; it < 500; it++) {
    std::vector<std::vector<double>> grad (classes, std::vector<double> (d + 1, 0.0));
    for (size_t i = 0; i < n; i++) {
      std::vector<double> s = scores (x[i]);
      double mx = *std::max_element (s.begin (), s.end ()), z = 0;
      for (double &v : s)
        z += (v = std::exp (v - mx));
      for (int k = 0; k < classes; k++) {
        double g = s[k] / z - (y[i] == k ? 1.0 : 0.0);
        for (size_t j = 0; j < d; j++)
          grad[k][j] += g * (x[i][j] - mean_[j]) / sd_[j] / n;
        grad[k][d] += g / n;
      }
    }
    for (int k = 0; k < classes; k++)
      for (size_t j = 0; j <= d; j++)
        w_[k][j] -= rate * (grad[k][j] + (j < d ? l2 * w_[k][j] : 0.0));
  }
}

int
LogisticRegression::predict (const std::vector<double> &x) const
{
  std::vector<double> s = scores (x);
  return static_cast<int> (std::max_element (s.begin (), s.end ()) - s.begin ());
}

double
balanced_accuracy (const std::vector<int> &truth, const std::vector<int> &pred, int classes)
{
  double sum = 0;
  int present = 0;
  for (int k = 0; k < classes; k++) {
    long n = 0, hit = 0;
    for (size_t i = 0; i < truth.size (); i++)
      if (truth[i] == k) {
        n++;
        hit += pred[i] == k;
      }
    if (n) {
      sum += static_cast<double> (hit) / n;
      present++;
    }
  }
  return present ? sum / present : 0.0;
}

}  // namespace neuro::train
