// SPDX-License-Identifier: LGPL-2.1-or-later
/* Synthetic resting-state EEG for demos and tests, deterministic for a seed.
 *
 * Per channel (microvolts):
 *  - a 1/f ("pink") background from 0.5 to 50 Hz, the sum of one-pole low-pass
 *    filtered white noises with corners spaced by octaves (equal variances give
 *    a 1/f spectrum between the corners), partly shared between channels as
 *    volume conduction would;
 *  - an alpha rhythm (~10 Hz narrow-band process, waxing and waning), strongest
 *    over occipital and parietal sites, about 3x stronger in amplitude with
 *    eyes closed; the gain follows an eyes change with a 0.3 s time constant;
 *  - with eyes open, blinks (Poisson, ~one per 4 s): a ~0.35 s positive bump of
 *    ~100 uV at Fp1/Fp2 that falls off towards the back of the head.
 * Channel roles come from 10-10 labels (O*, PO*, P*, ...; odd = left, even =
 * right, z = midline); other labels get a generic mid-scalp profile. */
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace neuro {

/* The first n labels of: the 19 10-20 channels (Fp1 Fp2 F7 F3 Fz F4 F8 T3 C3
 * Cz C4 T4 T5 P3 Pz P4 T6 O1 O2), then 45 further 10-10 sites up to 64, then
 * "E65", "E66", ... */
std::vector<std::string> synthetic_channel_names (size_t n);

class SyntheticEeg
{
public:
  SyntheticEeg (const std::vector<std::string> &channel_names, int rate, uint64_t seed);

  /* Appends `frames` interleaved frames to `out`. */
  void generate (size_t frames, bool eyes_closed, std::vector<float> &out);

private:
  struct Pink
  {
    std::vector<double> state;  /* one per corner frequency */
  };
  struct Resonator
  {
    double y1 = 0, y2 = 0;
  };
  struct Site
  {
    double alpha_left, alpha_right, blink, gain;
    Pink pink;
  };

  double pink_step (Pink &p);
  double alpha_step (Resonator &r);
  double blink_step (bool eyes_closed);

  int rate_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::vector<Site> sites_;
  std::vector<double> pole_, pole_gain_;  /* one-pole filters of the pink noise */
  Pink common_;
  Resonator alpha_l_, alpha_r_;
  double res_a1_, res_a2_, res_norm_;     /* alpha resonator coefficients */
  double envelope_ = 0.0, envelope_pole_; /* slow waxing and waning of alpha */
  double alpha_gain_ = -1.0;              /* smoothed eyes-dependent gain */
  double gain_smooth_;
  int64_t blink_pos_ = -1;                /* samples into the current blink, -1 none */
  int64_t blink_len_;
  double blink_amp_ = 0.0;
};

}  // namespace neuro
