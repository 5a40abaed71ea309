// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: the EDF/EDF+/BDF/BDF+ reader of lib/eeg, EDFlib's header
 * and EDF+ annotation parsing under it, the header repair path and the
 * streaming (native and resampled, with a seek).
 *
 * The input is written to a memfd that EDFlib opens by its /proc path.
 * Invariants checked beyond "no crash, no sanitizer report, no huge
 * allocation": every refusal is an EegError, every text that leaves the
 * library (labels, units, annotations, messages) is valid UTF-8. */
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "eeg_file.h"
#include "utf8.h"

namespace {

void
require_utf8 (const std::string &text)
{
  if (neuro::valid_utf8 (text) != text) {
    std::fprintf (stderr, "invalid UTF-8 left the library: %s\n", text.c_str ());
    std::abort ();
  }
}

void
exercise (const std::string &path)
{
  neuro::EegRecording rec = neuro::read_eeg_file (path);
  for (const auto &name : rec.channel_names)
    require_utf8 (name);
  for (const auto &unit : rec.units)
    require_utf8 (unit);
  for (const auto &a : rec.annotations)
    require_utf8 (a.text);
  /* Resampled streaming with a seek back, as eegsrc does it. */
  neuro::EegStream stream (path, {}, {}, rec.rate == 100 ? 160 : 100);
  std::vector<float> out;
  stream.read (64, out);
  stream.seek (stream.total_frames () / 2);
  stream.read (64, out);
  for (const auto &line : stream.file ().identification ())
    require_utf8 (line);
}

}  // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const int fd = memfd_create ("fuzz-edf", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string (fd);
  /* Overwrite, then cut the tail: truncating to 0 first would free and
   * re-allocate every page of the memfd on every input. */
  if (fd < 0 || pwrite (fd, data, size, 0) != (ssize_t) size || ftruncate (fd, (off_t) size) != 0)
    std::abort ();
  try {
    exercise (path);
  } catch (const neuro::EegError &e) {
    require_utf8 (e.what ());
  }
  return 0;
}
