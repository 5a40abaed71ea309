// SPDX-License-Identifier: LGPL-2.1-or-later
/* Safetensors reading and writing shared by every model of the project
 * (LibTorch-free, so tools and tests can use it without the 37 s torch
 * compile).
 *
 * Format: 8-byte little-endian header length, a JSON object mapping tensor
 * names to {dtype, shape, data_offsets} plus an optional "__metadata__"
 * string -> string map, then the raw little-endian tensor bytes. Offsets are
 * relative to the first byte after the header.
 *
 * Every problem (truncated file, bad header length or JSON, unknown dtype,
 * shape/offset mismatch, offsets outside the file, overlapping tensors) is a
 * neuro::ModelError whose message names the file and the problem, in valid
 * UTF-8 whatever bytes the file holds. The header may be at most 100 MiB. */
#pragma once

#include "tfm_models.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace neuro {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/* "F32" etc. as spelled in safetensors headers. */
const char *dtype_name (DType dtype);
size_t dtype_size (DType dtype);

using Shape = std::vector<int64_t>;
std::string shape_string (const Shape &shape);  /* "[8192, 64]" */

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  size_t begin = 0;  /* byte range in the data section */
  size_t end = 0;
  int64_t numel () const;
};

class SafetensorsFile {
 public:
  /* Reads and validates the whole file; throws ModelError. */
  static SafetensorsFile open (const std::string &path);
  /* The same from the file's bytes; `path` only names it in messages. */
  static SafetensorsFile parse (std::vector<unsigned char> bytes, const std::string &path);

  const std::string &path () const { return path_; }
  const std::map<std::string, std::string> &metadata () const { return metadata_; }
  const std::vector<TensorEntry> &tensors () const { return tensors_; }  /* file order */

  bool has (const std::string &name) const;
  const TensorEntry &entry (const std::string &name) const;  /* throws if absent */

  /* Tensor values converted to float (from F32, F64, F16, BF16) or to int64
   * (from I64, I32, I16, I8, U8, BOOL); any other dtype is a ModelError. */
  std::vector<float> floats (const std::string &name) const;
  std::vector<int64_t> ints (const std::string &name) const;

  /* The tensor's raw little-endian bytes (entry(name).end - begin of them). */
  const unsigned char *raw (const std::string &name) const { return bytes (entry (name)); }

  /* Throws naming the tensor when its shape differs. */
  void require_shape (const std::string &name, const Shape &shape) const;

  /* Throws naming every missing and every unexpected tensor. */
  void require_names (const std::vector<std::string> &expected) const;

 private:
  std::string path_;
  std::vector<unsigned char> data_;  /* the data section */
  std::map<std::string, std::string> metadata_;
  std::vector<TensorEntry> tensors_;
  std::map<std::string, size_t> index_;

  const unsigned char *bytes (const TensorEntry &e) const { return data_.data () + e.begin; }
};

/* One tensor to write: `data` holds numel * dtype_size bytes, little-endian. */
struct TensorData {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  const void *data = nullptr;
};

/* Writes a safetensors file (tensors in the given order; header padded with
 * spaces to a multiple of 8 bytes). Throws ModelError on I/O failure or
 * duplicate names. */
void write_safetensors (const std::string &path, const std::vector<TensorData> &tensors,
    const std::map<std::string, std::string> &metadata);

/* The model description of a file: __metadata__ with the authors' defaults
 * for absent keys (docs/formats.md, "Model files"). The architecture, when the metadata
 * lacks it, is recognised from the tensor names ("quantizer.embedding.weight"
 * -> "tfm-tokenizer", "classification_head.weight" -> "tfm-encoder").
 * Malformed numbers are a ModelError naming the key.
 *
 * Metadata keys (all values are strings; default in brackets):
 *   architecture     tfm-tokenizer | tfm-encoder       [from tensor names]
 *   id               caps/recording identifier        [file name stem]
 *   modality         eeg, audio, haptic, ...          [eeg]
 *   sample-rate      Hz                               [200]
 *   n-fft, hop       STFT = temporal conv kernel/stride, samples [200, 100]
 *   bins             spectrum bins fed to the model   [100]
 *   window-samples   samples per tokenizer window     [2000]
 *   vocabulary       codebook size                    [8192]
 *   labels           comma list (classifiers)         [0, 1, ...]
 *   channels         comma list of expected channel names (classifiers) [by position]
 *   embedding-size, heads                             [64, 8]
 *   freq-depth, temporal-depth, decoder-depth, freq-patch (tokenizer) [2, 2, 8, 5]
 *   depth            LAT blocks (classifier)          [4]
 * Class count, channel rows and positional-table length of a classifier come
 * from its tensor shapes. */
ModelInfo read_model_info (const SafetensorsFile &file);

/* Integer metadata value with a default; throws ModelError naming the key
 * and file when present but not a positive integer, or above the key's limit
 * (window-samples 4194304, vocabulary 16777216, n-fft and hop 65536,
 * sample-rate 10^6, depths and heads 256, ...; the error names value and limit). */
int metadata_int (const SafetensorsFile &file, const std::string &key, int fallback);

/* Splits "a, b,c" into {"a","b","c"} (empty string -> empty list). */
std::vector<std::string> split_list (const std::string &text);

}  // namespace neuro
