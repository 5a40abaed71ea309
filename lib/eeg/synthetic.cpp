// SPDX-License-Identifier: LGPL-2.1-or-later
#include "synthetic.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace neuro {

static const char *const kSiteNames[] = {
  "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4", "T5", "P3", "Pz",
  "P4", "T6", "O1", "O2",
  "AF7", "AF3", "AFz", "AF4", "AF8", "F5", "F1", "F2", "F6", "FT7", "FC5", "FC3", "FC1", "FCz",
  "FC2", "FC4", "FC6", "FT8", "C5", "C1", "C2", "C6", "TP7", "CP5", "CP3", "CP1", "CPz", "CP2",
  "CP4", "CP6", "TP8", "P5", "P1", "P2", "P6", "PO7", "PO3", "POz", "PO4", "PO8", "Oz", "Iz",
  "Fpz", "P9", "P10"};

std::vector<std::string>
synthetic_channel_names (size_t n)
{
  const size_t known = sizeof (kSiteNames) / sizeof (kSiteNames[0]);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; i++)
    out.push_back (i < known ? kSiteNames[i] : "E" + std::to_string (i + 1));
  return out;
}

static constexpr double kPi = 3.14159265358979323846;
/* Amplitudes (standard deviations, uV) of the components. */
static constexpr double kBackgroundUv = 12.0;
static constexpr double kCommonShare = 0.4;   /* part of the background shared by all sites */
static constexpr double kAlphaUv = 14.0;      /* eyes closed, at O1/O2 */
static constexpr double kAlphaOpenGain = 0.3; /* eyes open / eyes closed amplitude */
static constexpr double kAlphaHz = 10.0, kAlphaBandwidthHz = 1.5;
static constexpr double kBlinkUv = 100.0, kBlinkSeconds = 0.35, kBlinksPerSecond = 0.25;
static constexpr double kPinkCorners[] = {0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0};

static std::string
lower (const std::string &s)
{
  std::string o = s;
  std::transform (o.begin (), o.end (), o.begin (), [] (unsigned char c) {
    return (char) std::tolower (c);
  });
  return o;
}

static bool
starts (const std::string &s, const char *p)
{
  return s.rfind (p, 0) == 0;
}

/* Relative alpha amplitude of a 10-10 site: occipital > parietal > the rest. */
static double
alpha_weight (const std::string &n)
{
  if (starts (n, "po")) return 0.85;
  if (starts (n, "o") || starts (n, "i")) return 1.0;
  if (n == "t5" || n == "t6" || n == "p7" || n == "p8" || n == "p9" || n == "p10") return 0.6;
  if (starts (n, "p")) return 0.7;
  if (starts (n, "cp") || starts (n, "tp")) return 0.45;
  if (starts (n, "c") || starts (n, "t")) return 0.3;
  if (starts (n, "fp")) return 0.1;
  if (starts (n, "f") || starts (n, "af")) return 0.15;
  return 0.3;
}

/* Relative blink amplitude: the eyes are a dipole just in front of Fp1/Fp2. */
static double
blink_weight (const std::string &n)
{
  if (starts (n, "fp")) return 1.0;
  if (starts (n, "af")) return 0.7;
  if (n == "f7" || n == "f8") return 0.5;
  if (starts (n, "fc") || starts (n, "ft")) return 0.2;
  if (starts (n, "f")) return 0.35;
  if (starts (n, "c") || starts (n, "t")) return 0.1;
  return 0.03;
}

/* 10-10 convention: odd numbers left, even right, 'z' midline. */
static double
left_share (const std::string &n)
{
  if (n.empty () || n.back () == 'z')
    return 0.5;
  if (!std::isdigit ((unsigned char) n.back ()))
    return 0.5;
  return ((n.back () - '0') % 2) ? 0.85 : 0.15;
}

SyntheticEeg::SyntheticEeg (const std::vector<std::string> &channel_names, int rate,
    uint64_t seed)
    : rate_ (rate), rng_ (seed)
{
  for (double fc : kPinkCorners) {
    const double a = std::exp (-2.0 * kPi * fc / rate);
    pole_.push_back (a);
    pole_gain_.push_back (std::sqrt (1.0 - a * a) / std::sqrt ((double) std::size (kPinkCorners)));
  }
  common_.state.assign (pole_.size (), 0.0);
  std::uniform_real_distribution<double> spread (0.8, 1.2);
  for (const std::string &name : channel_names) {
    const std::string n = lower (name);
    const double a = alpha_weight (n), l = left_share (n);
    sites_.push_back ({a * l, a * (1.0 - l), blink_weight (n), spread (rng_),
        Pink{std::vector<double> (pole_.size (), 0.0)}});
  }
  const double r = std::exp (-kPi * kAlphaBandwidthHz / rate);
  const double c = std::cos (2.0 * kPi * kAlphaHz / rate);
  res_a1_ = 2.0 * r * c;
  res_a2_ = -r * r;
  /* Output variance of y = a1 y1 + a2 y2 + x for unit-variance white x. */
  const double var = (1.0 + r * r) /
      ((1.0 - r * r) * ((1.0 + r * r) * (1.0 + r * r) - 4.0 * r * r * c * c));
  res_norm_ = 1.0 / std::sqrt (var);
  envelope_pole_ = std::exp (-2.0 * kPi * 0.2 / rate);
  gain_smooth_ = std::exp (-1.0 / (0.3 * rate));
  blink_len_ = std::max<int64_t> (1, (int64_t) std::lround (kBlinkSeconds * rate));
}

double
SyntheticEeg::pink_step (Pink &p)
{
  double sum = 0.0;
  for (size_t k = 0; k < pole_.size (); k++) {
    p.state[k] = pole_[k] * p.state[k] + pole_gain_[k] * normal_ (rng_);
    sum += p.state[k];
  }
  return sum;
}

double
SyntheticEeg::alpha_step (Resonator &r)
{
  const double y = res_a1_ * r.y1 + res_a2_ * r.y2 + normal_ (rng_);
  r.y2 = r.y1;
  r.y1 = y;
  return y * res_norm_;
}

/* A raised-cosine bump; a new blink starts with probability rate * dt. */
double
SyntheticEeg::blink_step (bool eyes_closed)
{
  if (blink_pos_ < 0) {
    std::uniform_real_distribution<double> u (0.0, 1.0);
    const bool start = u (rng_) < kBlinksPerSecond / rate_;
    if (!start || eyes_closed)
      return 0.0;
    blink_pos_ = 0;
    blink_amp_ = kBlinkUv * (0.7 + 0.6 * u (rng_));
  }
  const double phase = (double) blink_pos_ / blink_len_;
  const double v = blink_amp_ * 0.5 * (1.0 - std::cos (2.0 * kPi * phase));
  if (++blink_pos_ >= blink_len_)
    blink_pos_ = -1;
  return v;
}

void
SyntheticEeg::generate (size_t frames, bool eyes_closed, std::vector<float> &out)
{
  const double target = eyes_closed ? 1.0 : kAlphaOpenGain;
  if (alpha_gain_ < 0)
    alpha_gain_ = target;
  const size_t nch = sites_.size ();
  const size_t base = out.size ();
  out.resize (base + frames * nch);
  for (size_t i = 0; i < frames; i++) {
    alpha_gain_ = target + (alpha_gain_ - target) * gain_smooth_;
    envelope_ = envelope_pole_ * envelope_ +
        std::sqrt (1.0 - envelope_pole_ * envelope_pole_) * normal_ (rng_);
    const double alpha_amp = kAlphaUv * alpha_gain_ * std::max (0.2, 1.0 + 0.4 * envelope_);
    const double al = alpha_step (alpha_l_) * alpha_amp;
    const double ar = alpha_step (alpha_r_) * alpha_amp;
    const double common = pink_step (common_);
    const double blink = blink_step (eyes_closed);
    for (size_t c = 0; c < nch; c++) {
      Site &s = sites_[c];
      const double background = kBackgroundUv * s.gain *
          ((1.0 - kCommonShare) * pink_step (s.pink) + kCommonShare * common);
      out[base + i * nch + c] =
          (float) (background + s.alpha_left * al + s.alpha_right * ar + s.blink * blink);
    }
  }
}

}  // namespace neuro
