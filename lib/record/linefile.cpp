// SPDX-License-Identifier: LGPL-2.1-or-later
#include "linefile.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace neuro {

LineFile::~LineFile ()
{
  close ();
}

int
LineFile::open (const std::string &path, bool overwrite)
{
  close ();
  /* O_EXCL makes "never overwrite" race-free: the check and the creation are
   * one step. With overwrite, truncation waits until the lock is ours, so a
   * refused second writer leaves the first one's file intact. */
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? 0 : O_EXCL);
  fd_ = ::open (path.c_str (), flags, 0644);
  if (fd_ < 0)
    return errno;
  /* Devices (/dev/stdout, /dev/full) are shared by nature: not locked. */
  struct stat st;
  int err = 0;
  if (fstat (fd_, &st) != 0)
    err = errno;
  else if (S_ISREG (st.st_mode) && flock (fd_, LOCK_EX | LOCK_NB) != 0)
    err = errno == EWOULDBLOCK ? EBUSY : errno;
  else if (overwrite && S_ISREG (st.st_mode) && ftruncate (fd_, 0) != 0)
    err = errno;
  if (err) {
    ::close (fd_);
    fd_ = -1;
    return err;
  }
  path_ = path;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  regular_ = S_ISREG (st.st_mode);
  size_ = 0;
  last_sync_us_ = g_get_monotonic_time ();
  unsynced_ = false;
  return 0;
}

int
LineFile::append (const std::string &data)
{
  size_t done = 0;
  while (done < data.size ()) {
    ssize_t n = ::write (fd_, data.data () + done, data.size () - done);
    if (n < 0 && errno == EINTR)
      continue;
    const int err = n < 0 ? errno : n == 0 ? ENOSPC : 0;
    if (err) {
      /* Never leave a partial line: cut back to the last whole append (a
       * pipe or device cannot be cut, and holds no partial file either). */
      if (done > 0 && ftruncate (fd_, size_) == 0)
        lseek (fd_, size_, SEEK_SET);
      return err;
    }
    done += (size_t) n;
    unsynced_ = true;
  }
  size_ += (off_t) done;
  return 0;
}

/* The recording is useless if nobody can find it any more. */
int
LineFile::check_still_there () const
{
  struct stat path_st;
  if (!regular_)
    return 0;  /* /dev/stdout and the like */
  if (stat (path_.c_str (), &path_st) != 0)
    return errno;
  return path_st.st_dev == dev_ && path_st.st_ino == ino_ ? 0 : ESTALE;
}

int
LineFile::sync ()
{
  if (const int err = check_still_there ())
    return err;
  return flush ();
}

int
LineFile::flush ()
{
  last_sync_us_ = g_get_monotonic_time ();
  if (!unsynced_)
    return 0;
  unsynced_ = false;
  if (fdatasync (fd_) == 0)
    return 0;
  /* Pipes and character devices (e.g. /dev/stdout) cannot be synced; that is not a failure. */
  return errno == EINVAL || errno == EROFS ? 0 : errno;
}

int
LineFile::sync_if_due (gint64 interval_us)
{
  if (g_get_monotonic_time () - last_sync_us_ < interval_us)
    return 0;
  return sync ();
}

int
LineFile::close ()
{
  if (fd_ < 0)
    return 0;
  /* No presence check: the owner may have removed the file on purpose. */
  int err = flush ();
  if (::close (fd_) != 0 && err == 0)
    err = errno;
  fd_ = -1;
  return err;
}

}  // namespace neuro
