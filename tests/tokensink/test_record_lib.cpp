// SPDX-License-Identifier: LGPL-2.1-or-later
/* lib/record: the JSON line formatting and the durable line file. */
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <string>

#include <sys/resource.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "geometry.h"
#include "jsonl.h"
#include "linefile.h"
#include "temp_dir.h"

using Json = nlohmann::json;

GST_START_TEST (test_iso8601)
{
  fail_unless (neuro::iso8601_utc (0) == "1970-01-01T00:00:00.000000000Z");
  /* checked with `date -u -d @1795461931` */
  fail_unless (neuro::iso8601_utc (1795461931948188613LL) == "2026-11-23T19:25:31.948188613Z");
  fail_unless (neuro::iso8601_utc (-1) == "1969-12-31T23:59:59.999999999Z");
}
GST_END_TEST;

/* Every line is one JSON object ending in a newline; text is escaped and
 * invalid UTF-8 replaced rather than failing. */
GST_START_TEST (test_lines_escape)
{
  const std::string text = std::string ("a\"b\\c\n\t\x01 \xe9t\xc3\xa9");
  std::string line = neuro::annotation_line (3, 5, GST_CLOCK_TIME_NONE, text);
  fail_unless (line.back () == '\n');
  fail_unless (line.find ('\n') == line.size () - 1, "raw newline inside the line");
  Json j = Json::parse (line);
  fail_unless (j["type"] == "annotation" && j["stream"] == 3 && j["pts"] == 5);
  fail_unless (j["duration"].is_null ());
  fail_unless (j["text"] == "a\"b\\c\n\t\x01 \xef\xbf\xbdt\xc3\xa9");

  const guint32 tokens[] = { 1, 2, 3, 4, 5, 6 };
  j = Json::parse (neuro::tokens_line (0, 10, 20, tokens, 3, 2));
  fail_unless (j["tokens"] == Json::parse ("[[1,2],[3,4],[5,6]]"));
  j = Json::parse (neuro::tokens_line (0, 10, 20, tokens, 6, 1));
  fail_unless (j["tokens"] == Json::parse ("[1,2,3,4,5,6]"));
  fail_unless (neuro::tokens_line (1, 2, 3, tokens, 1, 1) ==
      "{\"type\":\"tokens\",\"stream\":1,\"pts\":2,\"duration\":3,\"tokens\":[1]}\n");
  /* "No token" is null in its place: the list stays aligned with the channels. */
  const guint32 missing[] = { 7, neuro::kNoToken, 9, neuro::kNoToken };
  j = Json::parse (neuro::tokens_line (0, 10, 20, missing, 4, 1));
  fail_unless (j["tokens"] == Json::parse ("[7,null,9,null]"), "%s", j["tokens"].dump ().c_str ());
  j = Json::parse (neuro::tokens_line (0, 10, 20, missing, 2, 2));
  fail_unless (j["tokens"] == Json::parse ("[[7,null],[9,null]]"));

  /* A decision on masked tokens says how many; a complete one has no field. */
  neuro::Classification c;
  c.class_index = 1;
  c.labels = {"a", "b"};
  c.probabilities = {0.25, 0.75};
  j = Json::parse (neuro::classification_line (0, 10, 20, c));
  fail_unless (!j.contains ("missing-tokens"));
  c.missing_tokens = 19;
  j = Json::parse (neuro::classification_line (0, 10, 20, c));
  fail_unless (j["missing-tokens"] == 19 && j["label"] == "b");
}
GST_END_TEST;

GST_START_TEST (test_line_file)
{
  gchar *dir = g_dir_make_tmp ("linefile-XXXXXX", NULL);
  const std::string path = std::string (dir) + "/f.jsonl";
  {
    neuro::LineFile f;
    fail_unless_equals_int (f.open (path, false), 0);
    fail_unless_equals_int (f.append ("one\n"), 0);
    fail_unless_equals_int (f.sync_if_due (G_GINT64_CONSTANT (3600000000)), 0);
    fail_unless_equals_int (f.append ("two\n"), 0);
    fail_unless_equals_int (f.close (), 0);
  }
  neuro::LineFile again;
  fail_unless_equals_int (again.open (path, false), EEXIST);
  gchar *contents = NULL;
  g_file_get_contents (path.c_str (), &contents, NULL, NULL);
  fail_unless_equals_string (contents, "one\ntwo\n");
  g_free (contents);
  fail_unless_equals_int (again.open (path, true), 0);
  fail_unless_equals_int (again.close (), 0);
  g_file_get_contents (path.c_str (), &contents, NULL, NULL);
  fail_unless_equals_string (contents, "");
  g_free (contents);

  neuro::LineFile full;
  fail_unless_equals_int (full.open ("/dev/full", true), 0);
  fail_unless_equals_int (full.append ("x\n"), ENOSPC);
  fail_unless_equals_int (full.close (), 0);    /* a device: nothing to sync */
  g_unlink (path.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

static std::string
contents_of (const std::string &path)
{
  gchar *data = NULL;
  gsize len = 0;
  g_file_get_contents (path.c_str (), &data, &len, NULL);
  std::string out (data ? data : "", len);
  g_free (data);
  return out;
}

/* A write the file system cuts short (here: the file size limit, as a full
 * disk would) leaves the file at its last whole line. */
GST_START_TEST (test_line_file_whole_lines_n)
{
  neuro_test::TempDir dir ("linefile");
  const std::string path = dir.file ("full.jsonl");
  neuro::LineFile f;
  fail_unless_equals_int (f.open (path, false), 0);
  struct rlimit old, small = {10, 10};
  getrlimit (RLIMIT_FSIZE, &old);
  small.rlim_max = old.rlim_max;
  auto old_handler = std::signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &small);
  const int short_line = f.append ("one\n");
  const int long_line = f.append ("a line too long\n");
  setrlimit (RLIMIT_FSIZE, &old);
  std::signal (SIGXFSZ, old_handler);
  fail_unless_equals_int (short_line, 0);
  fail_unless_equals_int (long_line, EFBIG);
  fail_unless (contents_of (path) == "one\n", "partial line left: '%s'", contents_of (path).c_str ());
  fail_unless_equals_int (f.append ("two\n"), 0);
  fail_unless_equals_int (f.close (), 0);
  fail_unless (contents_of (path) == "one\ntwo\n");
}
GST_END_TEST;

/* A second writer is refused and truncates nothing, overwrite or not. */
GST_START_TEST (test_line_file_lock_n)
{
  neuro_test::TempDir dir ("linefile");
  const std::string path = dir.file ("locked.jsonl");
  neuro::LineFile owner, intruder;
  fail_unless_equals_int (owner.open (path, false), 0);
  fail_unless_equals_int (owner.append ("first\n"), 0);
  fail_unless_equals_int (intruder.open (path, true), EBUSY);
  fail_unless (!intruder.is_open ());
  fail_unless (contents_of (path) == "first\n");
  fail_unless_equals_int (owner.close (), 0);
  fail_unless_equals_int (intruder.open (path, true), 0);  /* free again */
  fail_unless_equals_int (intruder.close (), 0);
}
GST_END_TEST;

/* A recording whose path no longer names it is an error at the next sync. */
GST_START_TEST (test_line_file_gone_n)
{
  neuro_test::TempDir dir ("linefile");
  const std::string path = dir.file ("gone.jsonl");
  neuro::LineFile f;
  fail_unless_equals_int (f.open (path, false), 0);
  fail_unless_equals_int (f.append ("x\n"), 0);
  fail_unless_equals_int (f.sync (), 0);
  g_remove (path.c_str ());
  fail_unless_equals_int (f.sync_if_due (0), ENOENT);
  fail_unless_equals_int (f.close (), 0);

  fail_unless_equals_int (f.open (path, false), 0);
  fail_unless (g_file_set_contents (dir.file ("other").c_str (), "{}\n", -1, NULL));
  fail_unless_equals_int (g_rename (dir.file ("other").c_str (), path.c_str ()), 0);
  fail_unless_equals_int (f.sync (), ESTALE);
  fail_unless_equals_int (f.close (), 0);
}
GST_END_TEST;

static Suite *
record_lib_suite (void)
{
  Suite *s = suite_create ("record_lib");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_iso8601);
  tcase_add_test (tc, test_lines_escape);
  tcase_add_test (tc, test_line_file);
  tcase_add_test (tc, test_line_file_whole_lines_n);
  tcase_add_test (tc, test_line_file_lock_n);
  tcase_add_test (tc, test_line_file_gone_n);
  return s;
}

GST_CHECK_MAIN (record_lib);
