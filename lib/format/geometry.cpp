// SPDX-License-Identifier: LGPL-2.1-or-later
#include "geometry.h"

#include <limits>
#include <stdexcept>

namespace neuro {

WindowGeometry
WindowGeometry::with_channels (int count) const
{
  WindowGeometry g = *this;
  g.channels = count;
  return g;
}

std::string
WindowGeometry::check () const
{
  if (channels <= 0 || bins <= 0 || n_fft <= 0 || hop <= 0 || window_samples <= 0)
    return "channels, bins, n-fft, hop and window length must all be positive";
  if (hop > n_fft)
    return "hop (" + std::to_string (hop) + ") larger than n-fft (" + std::to_string (n_fft) +
        ") leaves samples of the window under no frame";
  if (n_fft > window_samples)
    return "n-fft (" + std::to_string (n_fft) + ") longer than the window (" +
        std::to_string (window_samples) + " samples)";
  if (window_samples % hop != 0)
    return "window length " + std::to_string (window_samples) + " is not a multiple of hop " +
        std::to_string (hop) + ", so windows would not start on a frame";
  if (n_fft % hop != 0)
    return "n-fft " + std::to_string (n_fft) + " is not a multiple of hop " + std::to_string (hop) +
        ", so the frames of a window would not tile its samples";
  const double floats = (double) frames_per_window () * (double) channels * (bins + n_fft);
  if (floats > (double) kMaxWindowFloats)
    return "a window of " + std::to_string (channels) + " channels x " + std::to_string (frames_per_window ()) +
        " frames x (" + std::to_string (bins) + " bins + " + std::to_string (n_fft) + " samples) needs " +
        std::to_string ((long long) (floats * 4 / (1 << 20))) + " MiB, more than the limit of " +
        std::to_string (kMaxWindowFloats * 4 / (1 << 20)) + " MiB";
  return "";
}

namespace {

/* Largest value each integer metadata key may take. Model files come from
 * anywhere; these bound what the elements allocate from them (a window of
 * window-samples per channel, a codebook of vocabulary entries, a block per
 * depth) far above any real model, so a corrupt value is an error naming the
 * value and the limit, not an out-of-memory abort. */
struct MetadataLimit {
  const char *key;
  int max;
};

constexpr MetadataLimit kMetadataLimits[] = {
  {"sample-rate", 1000000}, {"n-fft", 65536}, {"hop", 65536}, {"bins", 32769},
  {"window-samples", kMaxWindowSamples}, {"vocabulary", kMaxVocabulary}, {"embedding-size", 8192},
  {"heads", 256}, {"freq-depth", 256}, {"temporal-depth", 256}, {"decoder-depth", 256},
  {"depth", 256}, {"freq-patch", 32769},
};
constexpr int kDefaultMetadataLimit = 1 << 20;

int
metadata_limit (const std::string &key)
{
  for (const auto &l : kMetadataLimits)
    if (key == l.key)
      return l.max;
  return kDefaultMetadataLimit;
}

}  // namespace

int
metadata_positive_int (const std::map<std::string, std::string> &metadata, const std::string &key, int fallback)
{
  auto it = metadata.find (key);
  if (it == metadata.end ())
    return fallback;
  long v = 0;
  try {
    size_t used = 0;
    v = std::stol (it->second, &used);
    if (used != it->second.size ())
      v = 0;
  } catch (const std::out_of_range &) {
    v = std::numeric_limits<long>::max ();
  } catch (const std::exception &) {
  }
  if (v <= 0)
    throw std::invalid_argument ("metadata '" + key + "' = '" + it->second + "' is not a positive integer");
  if (v > metadata_limit (key))
    throw std::invalid_argument ("metadata '" + key + "' = '" + it->second + "' exceeds the limit of " +
        std::to_string (metadata_limit (key)));
  return static_cast<int> (v);
}

WindowGeometry
WindowGeometry::from_metadata (const std::map<std::string, std::string> &metadata)
{
  WindowGeometry g;
  g.rate = metadata_positive_int (metadata, "sample-rate", 200);
  g.n_fft = metadata_positive_int (metadata, "n-fft", 200);
  g.hop = metadata_positive_int (metadata, "hop", 100);
  g.bins = metadata_positive_int (metadata, "bins", 100);
  g.window_samples = metadata_positive_int (metadata, "window-samples", 2000);
  if (g.window_samples < g.n_fft)
    throw std::invalid_argument ("window-samples (" + std::to_string (g.window_samples) +
        ") is shorter than n-fft (" + std::to_string (g.n_fft) + ")");
  if (g.bins > g.n_fft / 2 + 1)
    throw std::invalid_argument ("bins (" + std::to_string (g.bins) + ") exceeds n-fft/2+1");
  return g;
}

void
WindowGeometry::write_metadata (std::map<std::string, std::string> &metadata) const
{
  metadata["sample-rate"] = std::to_string (rate);
  metadata["n-fft"] = std::to_string (n_fft);
  metadata["hop"] = std::to_string (hop);
  metadata["bins"] = std::to_string (bins);
  metadata["window-samples"] = std::to_string (window_samples);
}

}  // namespace neuro
