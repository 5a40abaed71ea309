// SPDX-License-Identifier: LGPL-2.1-or-later
/* A file of complete lines that survives a killed process and bounds what a
 * power loss can take.
 *
 * append() hands the bytes to the kernel at once with write(2): a process
 * killed afterwards (even by SIGKILL) loses none of them. sync_if_due() runs
 * fdatasync(2) when the interval has passed, so after a crash of the machine
 * at most one interval of lines is missing. Callers append whole lines only,
 * and the file only ever holds whole appends: a write that fails part way
 * (disk full) is cut back to the previous append.
 *
 * open() takes an advisory lock (flock) on a regular file: a second LineFile, in
 * this or another process, refuses the file (EBUSY) instead of splicing its
 * lines into it. sync_if_due() and sync() also check that the path still
 * names the open file: a file deleted (or its folder removed) or replaced
 * while recording is an error (ENOENT, ESTALE), not silent loss. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include <string>

namespace neuro {

class LineFile {
public:
  LineFile () = default;
  ~LineFile ();
  LineFile (const LineFile &) = delete;
  LineFile &operator= (const LineFile &) = delete;

  /* With overwrite false an existing file is an error (EEXIST); a file another
   * LineFile has open is EBUSY (overwrite or not, nothing is truncated).
   * Returns 0 or an errno. */
  int open (const std::string &path, bool overwrite);
  bool is_open () const { return fd_ >= 0; }
  /* A regular file (not a device such as /dev/stdout or /dev/full). */
  bool is_regular () const { return fd_ >= 0 && regular_; }
  /* Writes everything, or returns the errno of the failing write(2) with the
   * file cut back to its length before the call. */
  int append (const std::string &data);
  /* fdatasync when interval_us has passed since the last one (0: always),
   * after checking that the path still names the file. */
  int sync_if_due (gint64 interval_us);
  /* fdatasync if anything was appended since the last one; ENOENT when the
   * file was deleted, ESTALE when another file took its path. */
  int sync ();
  /* Syncs (without the presence check) and closes; returns the first errno seen. */
  int close ();

private:
  int check_still_there () const;
  int flush ();

  std::string path_;
  int fd_ = -1;
  off_t size_ = 0;              /* bytes of whole appends */
  dev_t dev_ = 0;               /* identity of the open file */
  ino_t ino_ = 0;
  bool regular_ = false;
  gint64 last_sync_us_ = 0;
  bool unsynced_ = false;       /* appended since the last fdatasync */
};

}  // namespace neuro
