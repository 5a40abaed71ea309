#include "linefile.h"

#include <cerrno>
#include <fcntl.h>
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
  /* O_EXCL makes "never overwrite" race-free: the check and the creation are one step. */
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  fd_ = ::open (path.c_str (), flags, 0644);
  if (fd_ < 0)
    return errno;
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
    if (n < 0)
      return errno;
    if (n == 0)
      return ENOSPC;
    done += (size_t) n;
    unsynced_ = true;
  }
  return 0;
}

int
LineFile::sync ()
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
  int err = sync ();
  if (::close (fd_) != 0 && err == 0)
    err = errno;
  fd_ = -1;
  return err;
}

}  // namespace neuro
