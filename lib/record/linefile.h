/* A file of complete lines that survives a killed process and bounds what a
 * power loss can take.
 *
 * append() hands the bytes to the kernel at once with write(2): a process
 * killed afterwards (even by SIGKILL) loses none of them. sync_if_due() runs
 * fdatasync(2) when the interval has passed, so after a crash of the machine
 * at most one interval of lines is missing. Callers append whole lines only. */
#pragma once

#include <glib.h>

#include <string>

namespace neuro {

class LineFile {
public:
  LineFile () = default;
  ~LineFile ();
  LineFile (const LineFile &) = delete;
  LineFile &operator= (const LineFile &) = delete;

  /* With overwrite false an existing file is an error (EEXIST). Returns 0 or an errno. */
  int open (const std::string &path, bool overwrite);
  bool is_open () const { return fd_ >= 0; }
  /* Writes everything or returns the errno of the failing write(2). */
  int append (const std::string &data);
  /* fdatasync when interval_us has passed since the last one (0: always). */
  int sync_if_due (gint64 interval_us);
  /* fdatasync if anything was appended since the last one. */
  int sync ();
  /* Syncs and closes; returns the first errno seen. */
  int close ();

private:
  int fd_ = -1;
  gint64 last_sync_us_ = 0;
  bool unsynced_ = false;       /* appended since the last fdatasync */
};

}  // namespace neuro
