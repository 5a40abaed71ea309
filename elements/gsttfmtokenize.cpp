// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-tfmtokenize
 * @title: tfmtokenize
 *
 * Turns an `application/x-spectrogram` stream (from `stft`, with waveform=true)
 * into discrete TFM-Tokenizer tokens, `application/x-tokens`. The window
 * cutting lives in lib/window (shared with the training tool and the tests),
 * the model in models/ (LibTorch); this file is the GStreamer glue.
 *
 * By default windows are fixed, as in the reference: window w holds input
 * samples [w·L, (w+1)·L) (L = the model's window-samples); its
 * T = (L − n-fft)/hop + 1 tokens per channel come from the frames wholly
 * inside it. Frames straddling two windows (one per window for n-fft = 2·hop)
 * produce no token. window-stride=K (1..S, S = L/hop) starts a window every K
 * hops instead: window w holds samples [w·K·hop, w·K·hop + L), and, being
 * cut and normalised on its own, gives exactly the reference's tokens for an
 * input starting there. With normalize=q95 each channel of each window is
 * divided by quantile(|x|, 0.95) + 1e-8 of its samples first. All channels
 * of a window are tokenized in one batch; with normalize=none overlapping
 * windows share the frequency branch of their common frames.
 *
 * emit=window: one output buffer per window, T token frames, frame-major,
 * each frame `channels` uint32 little-endian. Buffer PTS = PTS of the
 * window's first frame (stream start + w·K·hop/rate, from the frame counter,
 * never accumulated), duration = T·hop/rate; token frame i of the buffer is
 * at PTS + i·hop/rate; offset/offset-end = w·T, (w+1)·T since the last
 * discontinuity. When K < S the src caps add window-frames=T and
 * window-stride=K. emit=newest (K ≤ T): one continuous stream, the first
 * window's T frames, then the newest K frames of each later window, with the
 * same timestamp rule; offsets are stream frame indices.
 *
 * Non-finite input: a channel whose samples or magnitudes in a window hold
 * a NaN or infinity gets "no token" (0xFFFFFFFF) for all its tokens of that
 * window; the cutter lays those values out as 0, so the other channels get
 * the tokens they would get anyway. One warning per run of such windows
 * names the channels (tag names, else indices) and the running time.
 *
 * State resets on DISCONT, on a PTS jump of more than half a frame, on flush
 * and at stream start: the window grid restarts at the next frame. At EOS the
 * frames of an unfinished window are dropped (logged), never padded.
 *
 * Latency: a buffer leaves when its window's last frame arrives, (T − 1)
 * hops after its first frame for emit=window, (K − 1) hops for emit=newest,
 * plus the forward pass (measured; a latency message is posted when it
 * grows). In a live stream a window whose successor is already due is
 * skipped (skipped-windows counts them; a QoS message per skip, one
 * warning); emit=newest then sends a GAP event for the frames nobody
 * tokenized and restarts with a DISCONT buffer.
 *
 * Stream tags pass through; a stream tag list without `neuro-modality` gets
 * the model's modality, and a stream without tags gets one carrying it.
 * Serialized custom events (neuro-annotation, ...) are forwarded when they
 * arrive; they carry their own timestamps. No bus messages besides errors,
 * warnings, latency and QoS.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 eegsrc rate=200 num-buffers=200 ! stft ! tfmtokenize ! fakesink
 * ]| Tokenizes synthetic EEG with the shipped EEG model; stft takes n-fft, hop and bins from it.
 * |[
 * gst-launch-1.0 filesrc location=x.wav ! wavparse ! audioconvert ! audioresample ! stft ! tfmtokenize modality=audio ! fakesink
 * ]| Tokenizes audio with the shipped audio model, resampled to the model's rate.
 * |[
 * gst-launch-1.0 eegsrc is-live=true samplesperbuffer=10 ! stft ! tfmtokenize window-stride=1 emit=newest ! fakesink
 * ]| A live token stream: a token per channel every 0.5 s, each from the 10 s window ending with it.
 */
#include "gsttfmtokenize.h"
#include "tfmtokenize_windows.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "file_hash.h"
#include "frame_sharing.h"
#include "media.h"
#include "model_slot.h"
#include "tags.h"
#include "tfm_models.h"
#include "tokenizer_window.h"

GST_DEBUG_CATEGORY (gst_tfm_tokenize_debug);
#define GST_CAT_DEFAULT gst_tfm_tokenize_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_MODALITY GST_TFM_TOKENIZE_MODALITY_EEG
#define DEFAULT_NORMALIZE GST_TFM_TOKENIZE_NORMALIZE_Q95
#define DEFAULT_THREADS 0
#define DEFAULT_WINDOW_STRIDE 0
#define DEFAULT_EMIT GST_TFM_TOKENIZE_EMIT_WINDOW

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_MODALITY,
  PROP_NORMALIZE,
  PROP_THREADS,
  PROP_WINDOW_STRIDE,
  PROP_EMIT,
  PROP_SKIPPED_WINDOWS,
};

G_DEFINE_TYPE (GstTfmTokenize, gst_tfm_tokenize, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (tfmtokenize, "tfmtokenize", GST_RANK_NONE, GST_TYPE_TFM_TOKENIZE);

static GType
gst_tfm_tokenize_modality_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_TFM_TOKENIZE_MODALITY_EEG, "EEG: tfm-tokenizer-eeg.safetensors", "eeg"},
    {GST_TFM_TOKENIZE_MODALITY_AUDIO, "Audio: tfm-tokenizer-audio.safetensors", "audio"},
    {GST_TFM_TOKENIZE_MODALITY_HAPTIC, "Haptic: tfm-tokenizer-haptic.safetensors", "haptic"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstTfmTokenizeModality", values));
  return type;
}

static GType
gst_tfm_tokenize_normalize_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_TFM_TOKENIZE_NORMALIZE_Q95,
        "Divide each channel of each window by quantile(|x|, 0.95) + 1e-8", "q95"},
    {GST_TFM_TOKENIZE_NORMALIZE_NONE, "Tokenize the values as they arrive", "none"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstTfmTokenizeNormalize", values));
  return type;
}

static GType
gst_tfm_tokenize_emit_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_TFM_TOKENIZE_EMIT_WINDOW, "One buffer per window with all its T token frames", "window"},
    {GST_TFM_TOKENIZE_EMIT_NEWEST,
        "One continuous stream: a window's frames that no earlier window gave (the first window's T, "
        "then the newest window-stride of each)", "newest"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstTfmTokenizeEmit", values));
  return type;
}

static const char *
modality_name (GstTfmTokenizeModality modality)
{
  switch (modality) {
    case GST_TFM_TOKENIZE_MODALITY_AUDIO:
      return "audio";
    case GST_TFM_TOKENIZE_MODALITY_HAPTIC:
      return "haptic";
    default:
      return "eeg";
  }
}

/* ---- model ------------------------------------------------------------- */

static std::string
shipped_file (GstTfmTokenizeModality modality)
{
  return std::string ("tfm-tokenizer-") + modality_name (modality) + ".safetensors";
}

/* The file `model` names, else the shipped model of `modality`. */
static std::string
model_path (GstTfmTokenize * self)
{
  GST_OBJECT_LOCK (self);
  std::string path = neuro::model_file (self->model, shipped_file (self->modality));
  GST_OBJECT_UNLOCK (self);
  return path;
}

static std::string
id_from_path (const std::string & path)
{
  gchar *base = g_path_get_basename (path.c_str ());
  std::string id = base;
  g_free (base);
  const std::string ext = ".safetensors";
  if (id.size () > ext.size () && id.compare (id.size () - ext.size (), ext.size (), ext) == 0)
    id.resize (id.size () - ext.size ());
  return id;
}

static std::string
streaming_problem (const neuro::ModelInfo & info)
{
  const std::string problem = info.geometry.with_channels (1).check ();
  return problem.empty ()? "" : "window geometry unusable for streaming: " + problem;
}

/* Loads the file the properties name unless it is the one loaded. */
static gboolean
refresh_model (GstTfmTokenize * self)
{
  TokenizeState & st = *self->state;
  const std::string path = model_path (self);
  const std::string hint = "Set model=<file.safetensors>, or modality= eeg|audio|haptic to use a shipped model "
      "from " + neuro::default_model_dir () + ".";
  const bool reloaded = !st.slot.model || st.slot.path != path;
  if (!st.slot.refresh (GST_ELEMENT (self), path, hint, streaming_problem))
    return FALSE;
  const neuro::ModelInfo & info = st.slot.model->info ();
  if (reloaded) {
    st.model_id = info.id.empty ()? id_from_path (path) : info.id;
    st.model_sha256 = neuro::file_sha256 (path);
  }
  const neuro::WindowGeometry & g = info.geometry;
  GST_INFO_OBJECT (self, "model %s (%s, %s, %d Hz, n-fft %d, hop %d, bins %d, window %d samples, "
      "vocabulary %d)", path.c_str (), st.model_id.c_str (), info.modality.c_str (), g.rate,
      g.n_fft, g.hop, g.bins, g.window_samples, info.vocabulary);
  return TRUE;
}

/* ---- window stride and emit -------------------------------------------- */

/* Checks window-stride and emit against the loaded model and fixes them in
 * the state until the next READY; empty when they fit, else the sentence
 * for the error. */
static std::string
resolve_settings (GstTfmTokenize * self)
{
  TokenizeState & st = *self->state;
  GST_OBJECT_LOCK (self);
  const gint stride = self->window_stride;
  const GstTfmTokenizeEmit emit = self->emit;
  GST_OBJECT_UNLOCK (self);
  const neuro::WindowGeometry g = st.slot.model->info ().geometry.with_channels (1);
  const int K = stride > 0 ? stride : g.frames_per_stride ();
  const int T = g.frames_per_window ();
  const std::string model = "model \"" + st.slot.path + "\": ";
  std::string problem = neuro::check_window_stride (g, K);
  if (!problem.empty ())
    return model + problem;
  if (emit == GST_TFM_TOKENIZE_EMIT_NEWEST && K > T)
    return model + "emit=newest needs window-stride <= " + std::to_string (T) + " (the token frames of a "
        "window) so that every frame gets a token, but window-stride is " + std::to_string (K) +
        (stride == 0 ? " (the default: windows back to back)" : "") + ". Set window-stride=1 for a token "
        "every hop, or use emit=window";
  st.window_stride = K;
  st.emit = emit;
  return "";
}

static bool
overlapping_windows (const TokenizeState & st)
{
  const neuro::WindowGeometry g = st.slot.model->info ().geometry.with_channels (1);
  return st.window_stride > 0 && st.window_stride < g.frames_per_stride ();
}

/* ---- caps -------------------------------------------------------------- */

/* What the model needs on the sink pad. The window and scaling it was trained
 * with come from its metadata, defaulting to the authors' hann/magnitude. */
static neuro::SpectrogramInfo
model_spectrogram (const TokenizeState & st)
{
  const neuro::ModelInfo & info = st.slot.model->info ();
  auto meta = [&info] (const char *key, const char *fallback) {
    auto it = info.metadata.find (key);
    return it != info.metadata.end ()? it->second : std::string (fallback);
  };
  neuro::SpectrogramInfo s;
  s.rate = info.geometry.rate;
  s.n_fft = info.geometry.n_fft;
  s.hop = info.geometry.hop;
  s.bins = info.geometry.bins;
  s.window = meta ("window", "hann");
  s.scaling = meta ("scaling", "magnitude");
  s.waveform = true;
  return s;
}

/* Overlapping windows in emit=window repeat frames: the caps say how, so
 * downstream can tell window w's frames apart (buffer offset = w * T). */
static neuro::TokensInfo
model_tokens (const TokenizeState & st)
{
  const neuro::ModelInfo & info = st.slot.model->info ();
  neuro::TokensInfo t;
  t.modality = info.modality;
  t.vocabulary = info.vocabulary;
  t.codebooks = 1;
  t.fps_n = info.geometry.rate;
  t.fps_d = info.geometry.hop;
  t.model = st.model_id;
  t.model_sha256 = st.model_sha256;
  if (st.emit == GST_TFM_TOKENIZE_EMIT_WINDOW && overlapping_windows (st)) {
    t.window_frames = info.geometry.frames_per_window ();
    t.window_stride = st.window_stride;
  }
  return t;
}

static void
copy_channels (GstStructure * to, const GstStructure * from)
{
  const GValue *v = from ? gst_structure_get_value (from, "channels") : NULL;
  if (v)
    gst_structure_set_value (to, "channels", v);
  else
    gst_structure_set (to, "channels", GST_TYPE_INT_RANGE, 1, G_MAXINT, NULL);
}

/* Before the model is loaded (NULL state) the pads offer their templates;
 * afterwards exactly what the model takes and gives, any channel count. */
static GstCaps *
gst_tfm_tokenize_transform_caps (GstBaseTransform * trans, GstPadDirection direction,
    GstCaps * caps, GstCaps * filter)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (trans);
  const TokenizeState & st = *self->state;
  GstCaps *res;
  if (!st.slot.model) {
    res = gst_pad_get_pad_template_caps (direction == GST_PAD_SINK ? trans->srcpad : trans->sinkpad);
  } else {
    res = gst_caps_new_empty ();
    const bool any = gst_caps_is_any (caps);
    for (guint i = 0; i < (any ? 1 : gst_caps_get_size (caps)); i++) {
      GstStructure *o = direction == GST_PAD_SINK ? model_tokens (st).to_structure () :
          model_spectrogram (st).to_structure ();
      copy_channels (o, any ? NULL : gst_caps_get_structure (caps, i));
      res = gst_caps_merge_structure (res, o);
    }
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (res);
    res = tmp;
  }
  GST_DEBUG_OBJECT (self, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

/* Empty when the spectrogram caps fit the model, else what the user should
 * change, in pipeline terms. */
static std::string
caps_mismatch (const TokenizeState & st, const GstStructure * s)
{
  const neuro::SpectrogramInfo want = model_spectrogram (st);
  const std::string model = "model \"" + st.slot.path + "\"";
  neuro::SpectrogramInfo have;
  if (!gst_structure_has_name (s, neuro::kSpectrogramMediaType))
    return std::string ("expected ") + neuro::kSpectrogramMediaType + ", got " + gst_structure_get_name (s) +
        "; put stft before tfmtokenize";
  const std::string problem = neuro::SpectrogramInfo::from_caps (s, have);
  if (!problem.empty ())
    return problem;
  if (have.rate != want.rate) {
    const std::string r = std::to_string (want.rate);
    return model + " needs " + r + " Hz input but the spectrogram is at " + std::to_string (have.rate) +
        " Hz. Resample before stft: set rate=" + r + " on eegsrc, or insert 'audioresample ! "
        "audio/x-raw,rate=" + r + "' before stft (fewer than 64 channels; GStreamer 1.22's "
        "audioresample refuses 64 or more)";
  }
  if (have.n_fft != want.n_fft || have.hop != want.hop || have.bins != want.bins)
    return model + " needs n-fft=" + std::to_string (want.n_fft) + " hop=" + std::to_string (want.hop) +
        " bins=" + std::to_string (want.bins) + " but the spectrogram has n-fft=" + std::to_string (have.n_fft) +
        " hop=" + std::to_string (have.hop) + " bins=" + std::to_string (have.bins) +
        ". Leave n-fft, hop and bins unset on stft (it takes them from tfmtokenize) or set these values";
  if (!have.waveform)
    return model + " needs the waveform but the spectrogram carries none; set waveform=true on stft "
        "(the tokenizer's temporal branch needs the raw samples)";
  if (have.scaling != want.scaling)
    return model + " was trained on scaling=" + want.scaling + " but the spectrogram has scaling=" +
        have.scaling + "; set scaling=" + want.scaling + " on stft or leave it unset";
  if (have.window != want.window)
    return model + " was trained on window=" + want.window + " but the spectrogram has window=" +
        have.window + "; set window=" + want.window + " on stft or leave it unset";
  return "";
}

/* Posts the actionable reason for a rejected caps event once per run, so the
 * application gets it instead of a bare not-negotiated. */
static gboolean
gst_tfm_tokenize_accept_caps (GstBaseTransform * trans, GstPadDirection direction, GstCaps * caps)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (trans);
  TokenizeState & st = *self->state;
  if (direction != GST_PAD_SINK || !st.slot.model || gst_caps_get_size (caps) != 1)
    return GST_BASE_TRANSFORM_CLASS (gst_tfm_tokenize_parent_class)->accept_caps (trans, direction, caps);

  const std::string problem = caps_mismatch (st, gst_caps_get_structure (caps, 0));
  if (problem.empty ())
    return TRUE;
  GST_WARNING_OBJECT (self, "refusing %" GST_PTR_FORMAT ": %s", caps, problem.c_str ());
  if (!st.negotiation_error_posted) {
    st.negotiation_error_posted = true;
    gchar *str = gst_caps_to_string (caps);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("tfmtokenize: %s.", problem.c_str ()),
        ("offered caps: %s", str));
    g_free (str);
  }
  return FALSE;
}

static GstTfmTokenizeNormalize
normalize_setting (GstTfmTokenize * self)
{
  GST_OBJECT_LOCK (self);
  const GstTfmTokenizeNormalize n = self->normalize;
  GST_OBJECT_UNLOCK (self);
  return n;
}

static void
reset_stream (TokenizeState & st)
{
  if (st.cutter)
    st.cutter->reset ();
  if (st.sharing)
    st.sharing->reset ();
  st.base_pts = GST_CLOCK_TIME_NONE;
  st.discont = true;
  st.ready.clear ();
  st.next_frame = 0;
  st.non_finite.assign (st.channels, 0);
  st.upstream_known = false;
}

static gboolean
gst_tfm_tokenize_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (trans);
  TokenizeState & st = *self->state;
  const GstStructure *s = gst_caps_get_structure (incaps, 0);
  if (!st.slot.model || !caps_mismatch (st, s).empty ())
    return FALSE;
  gst_structure_get_int (s, "rate", &st.rate);
  gst_structure_get_int (s, "channels", &st.channels);
  const neuro::WindowNormalize normalize = normalize_setting (self) == GST_TFM_TOKENIZE_NORMALIZE_Q95 ?
      neuro::WindowNormalize::Q95 : neuro::WindowNormalize::None;
  st.cutter = std::make_unique<neuro::WindowCutter> (st.slot.model->info ().geometry.with_channels (st.channels),
      normalize, st.window_stride);
  /* Without a per-window divisor a frame's spectrum is the same in every
   * window holding it, so its frequency branch is computed once. */
  const bool share = normalize == neuro::WindowNormalize::None &&
      st.window_stride < st.cutter->geometry ().frames_per_window ();
  st.sharing.reset (share ? new neuro::FrameSharingTokenizer (*st.slot.model, st.channels) : nullptr);
  reset_stream (st);
  GST_INFO_OBJECT (self, "%d channels, %d frames per window, a window every %d frames (%s%s); out %"
      GST_PTR_FORMAT, st.channels, st.cutter->geometry ().frames_per_window (), st.window_stride,
      st.emit == GST_TFM_TOKENIZE_EMIT_NEWEST ? "newest frames" : "whole windows",
      share ? ", frequency branch shared" : "", outcaps);
  return TRUE;
}

/* ---- data -------------------------------------------------------------- */

/* Restarts the window grid when upstream says so (DISCONT) or when the PTS
 * disagrees with the frame counter by more than half a frame (lost data). */
static void
track_continuity (GstTfmTokenize * self, GstBuffer * in)
{
  TokenizeState & st = *self->state;
  const GstClockTime pts = GST_BUFFER_PTS (in);
  const bool is_discont = GST_BUFFER_IS_DISCONT (in);
  if (!is_discont && GST_CLOCK_TIME_IS_VALID (st.base_pts) && GST_CLOCK_TIME_IS_VALID (pts)) {
    const GstClockTime expected = st.base_pts + frame_time (st, st.cutter->frames_received ());
    if (neuro::continues_run (expected, pts, frame_time (st, 1)))
      return;
    GST_WARNING_OBJECT (self, "PTS %" GST_TIME_FORMAT " but frame counter says %" GST_TIME_FORMAT
        ": restarting windows", GST_TIME_ARGS (pts), GST_TIME_ARGS (expected));
  } else if (!is_discont && GST_CLOCK_TIME_IS_VALID (st.base_pts)) {
    return;
  }
  if (st.cutter->pending_frames () > 0)
    GST_INFO_OBJECT (self, "discontinuity: dropping %d frames of an unfinished window",
        st.cutter->pending_frames ());
  reset_stream (st);
  st.base_pts = GST_CLOCK_TIME_IS_VALID (pts) ? pts : 0;
}

static GstFlowReturn
gst_tfm_tokenize_submit_input_buffer (GstBaseTransform * trans, gboolean is_discont, GstBuffer * input)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (trans);
  TokenizeState & st = *self->state;
  /* The parent renegotiates if needed and queues the buffer; take it back. */
  GstFlowReturn ret = GST_BASE_TRANSFORM_CLASS (gst_tfm_tokenize_parent_class)->submit_input_buffer (trans,
      is_discont, input);
  if (ret != GST_FLOW_OK || !trans->queued_buf)
    return ret;
  GstBuffer *in = trans->queued_buf;
  trans->queued_buf = NULL;
  if (!st.cutter) {
    gst_buffer_unref (in);
    return GST_FLOW_NOT_NEGOTIATED;
  }

  const size_t frame_bytes = st.cutter->geometry ().frame_floats () * sizeof (float);
  GstMapInfo map;
  if (!gst_buffer_map (in, &map, GST_MAP_READ)) {
    gst_buffer_unref (in);
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not map an input buffer."), (NULL));
    return GST_FLOW_ERROR;
  }
  if (map.size % frame_bytes != 0) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Spectrogram buffer of %" G_GSIZE_FORMAT " bytes is not a whole number of %" G_GSIZE_FORMAT
            "-byte frames (%d channels x (%d bins + %d waveform samples) float32).", map.size, frame_bytes,
            st.channels, st.cutter->geometry ().bins, st.cutter->geometry ().n_fft), (NULL));
    gst_buffer_unmap (in, &map);
    gst_buffer_unref (in);
    return GST_FLOW_ERROR;
  }
  /* Not the is_discont argument: the base class keeps it set until an output
   * buffer leaves, i.e. for a whole window. */
  track_continuity (self, in);
  std::vector<neuro::TokenizerWindow> done;
  /* Late windows are dropped before they are laid out: catching up after a
   * slow forward pass costs little. Skipped ones were complete all the same. */
  st.cutter->push (reinterpret_cast<const float *> (map.data), map.size / frame_bytes, done,
      [self, &st] (guint64 index, guint64 first_frame) {
        const bool skip = skip_if_late (self, index, first_frame);
        st.windows_out += skip;
        return skip;
      });
  st.frames_in += map.size / frame_bytes;
  st.windows_out += done.size ();
  for (auto & w : done)
    st.ready.push_back (std::move (w));
  gst_buffer_unmap (in, &map);
  gst_buffer_unref (in);
  return GST_FLOW_OK;
}

/* One window per call; a window can fall behind while the ones before it
 * of the same input buffer are tokenized, so lateness is checked again. */
static GstFlowReturn
gst_tfm_tokenize_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (trans);
  TokenizeState & st = *self->state;
  *outbuf = NULL;
  while (!st.ready.empty ()) {
    const neuro::TokenizerWindow w = std::move (st.ready.front ());
    st.ready.pop_front ();
    if (!skip_if_late (self, w.index, w.first_frame))
      return tokenize_window (self, w, outbuf);
  }
  return GST_FLOW_OK;
}

/* ---- events and queries ------------------------------------------------ */

/* Tokens need a whole window: a stream that ends before its first one would
 * otherwise give an empty result and no word about it. */
static void
warn_no_window (GstTfmTokenize * self, const TokenizeState & st)
{
  const neuro::WindowGeometry & g = st.cutter->geometry ();
  const double got = st.frames_in ? ((st.frames_in - 1) * (double) g.hop + g.n_fft) / st.rate : 0.0;
  GST_ELEMENT_WARNING (self, STREAM, FAILED,
      ("The stream ended after %.2f s of signal, before the first %.2f s tokenizer window: no tokens",
          got, (double) g.window_samples / st.rate),
      ("%" G_GUINT64_FORMAT " spectrogram frames received, a window needs %d; tokens depend on "
          "the whole window, so a partial one is never padded (docs/formats.md)",
          st.frames_in, g.frames_per_window ()));
}

static gboolean
gst_tfm_tokenize_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (trans);
  TokenizeState & st = *self->state;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
    case GST_EVENT_FLUSH_STOP:
      reset_stream (st);
      st.frames_in = st.windows_out = 0;
      break;
    case GST_EVENT_EOS:
      if (st.cutter && st.windows_out == 0)
        warn_no_window (self, st);
      else if (st.cutter && st.cutter->pending_frames () > 0)
        GST_INFO_OBJECT (self, "EOS: dropping %d frames of an unfinished window (%d needed)",
            st.cutter->pending_frames (), st.cutter->geometry ().frames_per_window ());
      reset_stream (st);
      st.frames_in = st.windows_out = 0;
      break;
    case GST_EVENT_TAG:{
      GstTagList *tags;
      gst_event_parse_tag (event, &tags);
      if (gst_tag_list_get_scope (tags) == GST_TAG_SCOPE_STREAM && st.slot.model) {
        st.tags_seen = true;
        st.channel_names = neuro::tag_list_get_strings (tags, NEURO_TAG_CHANNEL_NAMES);
        GstEvent *with_modality = tags_with_modality (self, tags);
        if (with_modality) {
          gst_event_unref (event);
          event = with_modality;
        }
      }
      break;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_tfm_tokenize_parent_class)->sink_event (trans, event);
}

static gboolean
gst_tfm_tokenize_query (GstBaseTransform * trans, GstPadDirection direction, GstQuery * query)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (trans);
  TokenizeState & st = *self->state;
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY || !st.cutter)
    return GST_BASE_TRANSFORM_CLASS (gst_tfm_tokenize_parent_class)->query (trans, direction, query);
  if (!GST_BASE_TRANSFORM_CLASS (gst_tfm_tokenize_parent_class)->query (trans, direction, query))
    return FALSE;

  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  /* Output PTS is the buffer's first frame; it leaves with the window's
   * last: T - 1 frames later for a whole window, K - 1 for the newest K. */
  const int waited = st.emit == GST_TFM_TOKENIZE_EMIT_WINDOW ? st.cutter->geometry ().frames_per_window () - 1 :
      st.window_stride - 1;
  GST_OBJECT_LOCK (self);
  const GstClockTime ours = frame_time (st, waited) + st.processing;
  GST_OBJECT_UNLOCK (self);
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += ours;
  gst_query_set_latency (query, live, min, max);
  GST_DEBUG_OBJECT (self, "latency min %" GST_TIME_FORMAT " (ours %" GST_TIME_FORMAT ")", GST_TIME_ARGS (min),
      GST_TIME_ARGS (ours));
  return TRUE;
}

/* ---- state ------------------------------------------------------------- */

static GstStateChangeReturn
gst_tfm_tokenize_change_state (GstElement * element, GstStateChange transition)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (element);
  TokenizeState & st = *self->state;
  if (transition == GST_STATE_CHANGE_NULL_TO_READY || transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    st.negotiation_error_posted = false;
    if (!refresh_model (self))
      return GST_STATE_CHANGE_FAILURE;
    const std::string problem = resolve_settings (self);
    if (!problem.empty ()) {
      GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("tfmtokenize: %s.", problem.c_str ()), (NULL));
      if (transition == GST_STATE_CHANGE_NULL_TO_READY)
        st.slot.drop ();
      return GST_STATE_CHANGE_FAILURE;
    }
  }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    GST_OBJECT_LOCK (self);
    st.skipped = 0;
    GST_OBJECT_UNLOCK (self);
    st.processed = 0;
    st.overload_warned = false;
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS (gst_tfm_tokenize_parent_class)->change_state (element,
      transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    st.sharing.reset ();
    st.cutter.reset ();
    st.tags_seen = false;
    st.channel_names.clear ();
    st.negotiation_error_posted = false;
    reset_stream (st);
  } else if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    st.slot.drop ();
    st.processing = 0;
  }
  return ret;
}

/* ---- properties -------------------------------------------------------- */

static void
gst_tfm_tokenize_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (object);
  switch (prop_id) {
    case PROP_MODEL:
      if (!neuro::model_property_settable (GST_ELEMENT (self), pspec))
        break;
      GST_OBJECT_LOCK (self);
      g_free (self->model);
      self->model = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MODALITY:
      if (!neuro::model_property_settable (GST_ELEMENT (self), pspec))
        break;
      GST_OBJECT_LOCK (self);
      self->modality = (GstTfmTokenizeModality) g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_NORMALIZE:
      GST_OBJECT_LOCK (self);
      self->normalize = (GstTfmTokenizeNormalize) g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_THREADS:
      GST_OBJECT_LOCK (self);
      self->threads = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WINDOW_STRIDE:
      GST_OBJECT_LOCK (self);
      self->window_stride = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_EMIT:
      GST_OBJECT_LOCK (self);
      self->emit = (GstTfmTokenizeEmit) g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_tfm_tokenize_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, neuro::model_file (self->model, shipped_file (self->modality)).c_str ());
      break;
    case PROP_MODALITY:
      g_value_set_enum (value, self->modality);
      break;
    case PROP_NORMALIZE:
      g_value_set_enum (value, self->normalize);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_WINDOW_STRIDE:
      g_value_set_int (value, self->window_stride);
      break;
    case PROP_EMIT:
      g_value_set_enum (value, self->emit);
      break;
    case PROP_SKIPPED_WINDOWS:
      g_value_set_uint64 (value, self->state->skipped);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_tfm_tokenize_finalize (GObject * object)
{
  GstTfmTokenize *self = GST_TFM_TOKENIZE (object);
  g_free (self->model);
  delete self->state;
  G_OBJECT_CLASS (gst_tfm_tokenize_parent_class)->finalize (object);
}

static void
gst_tfm_tokenize_class_init (GstTfmTokenizeClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_tfm_tokenize_set_property;
  gobject_class->get_property = gst_tfm_tokenize_get_property;
  gobject_class->finalize = gst_tfm_tokenize_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Path of the tokenizer weights (.safetensors; the file's metadata gives rate, n-fft, hop, bins, "
          "window length in samples and vocabulary). NULL or empty: the shipped model of 'modality' (what "
          "reading the property gives). Loaded at NULL->READY; a change in READY is loaded at READY->PAUSED",
          neuro::model_file (NULL, shipped_file (DEFAULT_MODALITY)).c_str (),
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_MODALITY,
      g_param_spec_enum ("modality", "Modality",
          "Shipped model to load when 'model' is unset: <model dir>/tfm-tokenizer-<modality>.safetensors "
          "(model dir: $NEUROTOKENS_MODEL_DIR, else the installed models). Changeable in NULL and READY, "
          "as 'model'", gst_tfm_tokenize_modality_get_type (), DEFAULT_MODALITY,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_NORMALIZE,
      g_param_spec_enum ("normalize", "Normalize",
          "Per-window, per-channel amplitude normalisation before tokenizing (dimensionless divisor); "
          "applied from the next caps",
          gst_tfm_tokenize_normalize_get_type (), DEFAULT_NORMALIZE,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "LibTorch intra-op threads (count) used by the streaming thread for the forward pass; "
          "0 = one per CPU core", 0, 1024, DEFAULT_THREADS,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_WINDOW_STRIDE,
      g_param_spec_int ("window-stride", "Window stride",
          "Token frames (hops) between the starts of consecutive windows, 1..S with S = window length / hop "
          "(20 for 10 s windows at hop 0.5 s); 0 = S, windows back to back as the reference. Below S windows "
          "overlap: one every window-stride hops, each normalised and tokenized on its own, at about "
          "S/window-stride times the cost. Applied from READY; values outside 1..S fail the state change",
          0, G_MAXINT, DEFAULT_WINDOW_STRIDE,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_EMIT,
      g_param_spec_enum ("emit", "Emit",
          "What leaves per window: 'window', all its T token frames (overlapping windows add window-frames "
          "and window-stride to the caps); 'newest', a continuous stream with one token per frame, the "
          "first window's T frames then the newest window-stride frames of each later window (needs "
          "window-stride <= T). Applied from READY",
          gst_tfm_tokenize_emit_get_type (), DEFAULT_EMIT,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_SKIPPED_WINDOWS,
      g_param_spec_uint64 ("skipped-windows", "Skipped windows",
          "Windows (count) not tokenized since READY->PAUSED because a live stream had already delivered "
          "the next one: the forward pass could not keep up", 0, G_MAXUINT64, 0,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  GstCaps *spectrogram = neuro::spectrogram_template_caps (), *tokens = neuro::tokens_template_caps ();
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, spectrogram));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, tokens));
  gst_caps_unref (spectrogram);
  gst_caps_unref (tokens);
  gst_element_class_set_static_metadata (element_class, "TFM-Tokenizer", "Filter/Converter",
      "Tokenizes windows of an application/x-spectrogram stream (with waveform) into TFM-Tokenizer "
      "tokens, back to back as the reference or overlapping (window-stride): one buffer per window of T "
      "token frames x channels uint32 LE, or a continuous stream of the newest frames (emit=newest); "
      "PTS of the buffer's first frame, frame i at PTS + i*hop/rate; an unfinished window at EOS gives no "
      "tokens; a channel with NaN or infinite input in a window gets no token (0xFFFFFFFF) there. Posts no messages besides errors, warnings, latency and QoS", "neurotokens developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_change_state);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_transform_caps);
  trans_class->accept_caps = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_accept_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_set_caps);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_tfm_tokenize_query);

  gst_type_mark_as_plugin_api (gst_tfm_tokenize_modality_get_type (), (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (gst_tfm_tokenize_normalize_get_type (), (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (gst_tfm_tokenize_emit_get_type (), (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_tfm_tokenize_debug, "tfmtokenize", 0, "TFM-Tokenizer element");
}

static void
gst_tfm_tokenize_init (GstTfmTokenize * self)
{
  self->model = g_strdup (DEFAULT_MODEL);
  self->modality = DEFAULT_MODALITY;
  self->normalize = DEFAULT_NORMALIZE;
  self->threads = DEFAULT_THREADS;
  self->window_stride = DEFAULT_WINDOW_STRIDE;
  self->emit = DEFAULT_EMIT;
  self->state = new TokenizeState ();
}
