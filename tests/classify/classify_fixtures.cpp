// SPDX-License-Identifier: LGPL-2.1-or-later
#include "classify_fixtures.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "test_paths.h"

namespace classify_test {

std::string
tuev_model ()
{
  if (neuro_test::reads_recordings ())
    return neuro_test::need_file (neuro_test::shared_dir () + "/models/tfm-encoder-tuev-authors.safetensors");
  return neuro_test::classifier_fixture ();
}

const std::vector<std::string> &
tuev_channels ()
{
  static const std::vector<std::string> names = {
    "FP1-F7", "F7-T3", "T3-T5", "T5-O1", "FP2-F8", "F8-T4", "T4-T6", "T6-O2",
    "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "FP2-F4", "F4-C4", "C4-P4", "P4-O2",
  };
  return names;
}

std::vector<uint32_t>
random_tokens (int frames, int channels, uint32_t seed, uint32_t vocabulary)
{
  std::vector<uint32_t> out ((size_t) frames * channels);
  uint32_t x = seed * 2654435761u + 1;
  for (uint32_t &t : out) {
    x = x * 1664525u + 1013904223u;
    t = (x >> 8) % vocabulary;
  }
  return out;
}

std::vector<uint32_t>
channel_major (const std::vector<uint32_t> &frame_major, int channels, int first,
    int count, const std::vector<int> &pick)
{
  std::vector<uint32_t> out;
  for (int c : pick)
    for (int t = 0; t < count; t++)
      out.push_back (frame_major[(size_t) (first + t) * channels + c]);
  return out;
}

GstCaps *
token_caps (int channels, int vocabulary, int codebooks, const char *modality)
{
  return gst_caps_new_simple ("application/x-tokens",
      "modality", G_TYPE_STRING, modality,
      "channels", G_TYPE_INT, channels,
      "vocabulary", G_TYPE_INT, vocabulary,
      "codebooks", G_TYPE_INT, codebooks,
      "framerate", GST_TYPE_FRACTION, 2, 1,
      "model", G_TYPE_STRING, "test-tokens", NULL);
}

GstBuffer *
token_buffer (const std::vector<uint32_t> &frame_major, int channels, int first,
    int count, GstClockTime pts, GstClockTime frame_period)
{
  const gsize bytes = (gsize) count * channels * sizeof (uint32_t);
  GstBuffer *buf = gst_buffer_new_memdup (frame_major.data () + (size_t) first * channels,
      bytes);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = count * frame_period;
  return buf;
}

void
write_model_with_metadata (const std::string &source, const std::string &dest,
    const std::map<std::string, std::string> &metadata)
{
  std::ifstream in (source, std::ios::binary);
  std::string bytes ((std::istreambuf_iterator<char> (in)), std::istreambuf_iterator<char> ());
  if (bytes.size () < 8)
    throw std::runtime_error ("cannot read " + source);
  uint64_t header_len = 0;
  std::memcpy (&header_len, bytes.data (), 8);
  nlohmann::json header = nlohmann::json::parse (bytes.substr (8, header_len));
  header["__metadata__"] = metadata;
  std::string text = header.dump ();
  text.append ((8 - text.size () % 8) % 8, ' ');  /* keeps the tensors 8-byte aligned */
  const uint64_t new_len = text.size ();
  std::ofstream out (dest, std::ios::binary);
  out.write ((const char *) &new_len, 8);
  out << text;
  out.write (bytes.data () + 8 + header_len, bytes.size () - 8 - header_len);
}

}  // namespace classify_test
