// SPDX-License-Identifier: LGPL-2.1-or-later
#include "hdf5_recording.h"

#include <hdf5.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace neuro {

namespace {

/* Uncompressed bytes per chunk of the tokens dataset: small enough that a
 * reader taking one window decompresses little, large enough to compress. */
constexpr size_t kChunkBytes = 64 * 1024;
constexpr int kDeflateLevel = 4;
/* The in-memory file grows by this much at a time. */
constexpr size_t kImageIncrement = 1024 * 1024;
/* A uint16 dataset keeps 0xFFFF for "no token", so it can hold codes below it. */
constexpr int64_t kMaxNarrowVocabulary = 0xFFFF;

/* HDF5 prints its error stack to stderr by default; a library must not.
 * The previous handler is restored so other HDF5 users in the process keep theirs. */
class QuietErrors {
public:
  QuietErrors () { H5Eget_auto2 (H5E_DEFAULT, &func_, &data_); H5Eset_auto2 (H5E_DEFAULT, NULL, NULL); }
  ~QuietErrors () { H5Eset_auto2 (H5E_DEFAULT, func_, data_); }
private:
  H5E_auto2_t func_ = NULL;
  void *data_ = NULL;
};

herr_t
take_innermost (unsigned n, const H5E_error2_t *err, void *client)
{
  if (n == 0 && err->desc && *err->desc)
    *static_cast<std::string *> (client) = err->desc;
  return 0;
}

/* The sentence for a failed HDF5 call: the system error when there was one
 * (the sec2 driver leaves errno set), else HDF5's own innermost description. */
Hdf5Status
hdf5_failure (const std::string &what, const std::string &path)
{
  const int err = errno;
  std::string why;
  if (err)
    why = std::strerror (err);
  else
    H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, &why);
  H5Eclear2 (H5E_DEFAULT);
  return Hdf5Status::failure ("Could not " + what + " in \"" + path + "\"" +
      (why.empty () ? "" : ": " + why), err);
}

/* Owns one HDF5 identifier of any kind. */
class Handle {
public:
  Handle () = default;
  explicit Handle (hid_t id) : id_ (id) {}
  ~Handle () { reset (); }
  Handle (const Handle &) = delete;
  Handle &operator= (const Handle &) = delete;
  Handle (Handle &&o) noexcept : id_ (o.id_) { o.id_ = -1; }
  Handle &operator= (Handle &&o) noexcept { reset (); id_ = o.id_; o.id_ = -1; return *this; }
  hid_t get () const { return id_; }
  bool valid () const { return id_ >= 0; }
  /* Closes and reports whether that succeeded (a close can flush data). */
  bool close ()
  {
    if (id_ < 0)
      return true;
    herr_t r = H5Idec_ref (id_);
    id_ = -1;
    return r >= 0;
  }
  void reset () { close (); }
private:
  hid_t id_ = -1;
};

Handle
utf8_string_type ()
{
  Handle t (H5Tcopy (H5T_C_S1));
  H5Tset_size (t.get (), H5T_VARIABLE);
  H5Tset_cset (t.get (), H5T_CSET_UTF8);
  return t;
}

bool
write_attribute (hid_t obj, const char *name, hid_t type, hid_t space, const void *data)
{
  Handle attr (H5Acreate2 (obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  return attr.valid () && H5Awrite (attr.get (), type, data) >= 0 && attr.close ();
}

bool
attr_string (hid_t obj, const char *name, const std::string &value)
{
  Handle type = utf8_string_type ();
  Handle space (H5Screate (H5S_SCALAR));
  const char *p = value.c_str ();
  return write_attribute (obj, name, type.get (), space.get (), &p);
}

bool
attr_strings (hid_t obj, const char *name, const std::vector<std::string> &values)
{
  Handle type = utf8_string_type ();
  hsize_t n = values.size ();
  Handle space (H5Screate_simple (1, &n, NULL));
  std::vector<const char *> p;
  for (const std::string &v : values)
    p.push_back (v.c_str ());
  return write_attribute (obj, name, type.get (), space.get (), p.data ());
}

bool
attr_ints (hid_t obj, const char *name, const std::vector<int64_t> &values, bool scalar)
{
  hsize_t n = values.size ();
  Handle space (scalar ? H5Screate (H5S_SCALAR) : H5Screate_simple (1, &n, NULL));
  return write_attribute (obj, name, H5T_STD_I64LE, space.get (), values.data ());
}

bool
attr_int (hid_t obj, const char *name, int64_t value)
{
  return attr_ints (obj, name, {value}, true);
}

/* Creation properties shared by every dataset: no object timestamps, so two
 * runs over the same input give the same bytes apart from start-utc. */
Handle
dataset_properties ()
{
  Handle dcpl (H5Pcreate (H5P_DATASET_CREATE));
  H5Pset_obj_track_times (dcpl.get (), false);
  return dcpl;
}

/* A small one-shot dataset of shape dims, written whole. */
bool
write_dataset (hid_t group, const char *name, hid_t file_type, hid_t mem_type,
    const std::vector<hsize_t> &dims, const void *data)
{
  Handle space (H5Screate_simple ((int) dims.size (), dims.data (), NULL));
  Handle dcpl = dataset_properties ();
  Handle set (H5Dcreate2 (group, name, file_type, space.get (), H5P_DEFAULT, dcpl.get (),
          H5P_DEFAULT));
  return set.valid () && H5Dwrite (set.get (), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
      data) >= 0 && set.close ();
}

bool
write_times (hid_t group, const std::vector<int64_t> &pts, const std::vector<int64_t> &duration)
{
  const std::vector<hsize_t> dims {pts.size ()};
  return write_dataset (group, "pts", H5T_STD_I64LE, H5T_NATIVE_INT64, dims, pts.data ()) &&
      write_dataset (group, "duration", H5T_STD_I64LE, H5T_NATIVE_INT64, dims, duration.data ());
}

bool
write_texts (hid_t group, const char *name, const std::vector<std::string> &texts)
{
  std::vector<const char *> p;
  for (const std::string &t : texts)
    p.push_back (t.c_str ());
  Handle type = utf8_string_type ();
  return write_dataset (group, name, type.get (), type.get (), {texts.size ()}, p.data ());
}

Handle
create_group (hid_t parent, const char *name)
{
  Handle gcpl (H5Pcreate (H5P_GROUP_CREATE));
  H5Pset_obj_track_times (gcpl.get (), false);
  return Handle (H5Gcreate2 (parent, name, H5P_DEFAULT, gcpl.get (), H5P_DEFAULT));
}

/* An extendible, chunked, compressed dataset of rows of shape row_dims. */
Handle
create_growing (hid_t group, const char *name, hid_t type, const std::vector<hsize_t> &row_dims,
    hsize_t chunk_rows, const void *fill)
{
  std::vector<hsize_t> dims {0}, max {H5S_UNLIMITED}, chunk {chunk_rows};
  for (hsize_t d : row_dims) {
    dims.push_back (d);
    max.push_back (d);
    chunk.push_back (d);
  }
  Handle space (H5Screate_simple ((int) dims.size (), dims.data (), max.data ()));
  Handle dcpl = dataset_properties ();
  H5Pset_chunk (dcpl.get (), (int) chunk.size (), chunk.data ());
  H5Pset_shuffle (dcpl.get ());
  H5Pset_deflate (dcpl.get (), kDeflateLevel);
  if (fill)
    H5Pset_fill_value (dcpl.get (), type, fill);
  return Handle (H5Dcreate2 (group, name, type, space.get (), H5P_DEFAULT, dcpl.get (),
          H5P_DEFAULT));
}

/* Appends rows (row_values values each) at the end of a growing dataset. */
bool
append_rows (hid_t set, hid_t mem_type, const void *data, hsize_t rows, hsize_t row_values)
{
  if (rows == 0)
    return true;
  Handle space (H5Dget_space (set));
  const int rank = H5Sget_simple_extent_ndims (space.get ());
  std::vector<hsize_t> dims (rank);
  H5Sget_simple_extent_dims (space.get (), dims.data (), NULL);
  std::vector<hsize_t> start (rank, 0), count (dims);
  start[0] = dims[0];
  count[0] = rows;
  dims[0] += rows;
  if (H5Dset_extent (set, dims.data ()) < 0)
    return false;
  Handle file_space (H5Dget_space (set));
  H5Sselect_hyperslab (file_space.get (), H5S_SELECT_SET, start.data (), NULL, count.data (), NULL);
  hsize_t n = rows * row_values;
  Handle mem_space (H5Screate_simple (1, &n, NULL));
  return H5Dwrite (set, mem_type, mem_space.get (), file_space.get (), H5P_DEFAULT, data) >= 0;
}

/* Writes data to path (created or truncated) and syncs it; returns 0 or an errno. */
int
write_file (const std::string &path, const void *data, size_t size)
{
  int fd = ::open (path.c_str (), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    return errno;
  const char *p = static_cast<const char *> (data);
  int err = 0;
  while (size > 0 && !err) {
    ssize_t n = ::write (fd, p, size);
    if (n < 0 && errno != EINTR)
      err = errno;
    else if (n > 0) {
      p += n;
      size -= (size_t) n;
    }
  }
  if (!err && ::fsync (fd) < 0)
    err = errno;
  if (::close (fd) < 0 && !err)
    err = errno;
  return err;
}

int
fsync_directory (const std::string &path)
{
  int fd = ::open (path.c_str (), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  int err = ::fsync (fd) < 0 ? errno : 0;
  ::close (fd);
  return err;
}

std::string
directory_of (const std::string &path)
{
  size_t slash = path.rfind ('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr (0, slash);
}

bool
exists (const std::string &path)
{
  return ::access (path.c_str (), F_OK) == 0;
}

}  // namespace

Hdf5Status
Hdf5Status::failure (std::string message, int sys_errno)
{
  Hdf5Status s;
  s.ok = false;
  s.sys_errno = sys_errno;
  s.message = std::move (message);
  return s;
}

struct Hdf5Recording::Stream {
  Hdf5StreamInfo info;
  bool shaped = false;          /* shape fixed: frames were appended */
  bool narrow = true;           /* uint16 tokens */
  hsize_t chunk_rows = 0;
  Handle group, tokens, pts, duration, window;

  /* frames not yet in the file, at most one chunk */
  std::vector<uint16_t> tokens16;
  std::vector<uint32_t> tokens32;
  std::vector<int64_t> pending_pts, pending_duration, pending_window;

  std::vector<std::string> labels;
  std::vector<int64_t> c_pts, c_duration;
  std::vector<int32_t> c_class;
  std::vector<int32_t> c_missing;
  std::vector<float> c_probabilities;
  std::vector<int64_t> a_pts, a_duration;
  std::vector<std::string> a_text;
  std::vector<int64_t> g_pts, g_duration;
  std::vector<std::string> g_cause;

  size_t row_values () const { return (size_t) info.channels * info.codebooks; }
  size_t pending_frames () const { return pending_pts.size (); }
};

Hdf5Recording::Hdf5Recording () = default;

Hdf5Recording::~Hdf5Recording ()
{
  abort ();
}

bool
Hdf5Recording::is_open () const
{
  return file_ >= 0;
}

Hdf5Status
Hdf5Recording::abandon (Hdf5Status status)
{
  abort ();
  return status;
}

Hdf5Status
Hdf5Recording::create (const std::string &location, bool overwrite)
{
  abort ();
  if (location.empty ())
    return Hdf5Status::failure ("No recording file name given");
  if (!overwrite && exists (location))
    return Hdf5Status::failure ("Recording \"" + location + "\" already exists", EEXIST);
  location_ = location;
  part_ = location + ".part";
  overwrite_ = overwrite;
  QuietErrors quiet;
  Handle fcpl (H5Pcreate (H5P_FILE_CREATE));
  H5Pset_obj_track_times (fcpl.get (), false);
  /* HDF5 builds the file in memory (compressed, so a fraction of the JSON
   * Lines size); finish() writes it out with plain write(2). HDF5 itself then
   * never meets an I/O error, which it cannot always recover from (a dataset
   * whose close failed on a full disk crashes the library at exit). */
  Handle fapl (H5Pcreate (H5P_FILE_ACCESS));
  H5Pset_fapl_core (fapl.get (), kImageIncrement, false);
  file_ = H5Fcreate (part_.c_str (), H5F_ACC_TRUNC, fcpl.get (), fapl.get ());
  if (file_ < 0)
    return abandon (hdf5_failure ("create the file", part_));
  /* Fail now, not after the whole recording, when the .part cannot be made. */
  const int err = write_file (part_, NULL, 0);
  if (err)
    return abandon (Hdf5Status::failure ("Could not create \"" + part_ + "\": " +
        std::strerror (err), err));
  return Hdf5Status ();
}

Hdf5Status
Hdf5Recording::stream_of (unsigned stream, Stream **out)
{
  auto it = streams_.find (stream);
  if (it == streams_.end ())
    return Hdf5Status::failure ("Stream " + std::to_string (stream) +
        " has data but no description (its caps never arrived)");
  *out = it->second.get ();
  return Hdf5Status ();
}

Hdf5Status
Hdf5Recording::describe_stream (const Hdf5StreamInfo &info)
{
  if (!is_open ())
    return Hdf5Status::failure ("The recording is not open");
  if (info.channels < 1 || info.codebooks < 1 || info.vocabulary < 1)
    return Hdf5Status::failure ("Stream " + std::to_string (info.stream) +
        " needs channels, codebooks and vocabulary of at least 1");
  std::unique_ptr<Stream> &st = streams_[info.stream];
  if (!st)
    st.reset (new Stream ());
  if (st->shaped && (info.channels != st->info.channels || info.codebooks != st->info.codebooks
          || (info.vocabulary > kMaxNarrowVocabulary) != !st->narrow
          || (info.window_frames > 0) != st->window.valid ()))
    return abandon (Hdf5Status::failure ("Stream " + std::to_string (info.stream) + " changed from "
        + std::to_string (st->info.channels) + "×" + std::to_string (st->info.codebooks) +
        " to " + std::to_string (info.channels) + "×" + std::to_string (info.codebooks) +
        " tokens (or crossed 65535 codes) during the recording; an HDF5 dataset has one "
        "shape, record it with format=jsonl"));
  st->info = info;
  return Hdf5Status ();
}

/* Fixes the shape from the description and creates the group's datasets. */
static bool
shape_stream (hid_t file, Hdf5Recording::Stream &st)
{
  const Hdf5StreamInfo &info = st.info;
  st.narrow = info.vocabulary <= kMaxNarrowVocabulary;
  const size_t frame_bytes = st.row_values () * (st.narrow ? 2 : 4);
  st.chunk_rows = std::clamp<size_t> (kChunkBytes / frame_bytes, 16, 8192);
  st.shaped = true;
  const std::string name = "stream" + std::to_string (info.stream);
  st.group = create_group (file, name.c_str ());
  if (!st.group.valid ())
    return false;
  std::vector<hsize_t> row {(hsize_t) info.channels};
  if (info.codebooks > 1)
    row.push_back ((hsize_t) info.codebooks);
  const uint16_t fill16 = 0xFFFF;
  const uint32_t fill32 = kNoToken;
  st.tokens = st.narrow ?
      create_growing (st.group.get (), "tokens", H5T_STD_U16LE, row, st.chunk_rows, &fill16) :
      create_growing (st.group.get (), "tokens", H5T_STD_U32LE, row, st.chunk_rows, &fill32);
  st.pts = create_growing (st.group.get (), "pts", H5T_STD_I64LE, {}, st.chunk_rows, NULL);
  st.duration = create_growing (st.group.get (), "duration", H5T_STD_I64LE, {}, st.chunk_rows,
      NULL);
  if (info.window_frames > 0) {
    const int64_t none = -1;
    st.window = create_growing (st.group.get (), "window", H5T_STD_I64LE, {}, st.chunk_rows, &none);
    if (!st.window.valid ())
      return false;
  }
  return st.tokens.valid () && st.pts.valid () && st.duration.valid ();
}

static bool
flush_frames (Hdf5Recording::Stream &st)
{
  const hsize_t n = st.pending_frames ();
  bool ok = st.narrow ?
      append_rows (st.tokens.get (), H5T_NATIVE_UINT16, st.tokens16.data (), n, st.row_values ()) :
      append_rows (st.tokens.get (), H5T_NATIVE_UINT32, st.tokens32.data (), n, st.row_values ());
  ok = ok && append_rows (st.pts.get (), H5T_NATIVE_INT64, st.pending_pts.data (), n, 1) &&
      append_rows (st.duration.get (), H5T_NATIVE_INT64, st.pending_duration.data (), n, 1);
  if (ok && st.window.valid ())
    ok = append_rows (st.window.get (), H5T_NATIVE_INT64, st.pending_window.data (), n, 1);
  st.pending_window.clear ();
  st.tokens16.clear ();
  st.tokens32.clear ();
  st.pending_pts.clear ();
  st.pending_duration.clear ();
  return ok;
}

Hdf5Status
Hdf5Recording::append_tokens (unsigned stream, const int64_t *pts, const int64_t *duration,
    const uint32_t *tokens, size_t frames, const int64_t *window)
{
  if (!is_open ())
    return Hdf5Status::failure ("The recording is not open");
  Stream *st;
  Hdf5Status s = stream_of (stream, &st);
  if (!s.ok)
    return abandon (s);
  QuietErrors quiet;
  errno = 0;
  if (!st->shaped && !shape_stream (file_, *st))
    return abandon (hdf5_failure ("create the datasets of stream " + std::to_string (stream), part_));
  const size_t values = st->row_values ();
  for (size_t f = 0; f < frames; f++) {
    for (size_t k = 0; k < values; k++) {
      const uint32_t v = tokens[f * values + k];
      if (v != kNoToken && v >= st->info.vocabulary)
        return abandon (Hdf5Status::failure ("Token " + std::to_string (v) + " of stream " +
            std::to_string (stream) + " is outside its vocabulary of " +
            std::to_string (st->info.vocabulary) + " codes"));
      if (st->narrow)
        st->tokens16.push_back (v == kNoToken ? 0xFFFF : (uint16_t) v);
      else
        st->tokens32.push_back (v);
    }
    st->pending_pts.push_back (pts[f]);
    st->pending_duration.push_back (duration[f]);
    if (st->window.valid ())
      st->pending_window.push_back (window ? window[f] : -1);
    errno = 0;
    if (st->pending_frames () >= st->chunk_rows && !flush_frames (*st))
      return abandon (hdf5_failure ("write the tokens of stream " + std::to_string (stream), part_));
  }
  return Hdf5Status ();
}

Hdf5Status
Hdf5Recording::add_classification (unsigned stream, int64_t pts, int64_t duration,
    int class_index, const std::vector<std::string> &labels,
    const std::vector<double> &probabilities, unsigned missing_tokens)
{
  Stream *st;
  Hdf5Status s = stream_of (stream, &st);
  if (!s.ok)
    return abandon (s);
  if (st->c_pts.empty ())
    st->labels = labels;
  if (labels != st->labels || probabilities.size () != labels.size ())
    return abandon (Hdf5Status::failure ("The classifications of stream " + std::to_string (stream)
        + " changed their labels or do not give one probability per label; an HDF5 table "
        "has one set of classes, record them with format=jsonl"));
  st->c_pts.push_back (pts);
  st->c_duration.push_back (duration);
  st->c_class.push_back (class_index);
  st->c_missing.push_back ((int32_t) std::min<unsigned> (missing_tokens, INT32_MAX));
  for (double p : probabilities)
    st->c_probabilities.push_back ((float) p);
  return Hdf5Status ();
}

Hdf5Status
Hdf5Recording::add_annotation (unsigned stream, int64_t pts, int64_t duration,
    const std::string &text)
{
  Stream *st;
  Hdf5Status s = stream_of (stream, &st);
  if (!s.ok)
    return abandon (s);
  st->a_pts.push_back (pts);
  st->a_duration.push_back (duration);
  st->a_text.push_back (text);
  return Hdf5Status ();
}

Hdf5Status
Hdf5Recording::add_gap (unsigned stream, int64_t pts, int64_t duration, const std::string &cause)
{
  Stream *st;
  Hdf5Status s = stream_of (stream, &st);
  if (!s.ok)
    return abandon (s);
  st->g_pts.push_back (pts);
  st->g_duration.push_back (duration);
  st->g_cause.push_back (cause);
  return Hdf5Status ();
}

static bool
write_stream_attributes (const Hdf5Recording::Stream &st)
{
  const Hdf5StreamInfo &i = st.info;
  hid_t g = st.group.get ();
  bool ok = attr_string (g, "modality", i.modality) &&
      attr_strings (g, "channels", i.channel_names) &&
      attr_ints (g, "framerate", {i.fps_n, i.fps_d}, false) &&
      attr_int (g, "vocabulary", i.vocabulary) && attr_int (g, "codebooks", i.codebooks) &&
      attr_string (g, "model", i.model) && attr_string (g, "model-sha256", i.model_sha256);
  if (ok && !i.channel_units.empty ())
    ok = attr_strings (g, "units", i.channel_units);
  if (ok && !i.source.empty ())
    ok = attr_string (g, "source", i.source) && attr_string (g, "source-sha256", i.source_sha256);
  if (ok && i.window_frames > 0)
    ok = attr_int (g, "window-frames", i.window_frames) &&
        attr_int (g, "window-stride", i.window_stride);
  return ok;
}

static bool
write_classifications (const Hdf5Recording::Stream &st)
{
  if (st.c_pts.empty ())
    return true;
  Handle g = create_group (st.group.get (), "classifications");
  const std::vector<hsize_t> n {st.c_pts.size ()};
  return g.valid () && write_times (g.get (), st.c_pts, st.c_duration) &&
      write_dataset (g.get (), "class", H5T_STD_I32LE, H5T_NATIVE_INT32, n, st.c_class.data ()) &&
      write_dataset (g.get (), "missing-tokens", H5T_STD_I32LE, H5T_NATIVE_INT32, n, st.c_missing.data ()) &&
      write_dataset (g.get (), "probabilities", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
          {st.c_pts.size (), st.labels.size ()}, st.c_probabilities.data ()) &&
      attr_strings (g.get (), "labels", st.labels);
}

static bool
write_events (hid_t parent, const char *name, const std::vector<int64_t> &pts,
    const std::vector<int64_t> &duration, const char *text_name,
    const std::vector<std::string> &texts)
{
  if (pts.empty ())
    return true;
  Handle g = create_group (parent, name);
  return g.valid () && write_times (g.get (), pts, duration) &&
      write_texts (g.get (), text_name, texts);
}

static bool
write_root_attributes (hid_t file, const Hdf5FileInfo &info)
{
  Handle root (H5Gopen2 (file, "/", H5P_DEFAULT));
  return root.valid () && attr_string (root.get (), "format", "neurotokens-hdf5") &&
      attr_int (root.get (), "version", kHdf5Version) &&
      attr_string (root.get (), "start-utc", info.start_utc) &&
      attr_int (root.get (), "start-unix-ns", info.start_unix_ns) &&
      attr_string (root.get (), "source", info.source) &&
      attr_string (root.get (), "source-sha256", info.source_sha256) &&
      attr_string (root.get (), "software", info.software) &&
      attr_string (root.get (), "host", info.host);
}

Hdf5Status
Hdf5Recording::write_everything ()
{
  QuietErrors quiet;
  errno = 0;
  for (auto &entry : streams_) {
    Stream &st = *entry.second;
    const std::string which = "stream " + std::to_string (entry.first);
    if ((!st.shaped && !shape_stream (file_, st)) || !flush_frames (st))
      return hdf5_failure ("write the tokens of " + which, part_);
    if (!write_stream_attributes (st) || !write_classifications (st) ||
        !write_events (st.group.get (), "annotations", st.a_pts, st.a_duration, "text", st.a_text)
        || !write_events (st.group.get (), "gaps", st.g_pts, st.g_duration, "cause", st.g_cause))
      return hdf5_failure ("write the records of " + which, part_);
    if (!st.tokens.close () || !st.pts.close () || !st.duration.close () || !st.window.close () ||
        !st.group.close ())
      return hdf5_failure ("write " + which, part_);
  }
  if (!write_root_attributes (file_, file_info_))
    return hdf5_failure ("write the file attributes", part_);
  if (H5Fflush (file_, H5F_SCOPE_GLOBAL) < 0)
    return hdf5_failure ("finish writing", part_);
  const ssize_t size = H5Fget_file_image (file_, NULL, 0);
  std::vector<char> image (size > 0 ? size : 0);
  if (size <= 0 || H5Fget_file_image (file_, image.data (), image.size ()) != size)
    return hdf5_failure ("finish writing", part_);
  const hid_t file = file_;
  file_ = -1;
  H5Fclose (file);
  const int err = write_file (part_, image.data (), image.size ());
  if (err)
    return Hdf5Status::failure ("Could not write \"" + part_ + "\": " + std::strerror (err),
        err);
  return Hdf5Status ();
}

/* Moves the finished .part to its name; without overwrite an existing file
 * there (made since create) is an error and stays untouched. */
static int
move_into_place (const std::string &part, const std::string &location, bool overwrite)
{
  if (overwrite)
    return ::rename (part.c_str (), location.c_str ()) < 0 ? errno : 0;
  if (::link (part.c_str (), location.c_str ()) == 0) {
    ::unlink (part.c_str ());
    return 0;
  }
  /* Filesystems without hard links: check, then rename. */
  if (errno == EEXIST || exists (location))
    return EEXIST;
  return ::rename (part.c_str (), location.c_str ()) < 0 ? errno : 0;
}

Hdf5Status
Hdf5Recording::finish ()
{
  if (!is_open ())
    return Hdf5Status::failure ("The recording is not open");
  Hdf5Status s = write_everything ();
  if (!s.ok)
    return abandon (s);
  const int err = move_into_place (part_, location_, overwrite_);
  if (err == EEXIST)
    return abandon (Hdf5Status::failure ("Recording \"" + location_ + "\" already exists", err));
  if (err)
    return abandon (Hdf5Status::failure ("Could not rename \"" + part_ + "\" to \"" + location_ +
        "\": " + std::strerror (err), err));
  /* The rename itself must survive a power loss. */
  fsync_directory (directory_of (location_));
  streams_.clear ();
  part_.clear ();
  return Hdf5Status ();
}

void
Hdf5Recording::abort ()
{
  QuietErrors quiet;
  streams_.clear ();            /* closes the datasets before the file */
  if (file_ >= 0)
    H5Fclose (file_);
  file_ = -1;
  if (!part_.empty ())
    ::unlink (part_.c_str ());
  part_.clear ();
}

}  // namespace neuro
