// SPDX-License-Identifier: LGPL-2.1-or-later
/* Shared fixtures of the lbmclassify tests and benchmark: token streams,
 * token caps and buffers, and model files derived from the authors' TUEV
 * classifier (their converted checkpoint has no metadata). */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace classify_test {

/* The authors' TUEV classifier, 16 bipolar channels, 6 classes, 8192 tokens,
 * when the test reads the recordings (neuro_test::choose_recordings);
 * otherwise a classifier of that shape with random weights (written by
 * tests/models/meson.build). */
std::string tuev_model ();

/* The 16-channel bipolar TCP montage the TUEV classifier was trained on. */
const std::vector<std::string> &tuev_channels ();

/* Deterministic pseudo-random token ids in [0, vocabulary), frame-major:
 * tokens[frame * channels + channel], as in an x-tokens payload. */
std::vector<uint32_t> random_tokens (int frames, int channels, uint32_t seed,
    uint32_t vocabulary = 8192);

/* Frames [first, first + count) of a frame-major stream, channel-major as
 * neuro::Classifier::logits takes them, for channels `pick` in that order. */
std::vector<uint32_t> channel_major (const std::vector<uint32_t> &frame_major,
    int channels, int first, int count, const std::vector<int> &pick);

/* framerate 2/1 (frames 0.5 s apart), as tfmtokenize with the shipped models */
GstCaps *token_caps (int channels, int vocabulary = 8192, int codebooks = 1,
    const char *modality = "eeg");

/* A buffer of `count` frames starting at frame `first` of the stream, PTS
 * `pts`, duration count / framerate. */
GstBuffer *token_buffer (const std::vector<uint32_t> &frame_major, int channels,
    int first, int count, GstClockTime pts, GstClockTime frame_period);

/* Copies `source` to `dest` with `metadata` as the safetensors __metadata__;
 * the tensors are unchanged. */
void write_model_with_metadata (const std::string &source, const std::string &dest,
    const std::map<std::string, std::string> &metadata);

}  // namespace classify_test
