// SPDX-License-Identifier: LGPL-2.1-or-later
/* Token recordings as HDF5 datasets (docs/tokensink.md, "HDF5 format").
 *
 * The file is built in memory by HDF5 and written out by finish() to
 * <location>.part with write(2), synced and renamed to location: a killed
 * process, a full disk or any failed write never leaves a file under the
 * final name (abort() or the destructor remove the .part). Frames are
 * compressed chunk by chunk as they come, so memory holds the compressed
 * file (about 0.5 MB per hour of 64-channel EEG at 2 token frames/s) plus one
 * chunk per stream.
 *
 * No GStreamer here: the batch tool, tests and other programs use it as is. */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "geometry.h"  /* kNoToken */

namespace neuro {

constexpr int kHdf5Version = 1;
constexpr int64_t kHdf5NoTime = -1;              /* an absent pts or duration */

/* The outcome of a call: ok, or a sentence naming the file and what failed,
 * with the errno behind it when there is one (ENOSPC for a full disk). */
struct Hdf5Status {
  bool ok = true;
  int sys_errno = 0;
  std::string message;
  static Hdf5Status failure (std::string message, int sys_errno = 0);
};

struct Hdf5FileInfo {
  std::string start_utc;          /* ISO 8601 UTC of running time 0 */
  int64_t start_unix_ns = 0;
  std::string source;             /* recording the tokens were made from; "" when unknown */
  std::string source_sha256;      /* its SHA-256 in hex; "" when unknown */
  std::string software;
  std::string host;
};

struct Hdf5StreamInfo {
  unsigned stream = 0;            /* S of the group /stream<S> */
  std::string modality;
  std::vector<std::string> channel_names;
  std::vector<std::string> channel_units;    /* empty when unknown */
  int channels = 0;
  int codebooks = 1;
  int64_t vocabulary = 0;
  int fps_n = 0, fps_d = 1;
  std::string model;
  std::string model_sha256;       /* "" when unknown */
  std::string source;             /* file the stream was read from; "" when unknown */
  std::string source_sha256;
  /* Overlapping windows (caps window-frames, window-stride): frames per window
   * and frames between window starts; 0 for a plain stream. Such a stream
   * gets a `window` dataset: the window of each frame. */
  int window_frames = 0, window_stride = 0;
};

class Hdf5Recording {
public:
  Hdf5Recording ();
  ~Hdf5Recording ();             /* aborts an unfinished recording */
  Hdf5Recording (const Hdf5Recording &) = delete;
  Hdf5Recording &operator= (const Hdf5Recording &) = delete;

  /* Creates <location>.part. With overwrite false an existing location is
   * an error (EEXIST), now and again at the rename. */
  Hdf5Status create (const std::string &location, bool overwrite);
  bool is_open () const;
  const std::string &location () const { return location_; }

  void set_file_info (const Hdf5FileInfo &info) { file_info_ = info; }
  /* Describes a stream before or after its data; the last description is
   * the one written. Its shape (channels, codebooks, vocabulary) cannot
   * change once frames were appended. */
  Hdf5Status describe_stream (const Hdf5StreamInfo &info);

  /* frames × channels × codebooks tokens, channel-major per frame; each value
   * below the vocabulary or kNoToken. pts and duration in ns, one per frame;
   * window: the window index of each frame, for streams with window_frames > 0
   * (else ignored, may be null). */
  Hdf5Status append_tokens (unsigned stream, const int64_t *pts, const int64_t *duration,
      const uint32_t *tokens, size_t frames, const int64_t *window = nullptr);
  /* missing_tokens: "no token" values the classifier saw as [MASK] (the
   * record's missing-tokens; 0 = a complete window). */
  Hdf5Status add_classification (unsigned stream, int64_t pts, int64_t duration,
      int class_index, const std::vector<std::string> &labels,
      const std::vector<double> &probabilities, unsigned missing_tokens = 0);
  Hdf5Status add_annotation (unsigned stream, int64_t pts, int64_t duration,
      const std::string &text);
  Hdf5Status add_gap (unsigned stream, int64_t pts, int64_t duration, const std::string &cause);

  /* Writes what is pending and the attributes, syncs, closes and renames to
   * location. On failure the .part is removed and nothing is left behind. */
  Hdf5Status finish ();
  /* Closes and removes the .part (nothing under location is touched). */
  void abort ();

  struct Stream;                 /* per-stream state, in hdf5_recording.cpp */

private:
  Hdf5Status abandon (Hdf5Status status);   /* abort() and return status */
  Hdf5Status stream_of (unsigned stream, Stream **out);
  Hdf5Status write_everything ();

  std::string location_, part_;
  bool overwrite_ = false;
  int64_t file_ = -1;            /* hid_t */
  Hdf5FileInfo file_info_;
  std::map<unsigned, std::unique_ptr<Stream>> streams_;
};

}  // namespace neuro
