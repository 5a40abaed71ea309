// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-tokensink
 * @title: tokensink
 *
 * Records token streams of several modalities (application/x-tokens on
 * request pads sink_%u) into one JSON Lines file: each stream's records in
 * running-time order, and across streams in order of availability (running
 * time plus the stream's upstream latency), so a fast stream is not held
 * back by a slow stream's window and a kill loses about each stream's own
 * latency. Every line is one record with a "type" (docs/tokensink.md gives
 * every field with its type and unit):
 *
 *  - header: version (int, 1), start-utc (string, ISO 8601 UTC wall-clock time
 *    of running time 0), start-unix-ns (int, the same in ns since 1970),
 *    clock (string), host (string), software (string). Always the first line.
 *  - stream: stream (int, pad number), pad (string), modality (string),
 *    channels (list of channel names), units (list of units or null),
 *    framerate ([num, den], token frames/s), vocabulary, codebooks (int),
 *    model (string), latency (int, ns: upstream latency); window-frames and
 *    window-stride (int, token frames) for a stream of overlapping windows.
 *    Before the first record of its stream and again after a caps or tag
 *    change.
 *  - tokens: stream, pts (int, running time in ns), duration (int, ns),
 *    tokens (one int per channel; a list per channel when codebooks > 1);
 *    window (int) on a stream of overlapping windows: the window the frame
 *    belongs to (buffer offset / window-frames), as frames repeat there.
 *  - classification: stream, pts, duration, label, class, probabilities
 *    (object label → probability), from "lbm-classification" events.
 *  - annotation: stream, pts, duration (ns or null), text, from
 *    "neuro-annotation" events (stream time converted to running time).
 *  - gap: stream, pts, duration, cause ("upstream" for a GAP event,
 *    "silence" when a live stream sent nothing within the latency).
 *  - end: stream, pts (end of the stream's last data), frames (int) at EOS.
 *
 * The header is written and synced when the pipeline starts playing. Lines are
 * handed to the kernel with write(2) as soon as their order is known, and
 * fdatasync(2) runs at least every flush-interval while data flows: a killed
 * process leaves a file of complete lines; a write that fails part way (disk
 * full) is cut back to the last whole line. The file is locked (flock) while
 * recording, so a second recorder on it is refused, and a file deleted or
 * replaced while recording is an error.
 *
 * With format=hdf5 the same records become one HDF5 group per stream
 * (/stream<N>: tokens, pts, duration datasets, classifications/ and
 * annotations/ tables, attributes including the model's and the source
 * file's SHA-256), written to <location>.part and renamed to location at
 * EOS: a file exists under its name only once it is complete.
 *
 * The element posts no messages of its own; errors name the file and the problem.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 eegsrc location=../shared/data/eeg/eegmmidb/S001R02.edf channels=O1,O2,P7,P8 \
 *     rate=200 ! stft ! tfmtokenize ! lbmclassify ! tokensink location=rec.jsonl
 * ]| Tokenizes an eyes-closed EEG run and records tokens and classifications.
 * |[
 * gst-launch-1.0 eegsrc location=../shared/data/eeg/eegmat/Subject00_1.edf rate=200 ! stft \
 *     ! tfmtokenize ! tokensink format=hdf5 location=Subject00_1.h5
 * ]| Writes the tokens of a 3-minute, 21-signal EEG recording as an HDF5 dataset.
 * |[
 * gst-launch-1.0 -e tokensink name=rec location=live.jsonl overwrite=true \
 *     eegsrc is-live=true ! stft ! tfmtokenize ! queue ! rec.sink_0 \
 *     eegsrc is-live=true seed=2 channels=C3,Cz,C4 ! stft ! tfmtokenize ! queue ! rec.sink_1
 * ]| Records two live EEG streams into one file until Ctrl-C; if one of them
 * stops delivering, the other goes on being recorded and the silence shows as
 * gap records.
 */
#include "gsttokensink.h"
#include "gsttokensinkmux.h"

#include <gst/base/gstaggregator.h>
#include <gst/base/gstbasesink.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <string>
#include <vector>

#include "events.h"
#include "hdf5_lines.h"
#include "jsonl.h"
#include "linefile.h"
#include "media.h"
#include "ordering.h"
#include "tags.h"

GST_DEBUG_CATEGORY (gst_token_sink_debug);
#define GST_CAT_DEFAULT gst_token_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_LATENCY (100 * GST_MSECOND)  /* absorbs live scheduling jitter */

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_FORMAT,
  PROP_OVERWRITE,
  PROP_FLUSH_INTERVAL,
  PROP_LATENCY,
};

static GType
gst_token_sink_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_TOKEN_SINK_FORMAT_JSONL, "JSON Lines, one record per line, durable while recording",
        "jsonl"},
    {GST_TOKEN_SINK_FORMAT_HDF5, "HDF5 datasets per stream, written as <location>.part and "
          "renamed at EOS", "hdf5"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstTokenSinkFormat", values));
  return type;
}

GstPadTemplate *
tokens_sink_template (GType pad_type)
{
  GstCaps *tokens = neuro::tokens_template_caps ();
  GstPadTemplate *t = gst_pad_template_new_with_gtype ("sink_%u", GST_PAD_SINK, GST_PAD_REQUEST, tokens, pad_type);
  gst_caps_unref (tokens);
  return t;
}

static GstStaticPadTemplate lines_sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (LINES_CAPS));

/* ------------------------------------------------------------------------ */
/* The bin and its settings (read by the internal elements). */

struct _GstTokenSink
{
  GstBin parent;

  GstElement *mux;
  GstElement *writer;

  /* protected by the object lock */
  gchar *location;
  GstTokenSinkFormat format;
  gboolean overwrite;
  guint flush_interval;         /* ms */
};

SinkSettings
settings_of_parent (GstElement * child)
{
  SinkSettings s;
  GstObject *parent = gst_object_get_parent (GST_OBJECT (child));
  if (!parent)
    return s;
  GstTokenSink *bin = GST_TOKEN_SINK (parent);
  GST_OBJECT_LOCK (bin);
  s.location = bin->location ? bin->location : "";
  s.format = bin->format;
  s.overwrite = bin->overwrite;
  s.flush_interval = bin->flush_interval;
  GST_OBJECT_UNLOCK (bin);
  gst_object_unref (parent);
  return s;
}

/* ------------------------------------------------------------------------ */
/* Internal writer: whole lines to the file, header first; with format=hdf5
 * the same lines become an HDF5 recording, finished at EOS. */

#define GST_TYPE_TOKEN_SINK_WRITER (gst_token_sink_writer_get_type ())
G_DECLARE_FINAL_TYPE (GstTokenSinkWriter, gst_token_sink_writer, GST, TOKEN_SINK_WRITER,
    GstBaseSink)

struct _GstTokenSinkWriter
{
  GstBaseSink parent;
  /* C++ members live behind pointers: GObject does not run constructors. */
  neuro::LineFile *file;        /* jsonl; protected by file_lock (the sync timer uses it) */
  neuro::Hdf5LineRecorder *hdf5;        /* hdf5; streaming thread only */
  SinkSettings *settings;       /* copied from the bin at start */
  bool header_written;
  bool created;                 /* start() created (or replaced) the file */
  bool recorded;                /* a record besides the header was written */
  GMutex file_lock;
  GstClockID idle_sync;         /* pending fdatasync after the last write */
};

G_DEFINE_TYPE (GstTokenSinkWriter, gst_token_sink_writer, GST_TYPE_BASE_SINK);

static bool
is_hdf5 (GstTokenSinkWriter * self)
{
  return self->settings->format == GST_TOKEN_SINK_FORMAT_HDF5;
}

static void
post_write_error (GstTokenSinkWriter * self, int err)
{
  const char *path = self->settings->location.c_str ();
  if (err == ENOSPC || err == EDQUOT)
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("No space left to write the recording \"%s\"", path), ("write: %s", g_strerror (err)));
  else if (err == ENOENT || err == ESTALE)
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("The recording \"%s\" was %s while recording", path,
            err == ENOENT ? "deleted (or its folder removed)" : "replaced by another file"),
        ("nothing written from now on could be found; stop and record again"));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write the recording \"%s\": %s", path, g_strerror (err)), (NULL));
}

/* The HDF5 recorder's sentences already name the file and the cause. */
static void
post_hdf5_error (GstTokenSinkWriter * self, const neuro::Hdf5Status & s)
{
  if (s.sys_errno == ENOSPC || s.sys_errno == EDQUOT)
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("%s", s.message.c_str ()),
        ("nothing was left under \"%s\"", self->settings->location.c_str ()));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", s.message.c_str ()),
        ("nothing was left under \"%s\"", self->settings->location.c_str ()));
}

/* Running time 0 in UTC: the wall clock now minus the running time now. */
static neuro::HeaderDescription
describe_header (GstTokenSinkWriter * self)
{
  neuro::HeaderDescription h;
  const gint64 real_now = g_get_real_time () * 1000;
  h.start_unix_ns = real_now;
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock) {
    GstClockTime running = gst_clock_get_time (clock) - gst_element_get_base_time (GST_ELEMENT (self));
    h.start_unix_ns = real_now - (gint64) running;
    h.clock = G_OBJECT_TYPE_NAME (clock);
    gst_object_unref (clock);
  }
  h.host = g_get_host_name ();
  h.software = "neurotokens " VERSION;
  return h;
}

static int
write_header_once (GstTokenSinkWriter * self)
{
  if (self->header_written)
    return 0;
  self->header_written = true;
  return self->file->append (neuro::header_line (describe_header (self)));
}

/* Writes the header if it is not written yet and syncs the file; posts the
 * error if either fails. */
static bool
sync_header (GstTokenSinkWriter * self)
{
  g_mutex_lock (&self->file_lock);
  int err = 0;
  if (self->file->is_open ()) {
    err = write_header_once (self);
    if (!err)
      err = self->file->sync ();
  }
  g_mutex_unlock (&self->file_lock);
  if (err)
    post_write_error (self, err);
  return err == 0;
}

static gboolean
idle_sync_done (GstClock *, GstClockTime, GstClockID id, gpointer user_data)
{
  GstTokenSinkWriter *self = GST_TOKEN_SINK_WRITER (user_data);
  int err = 0;
  g_mutex_lock (&self->file_lock);
  if (self->idle_sync == id) {
    gst_clock_id_unref (self->idle_sync);
    self->idle_sync = NULL;
    if (self->file->is_open ())
      err = self->file->sync ();
  }
  g_mutex_unlock (&self->file_lock);
  if (err)
    post_write_error (self, err);
  return TRUE;
}

/* Lines written while data then stops flowing still reach the disk within
 * flush-interval: a one-shot timer syncs them. Called with file_lock. */
static void
schedule_idle_sync (GstTokenSinkWriter * self)
{
  if (self->idle_sync || self->settings->flush_interval == 0)
    return;
  GstClock *clock = gst_system_clock_obtain ();
  self->idle_sync = gst_clock_new_single_shot_id (clock,
      gst_clock_get_time (clock) + self->settings->flush_interval * GST_MSECOND);
  gst_clock_id_wait_async (self->idle_sync, idle_sync_done, gst_object_ref (self),
      gst_object_unref);
  gst_object_unref (clock);
}

static int
open_output (GstTokenSinkWriter * self)
{
  const SinkSettings & set = *self->settings;
  if (!is_hdf5 (self))
    return self->file->open (set.location, set.overwrite);
  neuro::Hdf5Status s = self->hdf5->create (set.location, set.overwrite);
  if (s.ok || s.sys_errno == EEXIST)
    return s.ok ? 0 : EEXIST;
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", s.message.c_str ()), (NULL));
  return -1;
}

static gboolean
gst_token_sink_writer_start (GstBaseSink * sink)
{
  GstTokenSinkWriter *self = GST_TOKEN_SINK_WRITER (sink);
  *self->settings = settings_of_parent (GST_ELEMENT (sink));
  self->header_written = false;
  self->created = self->recorded = false;
  const char *path = self->settings->location.c_str ();
  if (self->settings->location.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No recording file name given"),
        ("set the location property of tokensink"));
    return FALSE;
  }
  int err = open_output (self);
  if (err == EEXIST) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Recording \"%s\" already exists", path),
        ("tokensink never replaces a file unless overwrite=true; choose another location"));
    return FALSE;
  }
  if (err == EBUSY) {
    GST_ELEMENT_ERROR (self, RESOURCE, BUSY,
        ("Recording \"%s\" is being written by another recorder", path),
        ("another tokensink holds its advisory lock (flock); choose another location"));
    return FALSE;
  }
  if (err > 0)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open \"%s\" for writing: %s", path, g_strerror (err)), (NULL));
  if (err)
    return FALSE;
  /* The .part of an HDF5 recording is Hdf5LineRecorder's; of the rest, only
   * a regular file is ours to remove, never a device such as /dev/full. */
  self->created = !is_hdf5 (self) && self->file->is_regular ();
  return TRUE;
}

/* A run that stopped before any stream delivered anything (a source that
 * did not open, a failed negotiation: both end in an error and, from the
 * source, an EOS) leaves nothing behind, so the corrected command does not
 * meet "already exists". A stream that started always leaves its `stream`
 * and `end` records, so its file stays; so does a killed process's. */
static void
remove_if_nothing_recorded (GstTokenSinkWriter * self)
{
  if (!self->created || self->recorded)
    return;
  const char *path = self->settings->location.c_str ();
  GStatBuf st;
  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return;                     /* a device (location=/dev/full) is not ours to remove */
  if (g_unlink (path) == 0)
    GST_INFO_OBJECT (self, "removed \"%s\": the run stopped before any data was recorded", path);
  else
    GST_WARNING_OBJECT (self, "could not remove the empty recording \"%s\": %s", path,
        g_strerror (errno));
}

/* Stopping before EOS leaves a JSON Lines file as far as it got, and no
 * HDF5 file at all (an unfinished one is removed). */
static gboolean
gst_token_sink_writer_stop (GstBaseSink * sink)
{
  GstTokenSinkWriter *self = GST_TOKEN_SINK_WRITER (sink);
  self->hdf5->abort ();
  g_mutex_lock (&self->file_lock);
  if (self->idle_sync) {
    gst_clock_id_unschedule (self->idle_sync);
    gst_clock_id_unref (self->idle_sync);
    self->idle_sync = NULL;
  }
  int err = self->file->close ();
  g_mutex_unlock (&self->file_lock);
  if (err)
    GST_ELEMENT_WARNING (self, RESOURCE, CLOSE,
        ("Could not close the recording \"%s\": %s", self->settings->location.c_str (),
            g_strerror (err)), (NULL));
  remove_if_nothing_recorded (self);
  self->created = false;
  return TRUE;
}

static GstFlowReturn
render_hdf5 (GstTokenSinkWriter * self, const std::string & lines)
{
  neuro::Hdf5Status s;
  if (!self->header_written) {
    self->header_written = true;
    s = self->hdf5->take_lines (neuro::header_line (describe_header (self)));
  }
  if (s.ok)
    s = self->hdf5->take_lines (lines);
  if (s.ok && !lines.empty ())
    self->recorded = true;
  if (s.ok)
    return GST_FLOW_OK;
  post_hdf5_error (self, s);
  return GST_FLOW_ERROR;
}

static GstFlowReturn
gst_token_sink_writer_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstTokenSinkWriter *self = GST_TOKEN_SINK_WRITER (sink);
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;
  std::string lines ((const char *) map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (is_hdf5 (self))
    return render_hdf5 (self, lines);

  g_mutex_lock (&self->file_lock);
  int err = write_header_once (self);
  if (!err)
    err = self->file->append (lines);
  if (!err && !lines.empty ())
    self->recorded = true;
  if (!err)
    err = self->file->sync_if_due ((gint64) self->settings->flush_interval * 1000);
  if (!err)
    schedule_idle_sync (self);
  g_mutex_unlock (&self->file_lock);
  if (err) {
    post_write_error (self, err);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* EOS completes the file: synced (jsonl) or written and renamed (hdf5).
 * On failure the EOS is dropped, so the application sees only the error. */
static bool
finish_output (GstTokenSinkWriter * self)
{
  if (is_hdf5 (self)) {
    if (!self->hdf5->is_open ())
      return true;              /* an earlier error was posted and removed it */
    if (!self->recorded) {      /* nothing started: no file, as with jsonl */
      self->hdf5->abort ();
      return true;
    }
    neuro::Hdf5Status s = self->hdf5->finish ();
    if (!s.ok)
      post_hdf5_error (self, s);
    return s.ok;
  }
  return sync_header (self);
}

static gboolean
gst_token_sink_writer_event (GstBaseSink * sink, GstEvent * event)
{
  GstTokenSinkWriter *self = GST_TOKEN_SINK_WRITER (sink);
  if (gst_event_has_name (event, RECORDING_FAILED_EVENT)) {
    self->hdf5->abort ();       /* an unfinished HDF5 recording leaves no file */
    gst_event_unref (event);
    return TRUE;
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && !finish_output (self)) {
    gst_event_unref (event);
    return FALSE;
  }
  return GST_BASE_SINK_CLASS (gst_token_sink_writer_parent_class)->event (sink, event);
}

static void
gst_token_sink_writer_finalize (GObject * object)
{
  GstTokenSinkWriter *self = GST_TOKEN_SINK_WRITER (object);
  delete self->file;
  delete self->hdf5;
  delete self->settings;
  g_mutex_clear (&self->file_lock);
  G_OBJECT_CLASS (gst_token_sink_writer_parent_class)->finalize (object);
}

/* The header reaches the disk as soon as the pipeline plays (running time 0
 * is known then), not with the first ordered record, which can be seconds
 * later: a recording killed early is still a valid file. */
static GstStateChangeReturn
gst_token_sink_writer_change_state (GstElement * element, GstStateChange transition)
{
  GstTokenSinkWriter *self = GST_TOKEN_SINK_WRITER (element);
  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (gst_token_sink_writer_parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE || transition != GST_STATE_CHANGE_PAUSED_TO_PLAYING)
    return ret;
  sync_header (self);
  return ret;
}

static void
gst_token_sink_writer_class_init (GstTokenSinkWriterClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = gst_token_sink_writer_finalize;
  gst_element_class_add_static_pad_template (element_class, &lines_sink_template);
  gst_element_class_set_static_metadata (element_class, "tokensink file writer",
      "Sink/File", "Writes whole JSON lines durably, or HDF5 at EOS (inside tokensink)",
      "neurotokens developers");
  sink_class->start = gst_token_sink_writer_start;
  sink_class->stop = gst_token_sink_writer_stop;
  sink_class->render = gst_token_sink_writer_render;
  sink_class->event = gst_token_sink_writer_event;
  element_class->change_state = gst_token_sink_writer_change_state;
}

static void
gst_token_sink_writer_init (GstTokenSinkWriter * self)
{
  self->file = new neuro::LineFile ();
  self->hdf5 = new neuro::Hdf5LineRecorder ();
  self->settings = new SinkSettings ();
  g_mutex_init (&self->file_lock);
  self->idle_sync = NULL;
  self->header_written = false;
  /* A recorder writes as soon as data is ordered: no clock sync, no preroll. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}

/* ------------------------------------------------------------------------ */
/* The public bin. */

G_DEFINE_TYPE (GstTokenSink, gst_token_sink, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (tokensink, "tokensink", GST_RANK_NONE, GST_TYPE_TOKEN_SINK);

static GstPad *
gst_token_sink_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstTokenSink *self = GST_TOKEN_SINK (element);
  GstPadTemplate *mux_templ =
      gst_element_get_pad_template (self->mux, GST_PAD_TEMPLATE_NAME_TEMPLATE (templ));
  GstPad *target = gst_element_request_pad (self->mux, mux_templ, name, caps);
  if (!target)
    return NULL;
  GstPad *ghost = gst_ghost_pad_new_from_template (GST_PAD_NAME (target), target, templ);
  gst_object_unref (target);
  gst_element_add_pad (element, ghost);
  return ghost;
}

static void
gst_token_sink_release_pad (GstElement * element, GstPad * pad)
{
  GstTokenSink *self = GST_TOKEN_SINK (element);
  GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
  gst_element_remove_pad (element, pad);
  if (target) {
    gst_element_release_request_pad (self->mux, target);
    gst_object_unref (target);
  }
}

static void
gst_token_sink_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstTokenSink *self = GST_TOKEN_SINK (object);
  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_free (self->location);
      self->location = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FORMAT:
      GST_OBJECT_LOCK (self);
      self->format = (GstTokenSinkFormat) g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_OVERWRITE:
      GST_OBJECT_LOCK (self);
      self->overwrite = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FLUSH_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->flush_interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LATENCY:
      g_object_set_property (G_OBJECT (self->mux), "latency", value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_token_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstTokenSink *self = GST_TOKEN_SINK (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, self->format);
      break;
    case PROP_OVERWRITE:
      g_value_set_boolean (value, self->overwrite);
      break;
    case PROP_FLUSH_INTERVAL:
      g_value_set_uint (value, self->flush_interval);
      break;
    case PROP_LATENCY:
      GST_OBJECT_UNLOCK (self);
      g_object_get_property (G_OBJECT (self->mux), "latency", value);
      return;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_token_sink_finalize (GObject * object)
{
  g_free (GST_TOKEN_SINK (object)->location);
  G_OBJECT_CLASS (gst_token_sink_parent_class)->finalize (object);
}

static void
gst_token_sink_class_init (GstTokenSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw_ready = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_token_sink_set_property;
  gobject_class->get_property = gst_token_sink_get_property;
  gobject_class->finalize = gst_token_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Path of the recording file to create", DEFAULT_LOCATION, rw_ready));
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_enum ("format", "Format", "File format of the recording: jsonl "
          "(JSON Lines, durable while recording) or hdf5 (datasets, written at EOS)",
          gst_token_sink_format_get_type (), DEFAULT_FORMAT, rw_ready));
  g_object_class_install_property (gobject_class, PROP_OVERWRITE,
      g_param_spec_boolean ("overwrite", "Overwrite",
          "Replace an existing file at location (false: an existing file is an error)",
          DEFAULT_OVERWRITE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_FLUSH_INTERVAL,
      g_param_spec_uint ("flush-interval", "Flush interval",
          "Longest time in milliseconds between fdatasync calls while data flows, and "
          "longest gap record written while a live stream stays silent (0: sync every write)",
          0, G_MAXUINT, DEFAULT_FLUSH_INTERVAL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint64 ("latency", "Latency",
          "Extra time in nanoseconds to wait for a late live stream, on top of its own "
          "upstream latency, before writing past it and recording it as silent", 0,
          G_MAXUINT64, DEFAULT_LATENCY,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_pad_template (element_class, tokens_sink_template (GST_TYPE_GHOST_PAD));
  gst_element_class_set_static_metadata (element_class, "Token recorder", "Sink/File",
      "Records token streams of several modalities, with classifications and "
      "annotations, to one JSON Lines file (each stream in running-time order) or to HDF5 datasets",
      "neurotokens developers");
  element_class->request_new_pad = gst_token_sink_request_new_pad;
  element_class->release_pad = gst_token_sink_release_pad;

  gst_type_mark_as_plugin_api (gst_token_sink_format_get_type (), (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_token_sink_debug, "tokensink", 0, "tokensink");
}

static void
gst_token_sink_init (GstTokenSink * self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  self->format = DEFAULT_FORMAT;
  self->overwrite = DEFAULT_OVERWRITE;
  self->flush_interval = DEFAULT_FLUSH_INTERVAL;

  self->mux = GST_ELEMENT (g_object_new (GST_TYPE_TOKEN_SINK_MUX, "name", "mux", NULL));
  self->writer = GST_ELEMENT (g_object_new (GST_TYPE_TOKEN_SINK_WRITER, "name", "writer", NULL));
  g_object_set (self->mux, "latency", (guint64) DEFAULT_LATENCY, NULL);
  gst_bin_add_many (GST_BIN (self), self->mux, self->writer, NULL);
  gst_element_link (self->mux, self->writer);
}
