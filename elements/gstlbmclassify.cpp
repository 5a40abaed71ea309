// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-lbmclassify
 * @title: lbmclassify
 *
 * Classifies windows of token frames (`application/x-tokens`, one codebook)
 * with a TFM-Encoder classifier (models/tfm_models.h). Tokens pass through
 * unchanged. Every `stride` frames, once `window` contiguous frames have
 * arrived, the element classifies the last `window` frames and reports the
 * decision three ways:
 *
 *  - an LbmClassificationMeta (lib/common/classification_meta.h) on the buffer
 *    holding the window's last frame;
 *  - an element message "lbm-classification" on the bus;
 *  - a serialized custom downstream event "lbm-classification"
 *    (neuro::classification_event_new), pushed just before that buffer, which
 *    tokensink records as a `classification` record.
 *
 * Message fields:
 *  - timestamp (guint64, ns): PTS of the window's first token frame
 *  - stream-time (guint64, ns): timestamp as stream time
 *  - running-time (guint64, ns): timestamp as running time
 *  - duration (guint64, ns): window length, window × frame period
 *  - class (gint): index of the most probable class
 *  - label (string): name of that class
 *  - labels (string): all class names, comma separated, in class order
 *  - probabilities (GstValueArray of gdouble): class probabilities, in class order
 *  - p-<label> (gdouble, 0..1): probability of each class, one field per label
 *  - missing-tokens (guint): "no token" values of the window decided as
 *    [MASK] (missing=decide); 0 when the window was complete
 *
 * Overlapping windows (caps with window-frames and window-stride, from
 * tfmtokenize window-stride=K below its window length): each buffer is one
 * window, classified as a whole, so there is one decision per incoming
 * window, every K token frames; window and stride must be left unset.
 *
 * A window never spans a discontinuity: the frame history is cleared on a
 * DISCONT buffer, a flush, a new stream, a change of caps or channel names,
 * and whenever a frame's time is more than half a frame period away from
 * where the previous frame predicts it (tfmtokenize leaves such a gap between
 * its windows, so decisions line up with its windows).
 *
 * A window holding "no token" values (0xFFFFFFFF: tfmtokenize saw NaN or
 * infinite input) on a channel the model reads gets no decision by default
 * (missing=skip): no meta, message or event, and one warning per run of
 * such windows naming its time. missing=decide classifies it anyway, the
 * missing tokens given to the model as its [MASK] token (the token table's
 * extra row, which masked-token pre-training uses for a token it cannot
 * see), and the decision carries missing-tokens > 0 (message and event
 * field, meta field, tokensink record field).
 *
 * Example launch lines:
 * |[
 * gst-launch-1.0 eegsrc ! stft ! tfmtokenize ! lbmclassify ! fakesink
 * ]| classifies synthetic EEG with the shipped eyes-open/closed model, one
 * decision per 10 s tokenizer window.
 * |[
 * gst-launch-1.0 -m eegsrc location=S001R02.edf rate=200 ! stft ! tfmtokenize ! \
 *     lbmclassify window=19 stride=19 ! fakesink | grep lbm-classification
 * ]| prints every decision message on a recording.
 */
#include "gstlbmclassify.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "channels.h"
#include "classification_meta.h"
#include "events.h"
#include "media.h"
#include "model_slot.h"
#include "tags.h"
#include "tfm_models.h"

GST_DEBUG_CATEGORY_STATIC (gst_lbm_classify_debug);
#define GST_CAT_DEFAULT gst_lbm_classify_debug

#define DEFAULT_MODEL_FILE "lbm-eyes-eeg.safetensors"
#define DEFAULT_LABELS NULL
#define DEFAULT_WINDOW 0
#define DEFAULT_STRIDE 0
#define DEFAULT_THREADS 1
#define DEFAULT_MISSING GST_LBM_CLASSIFY_MISSING_SKIP

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_LABELS,
  PROP_WINDOW,
  PROP_STRIDE,
  PROP_THREADS,
  PROP_MISSING,
};

namespace {

struct TokenFrame
{
  GstClockTime pts;
  std::vector<uint32_t> tokens;  /* one per model input channel, in model order */
};

/* Everything C++ lives here so the GObject instance stays plain C. */
struct State
{
  /* properties, guarded by the object lock */
  std::string model_property;            /* "" = the shipped model */
  std::string labels_property;
  guint window_property = DEFAULT_WINDOW;
  guint stride_property = DEFAULT_STRIDE;
  gint threads = DEFAULT_THREADS;
  GstLbmClassifyMissing missing = DEFAULT_MISSING;

  /* loaded at NULL->READY, reloaded at READY->PAUSED (model_slot.h) */
  neuro::ModelSlot<neuro::Classifier> slot;
  neuro::ModelThreads threads_applied;

  /* fixed by start () */
  std::vector<std::string> labels;
  int window = 0;
  int stride = 0;

  /* fixed by caps and tags */
  neuro::TokensInfo stream;  /* window_frames > 0: one overlapping window per buffer */
  GstClockTime frame_period = GST_CLOCK_TIME_NONE;
  std::vector<std::string> channel_names;  /* from the neuro-channel-names tag */
  std::vector<int> channel_map;            /* stream channel feeding each model channel */
  bool channel_map_ready = false;

  /* streaming */
  std::deque<TokenFrame> history;          /* at most `window` contiguous frames */
  guint64 frames_since_reset = 0;
  std::vector<uint32_t> window_tokens;     /* scratch, channel-major */
  /* In a run of windows skipped for missing tokens: until a decision or a
   * new stream (not a gap: tfmtokenize leaves one between its windows). */
  bool skipping = false;
};

}  // namespace

struct _GstLbmClassify
{
  GstBaseTransform parent;
  State *state;
};

G_DEFINE_TYPE (GstLbmClassify, gst_lbm_classify, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (lbmclassify, "lbmclassify", GST_RANK_NONE, GST_TYPE_LBM_CLASSIFY);

static std::string
model_path (const std::string & property)
{
  return neuro::model_file (property.c_str (), DEFAULT_MODEL_FILE);
}

static std::vector<std::string>
parse_list (const std::string & list)
{
  std::vector<std::string> out;
  for (const std::string & item : neuro::split (list)) {
    gchar *copy = g_strstrip (g_strdup (item.c_str ()));
    out.emplace_back (copy);
    g_free (copy);
  }
  return out;
}

static std::vector<std::string>
channel_names_from_tags (const GstTagList * tags)
{
  gchar *value = NULL;
  if (!gst_tag_list_get_string (tags, NEURO_TAG_CHANNEL_NAMES, &value))
    return {};
  std::vector<std::string> names = parse_list (value);
  g_free (value);
  return names;
}

static void
reset_history (State * st)
{
  st->history.clear ();
  st->frames_since_reset = 0;
}

static GType
gst_lbm_classify_missing_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_LBM_CLASSIFY_MISSING_SKIP, "No decision on a window with no-token values (a warning per run)",
        "skip"},
    {GST_LBM_CLASSIFY_MISSING_DECIDE, "Decide anyway, missing tokens as the model's [MASK] token; the "
          "decision's missing-tokens field counts them", "decide"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstLbmClassifyMissing", values));
  return type;
}

/* ---- model ---- */

/* Loads the file `model` names unless it is the one loaded. */
static bool
refresh_classifier (GstLbmClassify * self)
{
  State *st = self->state;
  GST_OBJECT_LOCK (self);
  const std::string path = model_path (st->model_property);
  GST_OBJECT_UNLOCK (self);
  if (!st->slot.refresh (GST_ELEMENT (self), path, "Set the model property to a TFM-Encoder classifier "
          "(.safetensors), e.g. the authors' TUEV model converted with models/convert_checkpoint.py."))
    return false;
  GST_INFO_OBJECT (self, "model %s: %d outputs, %d channel embeddings, %d positions, "
      "vocabulary %d", path.c_str (), st->slot.model->num_classes (),
      st->slot.model->max_channels (), st->slot.model->max_frames (),
      st->slot.model->info ().vocabulary);
  return true;
}

static bool
labels_are_usable (const std::vector<std::string> & labels)
{
  for (size_t i = 0; i < labels.size (); i++) {
    if (labels[i].empty ())
      return false;
    for (size_t j = 0; j < i; j++)
      if (labels[i] == labels[j])
        return false;
  }
  return true;
}

/* Class names in output order: the labels property, else the model's
 * (its metadata, or "0", "1", ... from the model library). */
static bool
resolve_labels (GstLbmClassify * self, const std::string & path,
    const std::string & labels_property)
{
  State *st = self->state;
  const int outputs = st->slot.model->num_classes ();
  const size_t n = outputs == 1 ? 2 : (size_t) outputs;
  std::vector<std::string> labels = parse_list (labels_property);
  const bool from_property = !labels.empty ();
  if (!from_property)
    labels = st->slot.model->info ().labels;
  if (labels.size () != n || !labels_are_usable (labels)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("%s (\"%s\") must name %zu distinct classes for model \"%s\".",
            from_property ? "The labels property" : "The model's labels metadata",
            neuro::join (labels).c_str (), n, path.c_str ()), (NULL));
    return false;
  }
  st->labels = labels;
  return true;
}

/* The model's decision window in frames: its "window" metadata (frames it
 * was trained on), else its tokenizer window from window-samples, n-fft and
 * hop (19 frames for 10 s at 200 Hz, the default of a converted checkpoint). */
static int
model_window_frames (const neuro::ModelInfo & info)
{
  auto it = info.metadata.find ("window");
  if (it != info.metadata.end ()) {
    gchar *end = NULL;
    const gint64 frames = g_ascii_strtoll (it->second.c_str (), &end, 10);
    if (end && *end == '\0' && frames > 0 && frames <= G_MAXINT)
      return (int) frames;
  }
  return info.geometry.frames_per_window ();
}

/* window: the property, else the model's; stride defaults to window. */
static bool
resolve_window (GstLbmClassify * self, const std::string & path, guint window,
    guint stride)
{
  State *st = self->state;
  st->window = window ? (int) window : model_window_frames (st->slot.model->info ());
  st->stride = stride ? (int) stride : st->window;
  if (st->window < 1 || st->window > st->slot.model->max_frames ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("window=%d frames is outside what model \"%s\" supports (1 to %d frames).",
            st->window, path.c_str (), st->slot.model->max_frames ()), (NULL));
    return false;
  }
  return true;
}

static bool
check_model_channels (GstLbmClassify * self, const std::string & path)
{
  State *st = self->state;
  const size_t expected = st->slot.model->info ().channels.size ();
  if (expected > (size_t) st->slot.model->max_channels ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Model \"%s\" lists %zu channels in its metadata but has only %d channel "
            "embeddings.", path.c_str (), expected, st->slot.model->max_channels ()),
        (NULL));
    return false;
  }
  return true;
}

static gboolean
gst_lbm_classify_start (GstBaseTransform * trans)
{
  GstLbmClassify *self = GST_LBM_CLASSIFY (trans);
  State *st = self->state;
  GST_OBJECT_LOCK (self);
  const std::string labels = st->labels_property;
  const guint window = st->window_property;
  const guint stride = st->stride_property;
  GST_OBJECT_UNLOCK (self);

  const std::string & path = st->slot.path;
  if (!resolve_labels (self, path, labels) || !resolve_window (self, path, window, stride) ||
      !check_model_channels (self, path))
    return FALSE;
  st->channel_names.clear ();
  st->channel_map_ready = false;
  reset_history (st);
  st->skipping = false;
  GST_INFO_OBJECT (self, "window %d frames, stride %d, labels %s", st->window,
      st->stride, neuro::join (st->labels).c_str ());
  return TRUE;
}

static gboolean
gst_lbm_classify_stop (GstBaseTransform * trans)
{
  reset_history (GST_LBM_CLASSIFY (trans)->state);
  return TRUE;
}

static GstStateChangeReturn
gst_lbm_classify_change_state (GstElement * element, GstStateChange transition)
{
  GstLbmClassify *self = GST_LBM_CLASSIFY (element);
  if ((transition == GST_STATE_CHANGE_NULL_TO_READY || transition == GST_STATE_CHANGE_READY_TO_PAUSED) &&
      !refresh_classifier (self))
    return GST_STATE_CHANGE_FAILURE;
  GstStateChangeReturn ret = GST_ELEMENT_CLASS (gst_lbm_classify_parent_class)->change_state (element,
      transition);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    self->state->slot.drop ();
  return ret;
}

/* ---- caps and channel mapping ---- */

static bool
check_stream_matches_model (GstLbmClassify * self)
{
  State *st = self->state;
  const neuro::ModelInfo & info = st->slot.model->info ();
  if (st->stream.codebooks != 1) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("lbmclassify classifies single-codebook tokens, but the stream has "
            "codebooks=%d.", st->stream.codebooks), (NULL));
    return false;
  }
  if (st->stream.vocabulary != info.vocabulary) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The tokenizer's vocabulary (%d tokens) differs from classifier \"%s\"'s "
            "(%d tokens): use a classifier trained on this tokenizer's tokens.",
            st->stream.vocabulary, info.path.c_str (), info.vocabulary), (NULL));
    return false;
  }
  const std::string & modality = st->stream.modality;
  if (!modality.empty () && !info.modality.empty () && info.modality != modality) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Classifier \"%s\" was trained on %s tokens, but the stream carries %s "
            "tokens.", info.path.c_str (), info.modality.c_str (), modality.c_str ()), (NULL));
    return false;
  }
  if (info.channels.empty () && st->stream.channels > st->slot.model->max_channels ()) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The stream has %d channels, but classifier \"%s\" takes at most %d "
            "(mapped by position). Select channels upstream, e.g. eegsrc channels= "
            "or montage=.", st->stream.channels, info.path.c_str (),
            st->slot.model->max_channels ()), (NULL));
    return false;
  }
  return true;
}

/* Caps with window-frames (tfmtokenize window-stride below its window
 * length) announce overlapping windows, one per buffer: each is classified
 * as a whole, one decision per incoming window. Otherwise the decision
 * window comes from the properties and the model, as start () resolved. */
static bool
window_from_caps (GstLbmClassify * self)
{
  State *st = self->state;
  GST_OBJECT_LOCK (self);
  const guint window = st->window_property;
  const guint stride = st->stride_property;
  GST_OBJECT_UNLOCK (self);
  const std::string & path = st->slot.path;
  const int frames = st->stream.window_frames;
  if (frames == 0)
    return resolve_window (self, path, window, stride);
  if (frames > st->slot.model->max_frames ()) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The incoming windows have %d token frames, more than model \"%s\" supports (%d frames).",
            frames, path.c_str (), st->slot.model->max_frames ()), (NULL));
    return false;
  }
  if ((window && (int) window != frames) || stride) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("The stream carries overlapping windows of %d token frames (tfmtokenize window-stride), and "
            "lbmclassify makes one decision per incoming window: leave window and stride unset "
            "(window=%u, stride=%u are set).", frames, window, stride), (NULL));
    return false;
  }
  st->window = st->stride = frames;
  return true;
}

static gboolean
gst_lbm_classify_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  (void) outcaps;
  GstLbmClassify *self = GST_LBM_CLASSIFY (trans);
  State *st = self->state;
  const std::string problem = neuro::TokensInfo::from_caps (gst_caps_get_structure (incaps, 0), st->stream);
  if (!problem.empty ()) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("lbmclassify: %s: %" GST_PTR_FORMAT, problem.c_str (), incaps), (NULL));
    return FALSE;
  }
  if (!check_stream_matches_model (self) || !window_from_caps (self))
    return FALSE;
  st->frame_period = st->stream.frame_time (1);
  st->channel_map_ready = false;
  reset_history (st);
  return TRUE;
}

static std::string
list_or_none (const std::vector<std::string> & names)
{
  return names.empty () ? std::string ("(none)") : neuro::join (names, ", ");
}

/* Model channel i reads stream channel map[i]: by name when the model lists
 * its channels, else by position. */
static bool
build_channel_map (GstLbmClassify * self)
{
  State *st = self->state;
  const neuro::ModelInfo & info = st->slot.model->info ();
  st->channel_map.clear ();
  if (info.channels.empty ()) {
    if (st->stream.channels != st->slot.model->max_channels ())
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("Classifier \"%s\" names no channels and has %d channel embeddings; the "
              "stream's %d channels are taken by position.", info.path.c_str (),
              st->slot.model->max_channels (), st->stream.channels), (NULL));
    for (int c = 0; c < st->stream.channels; c++)
      st->channel_map.push_back (c);
    return true;
  }
  if ((int) st->channel_names.size () != st->stream.channels) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Classifier \"%s\" needs channels %s by name, but the stream's %d channels "
            "are named %s (tag " NEURO_TAG_CHANNEL_NAMES "). Name the channels upstream "
            "(eegsrc does).", info.path.c_str (), list_or_none (info.channels).c_str (),
            st->stream.channels, list_or_none (st->channel_names).c_str ()), (NULL));
    return false;
  }
  std::vector<std::string> missing;
  for (const std::string & wanted : info.channels) {
    /* eegsrc's rule (lib/common/channels.h), so T5 in the stream finds P7 */
    auto it = std::find_if (st->channel_names.begin (), st->channel_names.end (),
        [&wanted] (const std::string & n) { return neuro::same_channel (n, wanted); });
    if (it == st->channel_names.end ())
      missing.push_back (wanted);
    else
      st->channel_map.push_back ((int) (it - st->channel_names.begin ()));
  }
  if (!missing.empty ()) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("The stream lacks channels %s that classifier \"%s\" was trained on "
            "(stream channels: %s). Select or derive them upstream, e.g. with eegsrc "
            "channels= or montage=.", list_or_none (missing).c_str (), info.path.c_str (),
            list_or_none (st->channel_names).c_str ()), (NULL));
    return false;
  }
  return true;
}

static gboolean
gst_lbm_classify_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  State *st = GST_LBM_CLASSIFY (trans)->state;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_TAG:{
      GstTagList *tags = NULL;
      gst_event_parse_tag (event, &tags);
      std::vector<std::string> names = channel_names_from_tags (tags);
      if (!names.empty () && names != st->channel_names) {
        st->channel_names = names;
        st->channel_map_ready = false;
        reset_history (st);
      }
      break;
    }
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      reset_history (st);
      st->skipping = false;
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_lbm_classify_parent_class)->sink_event (trans, event);
}

/* ---- decisions ---- */

static void
post_decision (GstLbmClassify * self, const neuro::Classification & c)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstStructure *s = neuro::classification_to_structure (c);
  gst_structure_set (s,
      "stream-time", G_TYPE_UINT64,
      (guint64) gst_segment_to_stream_time (segment, GST_FORMAT_TIME, c.timestamp),
      "running-time", G_TYPE_UINT64,
      (guint64) gst_segment_to_running_time (segment, GST_FORMAT_TIME, c.timestamp),
      NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  if (!gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
          neuro::classification_event_new (c)))
    GST_DEBUG_OBJECT (self, "downstream did not take the classification event");
}

/* The stream channels (names when known) behind model channels with
 * missing tokens in the window. */
static std::string
missing_channels (const State * st)
{
  const int frames = st->window;
  std::vector<std::string> names;
  for (size_t c = 0; c < st->channel_map.size (); c++) {
    const uint32_t *row = st->window_tokens.data () + c * frames;
    if (std::find (row, row + frames, neuro::kNoToken) == row + frames)
      continue;
    const int s = st->channel_map[c];
    names.push_back ((size_t) s < st->channel_names.size () ? st->channel_names[s] :
        "channel " + std::to_string (s));
  }
  return neuro::join (names, ", ");
}

/* missing=skip: no decision; the first window of a run of them is
 * reported (one warning per run, not per window). */
static void
skip_window (GstLbmClassify * self, size_t missing)
{
  State *st = self->state;
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  const GstClockTime start = st->history.front ().pts;
  const GstClockTime end = st->history.back ().pts + st->frame_period;
  GST_DEBUG_OBJECT (self, "no decision at %" GST_TIME_FORMAT ": %zu tokens missing", GST_TIME_ARGS (start),
      missing);
  if (st->skipping)
    return;
  st->skipping = true;
  const std::string channels = missing_channels (st);
  GST_ELEMENT_WARNING (self, STREAM, DECODE,
      ("No decision for the window from %.3f s to %.3f s of running time: %zu of its %zu tokens are "
          "\"no token\" (non-finite input upstream) on %s. Later windows with missing tokens get none "
          "either, until one is complete; set missing=decide to classify them anyway.",
          gst_segment_to_running_time (segment, GST_FORMAT_TIME, start) / 1e9,
          gst_segment_to_running_time (segment, GST_FORMAT_TIME, end) / 1e9, missing,
          st->window_tokens.size (), channels.c_str ()),
      ("PTS %" GST_TIME_FORMAT ", missing=skip", GST_TIME_ARGS (start)));
}

/* Whether to decide on the window gathered in window_tokens, which holds
 * `missing` no-token values: always when complete; otherwise per the
 * missing property, the values then replaced by the model's [MASK] id. */
static bool
decide_with_missing (GstLbmClassify * self, size_t missing)
{
  State *st = self->state;
  if (missing == 0)
    return true;
  GST_OBJECT_LOCK (self);
  const GstLbmClassifyMissing policy = st->missing;
  GST_OBJECT_UNLOCK (self);
  if (policy == GST_LBM_CLASSIFY_MISSING_SKIP) {
    skip_window (self, missing);
    return false;
  }
  /* The token table's row after the codes is [MASK]: "a token is here, unseen". */
  std::replace (st->window_tokens.begin (), st->window_tokens.end (), neuro::kNoToken,
      (uint32_t) st->slot.model->info ().vocabulary);
  return true;
}

static bool
classify_window (GstLbmClassify * self, GstBuffer * buffer)
{
  State *st = self->state;
  const int channels = (int) st->channel_map.size ();
  const int frames = st->window;
  st->window_tokens.resize ((size_t) channels * frames);
  for (int t = 0; t < frames; t++)
    for (int c = 0; c < channels; c++)
      st->window_tokens[(size_t) c * frames + t] = st->history[t].tokens[c];
  const size_t missing = std::count (st->window_tokens.begin (), st->window_tokens.end (), neuro::kNoToken);
  if (!decide_with_missing (self, missing))
    return true;  /* no decision, not an error */
  st->skipping = false;

  std::vector<float> logits;
  neuro::Classification c;
  try {
    logits = st->slot.model->logits (st->window_tokens.data (), channels, frames);
    c.probabilities = st->slot.model->probabilities (logits);
  } catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Classifier \"%s\" failed: %s", st->slot.model->info ().path.c_str (),
            e.what ()), (NULL));
    return false;
  }
  c.timestamp = st->history.front ().pts;
  c.duration = st->history.back ().pts + st->frame_period - c.timestamp;
  c.labels = st->labels;
  c.missing_tokens = (unsigned) missing;
  c.class_index = (int) (std::max_element (c.probabilities.begin (),
          c.probabilities.end ()) - c.probabilities.begin ());
  GST_LOG_OBJECT (self, "window at %" GST_TIME_FORMAT ": %s (p=%.3f)",
      GST_TIME_ARGS (c.timestamp), st->labels[c.class_index].c_str (),
      c.probabilities[c.class_index]);
  neuro::buffer_add_classification_meta (buffer, c, logits);
  post_decision (self, c);
  return true;
}

static bool
tokens_in_vocabulary (GstLbmClassify * self, const uint32_t * frame, GstClockTime pts)
{
  State *st = self->state;
  for (int c = 0; c < st->stream.channels; c++) {
    if (frame[c] >= (uint32_t) st->stream.vocabulary && frame[c] != neuro::kNoToken) {
      GST_ELEMENT_ERROR (self, STREAM, DECODE,
          ("Token %u on channel %d at %" GST_TIME_FORMAT " is outside the stream's "
              "vocabulary of %d tokens.", frame[c], c, GST_TIME_ARGS (pts),
              st->stream.vocabulary), (NULL));
      return false;
    }
  }
  return true;
}

/* A frame more than half a period away from where the last one predicts
 * starts a new run: windows must not bridge skipped or repeated frames. */
static bool
is_contiguous (const State * st, GstClockTime pts)
{
  if (st->history.empty ())
    return true;
  return neuro::continues_run (st->history.back ().pts + st->frame_period, pts, st->frame_period);
}

static bool
decision_due (const State * st)
{
  const guint64 n = st->frames_since_reset;
  return n >= (guint64) st->window && (n - st->window) % st->stride == 0;
}

static bool
add_frame (GstLbmClassify * self, GstBuffer * buffer, const uint32_t * frame,
    GstClockTime pts)
{
  State *st = self->state;
  if (!is_contiguous (st, pts)) {
    GST_DEBUG_OBJECT (self, "gap before %" GST_TIME_FORMAT ": new window run",
        GST_TIME_ARGS (pts));
    reset_history (st);
  }
  TokenFrame f { pts, std::vector<uint32_t> (st->channel_map.size ()) };
  for (size_t c = 0; c < st->channel_map.size (); c++)
    f.tokens[c] = frame[st->channel_map[c]];
  st->history.push_back (std::move (f));
  if (st->history.size () > (size_t) st->window)
    st->history.pop_front ();
  st->frames_since_reset++;
  return !decision_due (st) || classify_window (self, buffer);
}

/* Frame i of a buffer is at PTS + i / framerate; a buffer without PTS
 * continues from the previous frame (or the segment start). */
static GstClockTime
buffer_start_time (GstLbmClassify * self, GstBuffer * buffer)
{
  State *st = self->state;
  if (GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_BUFFER_PTS (buffer);
  if (!st->history.empty ())
    return st->history.back ().pts + st->frame_period;
  return GST_BASE_TRANSFORM (self)->segment.start;
}

static void
apply_threads (GstLbmClassify * self)
{
  GST_OBJECT_LOCK (self);
  const gint threads = self->state->threads;
  GST_OBJECT_UNLOCK (self);
  self->state->threads_applied.apply (threads);
}

static GstFlowReturn
gst_lbm_classify_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstLbmClassify *self = GST_LBM_CLASSIFY (trans);
  State *st = self->state;
  if (!st->channel_map_ready) {
    if (!build_channel_map (self))
      return GST_FLOW_ERROR;
    st->channel_map_ready = true;
    reset_history (st);
  }
  apply_threads (self);

  GstMapInfo map;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Cannot map a token buffer."), (NULL));
    return GST_FLOW_ERROR;
  }
  const gsize frame_bytes = (gsize) st->stream.channels * sizeof (uint32_t);
  if (map.size % frame_bytes != 0) {
    gst_buffer_unmap (buffer, &map);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("A token buffer of %" G_GSIZE_FORMAT " bytes is not a whole number of "
            "frames of %d channels x 4 bytes.", map.size, st->stream.channels), (NULL));
    return GST_FLOW_ERROR;
  }
  const gsize frames_in_buffer = map.size / frame_bytes;
  if (st->stream.window_frames > 0 && frames_in_buffer != (gsize) st->stream.window_frames) {
    gst_buffer_unmap (buffer, &map);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("A buffer of an overlapping-window stream holds %" G_GSIZE_FORMAT " token frames, not one "
            "window of %d.", frames_in_buffer, st->stream.window_frames), (NULL));
    return GST_FLOW_ERROR;
  }
  /* Each overlapping window is classified on its own. */
  if (GST_BUFFER_IS_DISCONT (buffer) || st->stream.window_frames > 0)
    reset_history (st);

  /* Token payloads are little-endian uint32, like this host's (x86/arm LE).
   * Copied frame by frame: a buffer need not be 4-byte aligned (rtpgstdepay
   * hands out sub-buffers at any offset of the packet). */
  const gsize n_frames = map.size / frame_bytes;
  const GstClockTime start = buffer_start_time (self, buffer);
  std::vector<uint32_t> frame (st->stream.channels);
  bool ok = true;
  for (gsize i = 0; ok && i < n_frames; i++) {
    std::memcpy (frame.data (), map.data + i * frame_bytes, frame_bytes);
    const GstClockTime pts = start + st->stream.frame_time (i);
    ok = tokens_in_vocabulary (self, frame.data (), pts) && add_frame (self, buffer, frame.data (), pts);
  }
  gst_buffer_unmap (buffer, &map);
  return ok ? GST_FLOW_OK : GST_FLOW_ERROR;
}

/* ---- GObject ---- */

static void
gst_lbm_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstLbmClassify *self = GST_LBM_CLASSIFY (object);
  State *st = self->state;
  if (prop_id == PROP_MODEL && !neuro::model_property_settable (GST_ELEMENT (self), pspec))
    return;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:{
      const gchar *path = g_value_get_string (value);
      st->model_property = path ? path : "";
      break;
    }
    case PROP_LABELS:{
      const gchar *labels = g_value_get_string (value);
      st->labels_property = labels ? labels : "";
      break;
    }
    case PROP_WINDOW:
      st->window_property = g_value_get_uint (value);
      break;
    case PROP_STRIDE:
      st->stride_property = g_value_get_uint (value);
      break;
    case PROP_THREADS:
      st->threads = g_value_get_int (value);
      break;
    case PROP_MISSING:
      st->missing = (GstLbmClassifyMissing) g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lbm_classify_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstLbmClassify *self = GST_LBM_CLASSIFY (object);
  State *st = self->state;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, model_path (st->model_property).c_str ());
      break;
    case PROP_LABELS:
      g_value_set_string (value,
          st->labels_property.empty () ? NULL : st->labels_property.c_str ());
      break;
    case PROP_WINDOW:
      g_value_set_uint (value, st->window_property);
      break;
    case PROP_STRIDE:
      g_value_set_uint (value, st->stride_property);
      break;
    case PROP_THREADS:
      g_value_set_int (value, st->threads);
      break;
    case PROP_MISSING:
      g_value_set_enum (value, st->missing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lbm_classify_finalize (GObject * object)
{
  delete GST_LBM_CLASSIFY (object)->state;
  G_OBJECT_CLASS (gst_lbm_classify_parent_class)->finalize (object);
}

static void
install_properties (GObjectClass * gobject_class)
{
  const GParamFlags flags = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Path of the TFM-Encoder classifier (.safetensors); NULL or empty = the shipped "
          "eyes-open/closed EEG model in the model directory (what reading the property gives). "
          "Loaded at NULL->READY; a change in READY is loaded at READY->PAUSED",
          model_path ("").c_str (), flags));
  g_object_class_install_property (gobject_class, PROP_LABELS,
      g_param_spec_string ("labels", "Labels",
          "Comma list of class names in output order, overriding the model's labels "
          "metadata (NULL = the model's; \"0\", \"1\", ... when it has none)", DEFAULT_LABELS, flags));
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint ("window", "Window",
          "Token frames per decision (0 = the model's: its window metadata, else "
          "window-samples, n-fft and hop; 19 frames for 10 s at 200 Hz)", 0, G_MAXINT,
          DEFAULT_WINDOW, flags));
  g_object_class_install_property (gobject_class, PROP_STRIDE,
      g_param_spec_uint ("stride", "Stride",
          "Token frames from one decision to the next (0 = window: non-overlapping "
          "windows)", 0, G_MAXINT, DEFAULT_STRIDE, flags));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "LibTorch intra-op threads (count) of the streaming thread; 0 = one per CPU core. "
          "Changeable while playing", 0, 1024, DEFAULT_THREADS,
          (GParamFlags) (flags | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_MISSING,
      g_param_spec_enum ("missing", "Missing tokens",
          "A window holding \"no token\" values (0xFFFFFFFF, from non-finite input) on a channel the model "
          "reads: 'skip' makes no decision (no meta, message or event; one warning per run of such "
          "windows), 'decide' classifies it with the missing tokens as the model's [MASK] token and "
          "reports their count in the decision's missing-tokens field. Changeable while playing",
          gst_lbm_classify_missing_get_type (), DEFAULT_MISSING,
          (GParamFlags) (flags | GST_PARAM_MUTABLE_PLAYING)));
}

static void
gst_lbm_classify_class_init (GstLbmClassifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_lbm_classify_set_property;
  gobject_class->get_property = gst_lbm_classify_get_property;
  gobject_class->finalize = gst_lbm_classify_finalize;
  install_properties (gobject_class);

  GstCaps *tokens = neuro::tokens_template_caps ();
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, tokens));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, tokens));
  gst_caps_unref (tokens);
  gst_element_class_set_static_metadata (element_class, "lbmclassify", "Filter/Analyzer",
      "Classifies windows of tokens with a TFM-Encoder large brainwave model; tokens "
      "pass through. Each decision: an LbmClassificationMeta on the buffer, a "
      "serialized lbm-classification event downstream, and an element message "
      "lbm-classification with timestamp, stream-time, running-time, duration "
      "(guint64, ns), class (gint), label, labels (strings), probabilities "
      "(GstValueArray of gdouble, in label order), p-<label> (gdouble, 0..1) and missing-tokens (guint: "
      "no-token values decided as [MASK], see missing)", "neurotokens developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_lbm_classify_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_lbm_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_lbm_classify_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_lbm_classify_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_lbm_classify_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_lbm_classify_transform_ip);

  gst_type_mark_as_plugin_api (gst_lbm_classify_missing_get_type (), (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_lbm_classify_debug, "lbmclassify", 0,
      "TFM-Encoder token window classifier");
}

static void
gst_lbm_classify_init (GstLbmClassify * self)
{
  self->state = new State ();
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  /* not passthrough: decisions add metas, which needs a writable buffer */
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}
