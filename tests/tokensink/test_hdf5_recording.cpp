// SPDX-License-Identifier: LGPL-2.1-or-later
/* lib/record/hdf5_recording: the HDF5 layout read back with the HDF5 C API,
 * the .part-then-rename rule, and failures that leave nothing behind;
 * lib/record/hdf5_lines: the mapping from tokensink's records. */
#include <hdf5.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <sys/resource.h>

#include "hdf5_lines.h"
#include "hdf5_recording.h"

namespace {

std::string
tmp_dir ()
{
  gchar *dir = g_dir_make_tmp ("hdf5rec-XXXXXX", NULL);
  std::string s (dir);
  g_free (dir);
  return s;
}

bool
exists (const std::string &path)
{
  return g_file_test (path.c_str (), G_FILE_TEST_EXISTS);
}

std::string
slurp (const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  return std::string (std::istreambuf_iterator<char> (in), {});
}

neuro::Hdf5StreamInfo
eeg_stream (unsigned stream, int channels, int64_t vocabulary, int codebooks = 1)
{
  neuro::Hdf5StreamInfo s;
  s.stream = stream;
  s.modality = "eeg";
  s.channels = channels;
  s.codebooks = codebooks;
  s.vocabulary = vocabulary;
  for (int c = 0; c < channels; c++)
    s.channel_names.push_back ("C" + std::to_string (c) + "\xc2\xb5");     /* UTF-8 kept */
  s.fps_n = 2;
  s.fps_d = 1;
  s.model = "tfm-tokenizer-eeg";
  s.model_sha256 = std::string (64, 'a');
  return s;
}

neuro::Hdf5FileInfo
file_info ()
{
  neuro::Hdf5FileInfo f;
  f.start_utc = "2026-12-01T22:00:00.000000000Z";
  f.start_unix_ns = 1796162400000000000LL;
  f.source = "/data/S001R01.edf";
  f.source_sha256 = std::string (64, 'b');
  f.software = "neurotokens test";
  f.host = "test";
  return f;
}

/* Token of frame f, value k: deterministic, with a "no token" now and then. */
uint32_t
token_at (size_t f, size_t k, int64_t vocabulary)
{
  if ((f * 7 + k) % 97 == 0)
    return neuro::kNoToken;
  return (uint32_t) ((f * 131 + k * 17) % vocabulary);
}

/* Appends frames [first, first + n) of a stream with values as token_at. */
void
append_frames (neuro::Hdf5Recording &rec, const neuro::Hdf5StreamInfo &s, size_t first, size_t n)
{
  const size_t values = (size_t) s.channels * s.codebooks;
  std::vector<uint32_t> tokens;
  std::vector<int64_t> pts, duration;
  for (size_t f = first; f < first + n; f++) {
    for (size_t k = 0; k < values; k++)
      tokens.push_back (token_at (f, k, s.vocabulary));
    pts.push_back ((int64_t) f * 500000000);
    duration.push_back (500000000);
  }
  neuro::Hdf5Status st = rec.append_tokens (s.stream, pts.data (), duration.data (),
      tokens.data (), n);
  fail_unless (st.ok, "%s", st.message.c_str ());
}

std::string
read_string_attr (hid_t obj, const char *name)
{
  hid_t attr = H5Aopen (obj, name, H5P_DEFAULT);
  fail_unless (attr >= 0, "no attribute %s", name);
  hid_t type = H5Aget_type (attr);
  fail_unless (H5Tis_variable_str (type) > 0 && H5Tget_cset (type) == H5T_CSET_UTF8);
  char *value = NULL;
  fail_unless (H5Aread (attr, type, &value) >= 0);
  std::string s (value);
  H5free_memory (value);
  H5Tclose (type);
  H5Aclose (attr);
  return s;
}

std::vector<std::string>
read_strings_attr (hid_t obj, const char *name)
{
  hid_t attr = H5Aopen (obj, name, H5P_DEFAULT);
  fail_unless (attr >= 0, "no attribute %s", name);
  hid_t type = H5Aget_type (attr);
  hid_t space = H5Aget_space (attr);
  std::vector<char *> p (H5Sget_simple_extent_npoints (space));
  fail_unless (H5Aread (attr, type, p.data ()) >= 0);
  std::vector<std::string> out (p.begin (), p.end ());
  H5Dvlen_reclaim (type, space, H5P_DEFAULT, p.data ());
  H5Sclose (space);
  H5Tclose (type);
  H5Aclose (attr);
  return out;
}

std::vector<int64_t>
read_ints_attr (hid_t obj, const char *name)
{
  hid_t attr = H5Aopen (obj, name, H5P_DEFAULT);
  fail_unless (attr >= 0, "no attribute %s", name);
  hid_t space = H5Aget_space (attr);
  std::vector<int64_t> v (H5Sget_simple_extent_npoints (space));
  fail_unless (H5Aread (attr, H5T_NATIVE_INT64, v.data ()) >= 0);
  H5Sclose (space);
  H5Aclose (attr);
  return v;
}

template <typename T>
std::vector<T>
read_dataset (hid_t file, const std::string &path, hid_t mem_type, std::vector<hsize_t> *dims)
{
  hid_t set = H5Dopen2 (file, path.c_str (), H5P_DEFAULT);
  fail_unless (set >= 0, "no dataset %s", path.c_str ());
  hid_t space = H5Dget_space (set);
  dims->resize (H5Sget_simple_extent_ndims (space));
  H5Sget_simple_extent_dims (space, dims->data (), NULL);
  std::vector<T> v (H5Sget_simple_extent_npoints (space));
  fail_unless (H5Dread (set, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data ()) >= 0);
  H5Sclose (space);
  H5Dclose (set);
  return v;
}

/* Size, signedness, chunking, shuffle + deflate and fill value of a tokens dataset. */
void
check_tokens_storage (hid_t file, const std::string &path, size_t size, uint32_t fill)
{
  hid_t set = H5Dopen2 (file, path.c_str (), H5P_DEFAULT);
  hid_t type = H5Dget_type (set);
  fail_unless_equals_int (H5Tget_size (type), size);
  fail_unless (H5Tget_sign (type) == H5T_SGN_NONE);
  hid_t dcpl = H5Dget_create_plist (set);
  fail_unless (H5Pget_layout (dcpl) == H5D_CHUNKED);
  fail_unless (H5Pget_filter_by_id2 (dcpl, H5Z_FILTER_DEFLATE, NULL, NULL, NULL, 0, NULL,
          NULL) >= 0);
  fail_unless (H5Pget_filter_by_id2 (dcpl, H5Z_FILTER_SHUFFLE, NULL, NULL, NULL, 0, NULL,
          NULL) >= 0);
  uint32_t value = 0;
  fail_unless (H5Pget_fill_value (dcpl, H5T_NATIVE_UINT32, &value) >= 0);
  fail_unless_equals_uint64 (value, fill);
  H5Pclose (dcpl);
  H5Tclose (type);
  H5Dclose (set);
}

/* Writes the recording of test_layout: stream 0 (64 channels, uint16, more
 * frames than one chunk, in uneven pieces, with a classification and an
 * annotation) and stream 3 (2 channels × 2 codebooks, 100 000 codes: uint32). */
void
write_example (const std::string &path)
{
  neuro::Hdf5Recording rec;
  neuro::Hdf5Status st = rec.create (path, false);
  fail_unless (st.ok, "%s", st.message.c_str ());
  const neuro::Hdf5StreamInfo a = eeg_stream (0, 64, 512), b = eeg_stream (3, 2, 100000, 2);
  fail_unless (rec.describe_stream (a).ok && rec.describe_stream (b).ok);
  append_frames (rec, a, 0, 300);
  append_frames (rec, b, 0, 5);
  append_frames (rec, a, 300, 1001);
  fail_unless (rec.add_classification (0, 0, 10000000000LL, 1, {"open", "closed", "x"},
          {0.25, 0.5, 0.25}).ok);
  fail_unless (rec.add_classification (0, 10000000000LL, 10000000000LL, 0,
          {"open", "closed", "x"}, {0.75, 0.125, 0.125}, 19).ok);
  fail_unless (rec.add_annotation (0, 2000000000, neuro::kHdf5NoTime, "T0 \xc3\xa9").ok);
  rec.set_file_info (file_info ());
  fail_unless (exists (path + ".part") && !exists (path), "the file must be written as .part");
  st = rec.finish ();
  fail_unless (st.ok, "%s", st.message.c_str ());
}

}  // namespace

GST_START_TEST (test_layout)
{
  const std::string dir = tmp_dir (), path = dir + "/rec.h5";
  write_example (path);
  fail_unless (exists (path) && !exists (path + ".part"));

  hid_t file = H5Fopen (path.c_str (), H5F_ACC_RDONLY, H5P_DEFAULT);
  fail_unless (file >= 0);
  fail_unless (read_string_attr (file, "format") == "neurotokens-hdf5");
  fail_unless (read_ints_attr (file, "version") == std::vector<int64_t> {1});
  fail_unless (read_string_attr (file, "start-utc") == file_info ().start_utc);
  fail_unless (read_string_attr (file, "source") == "/data/S001R01.edf");
  fail_unless (read_string_attr (file, "source-sha256") == std::string (64, 'b'));

  hid_t g = H5Gopen2 (file, "/stream0", H5P_DEFAULT);
  fail_unless (g >= 0);
  fail_unless (read_string_attr (g, "modality") == "eeg");
  fail_unless (read_strings_attr (g, "channels") == eeg_stream (0, 64, 512).channel_names);
  fail_unless (read_ints_attr (g, "framerate") == std::vector<int64_t> ({2, 1}));
  fail_unless (read_ints_attr (g, "vocabulary") == std::vector<int64_t> {512});
  fail_unless (read_ints_attr (g, "codebooks") == std::vector<int64_t> {1});
  fail_unless (read_string_attr (g, "model") == "tfm-tokenizer-eeg");
  fail_unless (read_string_attr (g, "model-sha256") == std::string (64, 'a'));
  H5Gclose (g);

  check_tokens_storage (file, "/stream0/tokens", 2, 0xFFFF);
  check_tokens_storage (file, "/stream3/tokens", 4, 0xFFFFFFFFu);

  std::vector<hsize_t> dims;
  std::vector<uint32_t> t0 = read_dataset<uint32_t> (file, "/stream0/tokens", H5T_NATIVE_UINT32,
      &dims);
  fail_unless (dims == std::vector<hsize_t> ({1301, 64}));
  size_t no_tokens = 0;
  for (size_t f = 0; f < 1301; f++)
    for (size_t k = 0; k < 64; k++) {
      uint32_t want = token_at (f, k, 512);
      no_tokens += want == neuro::kNoToken;
      fail_unless_equals_uint64 (t0[f * 64 + k], want == neuro::kNoToken ? 0xFFFF : want);
    }
  fail_unless (no_tokens > 0);
  std::vector<int64_t> pts = read_dataset<int64_t> (file, "/stream0/pts", H5T_NATIVE_INT64, &dims);
  fail_unless (dims == std::vector<hsize_t> {1301});
  fail_unless (pts[0] == 0 && pts[1300] == 1300LL * 500000000);
  read_dataset<int64_t> (file, "/stream0/duration", H5T_NATIVE_INT64, &dims);
  fail_unless (dims == std::vector<hsize_t> {1301});

  std::vector<uint32_t> t3 = read_dataset<uint32_t> (file, "/stream3/tokens", H5T_NATIVE_UINT32,
      &dims);
  fail_unless (dims == std::vector<hsize_t> ({5, 2, 2}));
  for (size_t i = 0; i < t3.size (); i++)
    fail_unless_equals_uint64 (t3[i], token_at (i / 4, i % 4, 100000));

  std::vector<int32_t> cls = read_dataset<int32_t> (file, "/stream0/classifications/class",
      H5T_NATIVE_INT32, &dims);
  fail_unless (cls == std::vector<int32_t> ({1, 0}));
  std::vector<int32_t> missing = read_dataset<int32_t> (file, "/stream0/classifications/missing-tokens",
      H5T_NATIVE_INT32, &dims);
  fail_unless (missing == std::vector<int32_t> ({0, 19}));
  std::vector<float> prob = read_dataset<float> (file,
      "/stream0/classifications/probabilities", H5T_NATIVE_FLOAT, &dims);
  fail_unless (dims == std::vector<hsize_t> ({2, 3}));
  fail_unless (prob[1] == 0.5f && prob[3] == 0.75f);
  g = H5Gopen2 (file, "/stream0/classifications", H5P_DEFAULT);
  fail_unless (read_strings_attr (g, "labels") == std::vector<std::string> ({"open", "closed",
              "x"}));
  H5Gclose (g);
  std::vector<int64_t> adur = read_dataset<int64_t> (file, "/stream0/annotations/duration",
      H5T_NATIVE_INT64, &dims);
  fail_unless (adur == std::vector<int64_t> {neuro::kHdf5NoTime});
  fail_unless (H5Lexists (file, "/stream3/classifications", H5P_DEFAULT) == 0);
  H5Fclose (file);

  /* No timestamps inside: the same content gives the same bytes. */
  write_example (dir + "/again.h5");
  fail_unless (slurp (path) == slurp (dir + "/again.h5"), "two identical recordings differ");
  g_remove ((dir + "/again.h5").c_str ());
  g_remove (path.c_str ());
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

/* A stream described but without frames still gets its group, with an
 * empty tokens dataset of the right shape. */
GST_START_TEST (test_empty_stream)
{
  const std::string dir = tmp_dir (), path = dir + "/empty.h5";
  neuro::Hdf5Recording rec;
  fail_unless (rec.create (path, false).ok);
  fail_unless (rec.describe_stream (eeg_stream (1, 4, 512)).ok);
  fail_unless (rec.finish ().ok);
  hid_t file = H5Fopen (path.c_str (), H5F_ACC_RDONLY, H5P_DEFAULT);
  std::vector<hsize_t> dims;
  read_dataset<uint32_t> (file, "/stream1/tokens", H5T_NATIVE_UINT32, &dims);
  fail_unless (dims == std::vector<hsize_t> ({0, 4}));
  H5Fclose (file);
  g_remove (path.c_str ());
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_existing_file_n)
{
  const std::string dir = tmp_dir (), path = dir + "/rec.h5";
  g_file_set_contents (path.c_str (), "keep", -1, NULL);
  neuro::Hdf5Recording rec;
  neuro::Hdf5Status st = rec.create (path, false);
  fail_unless (!st.ok && st.sys_errno == EEXIST);
  fail_unless (st.message.find (path) != std::string::npos);
  fail_unless (slurp (path) == "keep" && !exists (path + ".part"));
  /* overwrite=true replaces it, at the rename only */
  fail_unless (rec.create (path, true).ok);
  fail_unless (rec.describe_stream (eeg_stream (0, 1, 512)).ok);
  fail_unless (slurp (path) == "keep");
  fail_unless (rec.finish ().ok);
  fail_unless (slurp (path).compare (1, 3, "HDF") == 0);
  g_remove (path.c_str ());
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

/* Bad data aborts the recording: no .part, nothing under the final name. */
GST_START_TEST (test_bad_data_n)
{
  const std::string dir = tmp_dir (), path = dir + "/rec.h5";
  neuro::Hdf5Recording rec;
  fail_unless (rec.create (path, false).ok);
  fail_unless (rec.describe_stream (eeg_stream (0, 2, 512)).ok);
  const uint32_t tokens[] = { 3, 512 };
  const int64_t pts[] = { 0 }, duration[] = { 1 };
  neuro::Hdf5Status st = rec.append_tokens (0, pts, duration, tokens, 1);
  fail_unless (!st.ok && st.message.find ("outside its vocabulary of 512") != std::string::npos,
      "%s", st.message.c_str ());
  fail_unless (!rec.is_open () && !exists (path + ".part") && !exists (path));

  fail_unless (rec.create (path, false).ok);
  fail_unless (rec.describe_stream (eeg_stream (0, 2, 512)).ok);
  const uint32_t good[] = { 3, 4 };
  fail_unless (rec.append_tokens (0, pts, duration, good, 1).ok);
  st = rec.describe_stream (eeg_stream (0, 3, 512));
  fail_unless (!st.ok && st.message.find ("format=jsonl") != std::string::npos);
  fail_unless (!exists (path + ".part") && !exists (path));

  fail_unless (rec.create (path, false).ok);
  st = rec.append_tokens (7, pts, duration, good, 1);
  fail_unless (!st.ok && st.message.find ("Stream 7") != std::string::npos);
  fail_unless (!exists (path + ".part") && !exists (path));

  st = rec.create (dir + "/no/such/dir/rec.h5", false);
  fail_unless (!st.ok && st.sys_errno == ENOENT, "%s", st.message.c_str ());
  fail_unless (st.message.find ("no/such/dir/rec.h5.part") != std::string::npos);
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

/* A killed or abandoned recording (destructor without finish) leaves nothing. */
GST_START_TEST (test_unfinished_n)
{
  const std::string dir = tmp_dir (), path = dir + "/rec.h5";
  {
    neuro::Hdf5Recording rec;
    fail_unless (rec.create (path, false).ok);
    fail_unless (rec.describe_stream (eeg_stream (0, 8, 512)).ok);
    append_frames (rec, eeg_stream (0, 8, 512), 0, 5000);
    fail_unless (exists (path + ".part"));
  }
  fail_unless (!exists (path + ".part") && !exists (path));
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

/* A file size limit makes write(2) fail as a full disk does: the error
 * carries the errno and nothing is left under either name. */
GST_START_TEST (test_write_failure_n)
{
  const std::string dir = tmp_dir (), path = dir + "/rec.h5";
  struct rlimit old;
  getrlimit (RLIMIT_FSIZE, &old);
  signal (SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 64 * 1024;
  fail_unless (setrlimit (RLIMIT_FSIZE, &small) == 0);

  neuro::Hdf5Recording rec;
  neuro::Hdf5Status st = rec.create (path, false);
  fail_unless (st.ok, "%s", st.message.c_str ());
  const neuro::Hdf5StreamInfo s = eeg_stream (0, 64, 100000);
  fail_unless (rec.describe_stream (s).ok);
  for (size_t f = 0; f < 20000 && st.ok; f += 500) {
    std::vector<uint32_t> tokens (500 * 64);
    for (size_t i = 0; i < tokens.size (); i++)
      tokens[i] = (uint32_t) ((i * 2654435761u + f) % 100000);     /* compresses badly */
    std::vector<int64_t> pts (500, 0), duration (500, 1);
    st = rec.append_tokens (0, pts.data (), duration.data (), tokens.data (), 500);
  }
  if (st.ok)
    st = rec.finish ();
  setrlimit (RLIMIT_FSIZE, &old);
  signal (SIGXFSZ, SIG_DFL);
  fail_unless (!st.ok, "5 MB of tokens fitted into 64 KiB");
  fail_unless (st.sys_errno == EFBIG, "errno %d: %s", st.sys_errno, st.message.c_str ());
  fail_unless (st.message.find (path + ".part") != std::string::npos, "%s", st.message.c_str ());
  fail_unless (!exists (path + ".part") && !exists (path));
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

/* The records-to-HDF5 mapping: label order kept (not sorted), null times as
 * -1, overlapping windows as a `window` dataset with the stream's geometry. */
GST_START_TEST (test_lines)
{
  const std::string dir = tmp_dir (), path = dir + "/lines.h5";
  neuro::Hdf5LineRecorder rec;
  fail_unless (rec.create (path, false).ok);
  std::string lines =
      "{\"type\":\"header\",\"version\":1,\"start-utc\":\"2026-01-01T00:00:00.000000000Z\","
      "\"start-unix-ns\":1,\"clock\":\"c\",\"host\":\"h\",\"software\":\"s\"}\n"
      "{\"type\":\"stream\",\"stream\":2,\"pad\":\"sink_2\",\"modality\":\"eeg\",\"channels\":[\"a\",\"b\"],"
      "\"units\":null,\"framerate\":[2,1],\"vocabulary\":16,\"codebooks\":1,\"model\":\"m\","
      "\"window-frames\":3,\"window-stride\":1}\n"
      "{\"type\":\"stream\",\"stream\":4,\"pad\":\"sink_4\",\"modality\":\"audio\",\"channels\":[\"x\"],"
      "\"units\":null,\"framerate\":[25,1],\"vocabulary\":70000,\"codebooks\":1,\"model\":\"n\"}\n";
  for (int w = 0; w < 2; w++)
    for (int f = 0; f < 3; f++)
      lines += "{\"type\":\"tokens\",\"stream\":2,\"pts\":" + std::to_string ((w + f) * 500) +
          ",\"duration\":500,\"tokens\":[" + std::to_string (w * 3 + f) + ",null],\"window\":" +
          std::to_string (w) + "}\n";
  lines += "{\"type\":\"tokens\",\"stream\":4,\"pts\":0,\"duration\":40,\"tokens\":[69999]}\n"
      "{\"type\":\"classification\",\"stream\":2,\"pts\":null,\"duration\":7,\"label\":\"zeta\","
      "\"class\":0,\"probabilities\":{\"zeta\":0.75,\"alpha\":0.25}}\n"
      "{\"type\":\"end\",\"stream\":2,\"pts\":2000,\"frames\":6}\n";
  neuro::Hdf5Status st = rec.take_lines (lines);
  fail_unless (st.ok, "%s", st.message.c_str ());
  st = rec.finish ();
  fail_unless (st.ok, "%s", st.message.c_str ());

  hid_t file = H5Fopen (path.c_str (), H5F_ACC_RDONLY, H5P_DEFAULT);
  std::vector<hsize_t> dims;
  std::vector<int64_t> window = read_dataset<int64_t> (file, "/stream2/window", H5T_NATIVE_INT64,
      &dims);
  fail_unless (window == std::vector<int64_t> ({0, 0, 0, 1, 1, 1}));
  std::vector<uint32_t> tokens = read_dataset<uint32_t> (file, "/stream2/tokens", H5T_NATIVE_UINT32,
      &dims);
  fail_unless (tokens == std::vector<uint32_t> ({0, 0xFFFF, 1, 0xFFFF, 2, 0xFFFF, 3, 0xFFFF, 4,
              0xFFFF, 5, 0xFFFF}));
  hid_t g = H5Gopen2 (file, "/stream2", H5P_DEFAULT);
  fail_unless (read_ints_attr (g, "window-frames") == std::vector<int64_t> {3});
  fail_unless (read_ints_attr (g, "window-stride") == std::vector<int64_t> {1});
  H5Gclose (g);
  g = H5Gopen2 (file, "/stream2/classifications", H5P_DEFAULT);
  fail_unless (read_strings_attr (g, "labels") == std::vector<std::string> ({"zeta", "alpha"}));
  H5Gclose (g);
  fail_unless (read_dataset<int64_t> (file, "/stream2/classifications/pts", H5T_NATIVE_INT64,
          &dims) == std::vector<int64_t> {neuro::kHdf5NoTime});
  fail_unless (H5Lexists (file, "/stream4/window", H5P_DEFAULT) == 0);
  check_tokens_storage (file, "/stream4/tokens", 4, 0xFFFFFFFFu);
  H5Fclose (file);
  g_remove (path.c_str ());
  g_rmdir (dir.c_str ());
}
GST_END_TEST;

static Suite *
hdf5_recording_suite (void)
{
  Suite *s = suite_create ("hdf5_recording");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_layout);
  tcase_add_test (tc, test_empty_stream);
  tcase_add_test (tc, test_lines);
  tcase_add_test (tc, test_existing_file_n);
  tcase_add_test (tc, test_bad_data_n);
  tcase_add_test (tc, test_unfinished_n);
  tcase_add_test (tc, test_write_failure_n);
  return s;
}

GST_CHECK_MAIN (hdf5_recording);
