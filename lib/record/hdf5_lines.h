// SPDX-License-Identifier: LGPL-2.1-or-later
/* tokensink's records (the JSON Lines of jsonl.h) written as an HDF5
 * recording (hdf5_recording.h): the one mapping between the two formats.
 * tokensink format=hdf5 feeds it the lines its record orderer makes, so
 * both formats hold the same records by construction; a JSON Lines file
 * can be converted the same way.
 *
 * Per stream, the last `stream` record is the description written; `end`
 * records are implied (a file exists only once every stream has ended).
 * The first stream with a source gives the file's root `source` and
 * `source-sha256`. */
#pragma once

#include <map>
#include <string>

#include "hdf5_recording.h"

namespace neuro {

class Hdf5LineRecorder {
public:
  Hdf5Status create (const std::string &location, bool overwrite);
  bool is_open () const { return rec_.is_open (); }
  /* Whole lines, each one record. */
  Hdf5Status take_lines (const std::string &lines);
  Hdf5Status finish ();
  void abort ();

private:
  Hdf5Status take_line (const std::string &line);

  Hdf5Recording rec_;
  Hdf5FileInfo file_info_;
  std::map<unsigned, Hdf5StreamInfo> streams_;
};

}  // namespace neuro
