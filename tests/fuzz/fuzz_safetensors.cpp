// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: the safetensors parser of the model library
 * (models/safetensors.cpp): header length, JSON, tensor entries, offsets,
 * metadata and its integer limits, dtype conversion.
 *
 * Invariants checked beyond "no crash, no sanitizer report, no huge
 * allocation": every refusal is a ModelError with a valid UTF-8 message. */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "safetensors.h"
#include "utf8.h"

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  try {
    const neuro::SafetensorsFile file =
        neuro::SafetensorsFile::parse (std::vector<unsigned char> (data, data + size), "fuzz.safetensors");
    neuro::read_model_info (file);
    for (const neuro::TensorEntry &t : file.tensors ()) {
      try {
        file.floats (t.name);
      } catch (const neuro::ModelError &) {
        file.ints (t.name);  /* not a float tensor: then it is an integer one */
      }
    }
  } catch (const neuro::ModelError &e) {
    const std::string msg = e.what ();
    if (neuro::valid_utf8 (msg) != msg) {
      std::fprintf (stderr, "invalid UTF-8 in a ModelError: %s\n", msg.c_str ());
      std::abort ();
    }
  }
  return 0;
}
