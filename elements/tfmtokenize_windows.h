// SPDX-License-Identifier: LGPL-2.1-or-later
/* Internal to tfmtokenize (not an element of its own): the element's state,
 * shared by gsttfmtokenize.cpp (GObject glue, caps, events, queries) and
 * tfmtokenize_windows.cpp, which handles each window the cutter completes:
 * in a live stream a late window is skipped (QoS message, one warning, the
 * skipped-windows count), otherwise it is tokenized (its forward-pass time
 * feeds the reported latency) and becomes a token buffer, the whole window
 * (emit=window) or only its new frames, with a GAP for skipped ones
 * (emit=newest). */
#pragma once

#include "gsttfmtokenize.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "frame_sharing.h"
#include "model_slot.h"
#include "tfm_models.h"
#include "tokenizer_window.h"

/* Everything that exists between NULL->READY and READY->NULL (the model) or
 * between caps and the next reset (cutter, timing). */
struct TokenizeState
{
  neuro::ModelSlot<neuro::Tokenizer> slot;
  std::string model_id;
  std::string model_sha256;     /* of the model file, for the caps: recordings name it */

  /* Window stride K (resolved: 1..S) and emit mode, fixed from READY to
   * the next READY (settings_problem() checked them). */
  int window_stride = 0;
  GstTfmTokenizeEmit emit = GST_TFM_TOKENIZE_EMIT_WINDOW;  /* DEFAULT_EMIT */

  /* Negotiated stream. */
  std::unique_ptr<neuro::WindowCutter> cutter;
  std::unique_ptr<neuro::FrameSharingTokenizer> sharing;  /* normalize=none with overlap */
  gint rate = 0;
  gint channels = 0;

  /* Timing of the current continuous run of frames. */
  GstClockTime base_pts = GST_CLOCK_TIME_NONE;
  bool discont = true;
  std::deque<neuro::TokenizerWindow> ready;
  guint64 next_frame = 0;  /* emit=newest: first frame not yet sent */

  /* Live overload handling: upstream latency learnt from the first window. */
  bool upstream_known = false;
  bool upstream_live = false;
  GstClockTime upstream_latency = 0;
  bool overload_warned = false;
  guint64 processed = 0;   /* windows tokenized since READY */
  guint64 skipped = 0;     /* windows skipped since READY (property, object lock) */

  /* Since the stream started: to say so when it ends before its first window. */
  guint64 frames_in = 0;
  guint64 windows_out = 0;

  neuro::ModelThreads threads;

  /* Non-finite input: per channel, whether its last window was not finite,
   * so a run of such windows gets one warning (cleared with the run). */
  std::vector<uint8_t> non_finite;
  std::vector<std::string> channel_names;  /* neuro-channel-names tag, for warnings */

  bool tags_seen = false;
  bool negotiation_error_posted = false;
  GstClockTime processing = 0;  /* largest forward pass so far, reported as latency */
};

struct _GstTfmTokenize
{
  GstBaseTransform parent;

  /* properties, under the object lock */
  gchar *model;
  GstTfmTokenizeModality modality;
  GstTfmTokenizeNormalize normalize;
  gint threads;
  gint window_stride;
  GstTfmTokenizeEmit emit;

  TokenizeState *state;
};

/* Running time of `frame` frames since the start of the current run. */
static inline GstClockTime
frame_time (const TokenizeState & st, guint64 frame)
{
  return gst_util_uint64_scale (frame * (guint64) st.cutter->geometry ().hop, GST_SECOND, st.rate);
}

/* In a live stream a window whose successor is already due is skipped (and
 * reported); true if so. */
bool skip_if_late (GstTfmTokenize * self, guint64 index, guint64 first_frame);

/* Tokenizes window w into *outbuf (pushing a GAP first when emit=newest
 * follows skipped windows). */
GstFlowReturn tokenize_window (GstTfmTokenize * self, const neuro::TokenizerWindow & w, GstBuffer ** outbuf);

/* A TAG event of tags plus the model's modality, or NULL if tags has one. */
GstEvent *tags_with_modality (GstTfmTokenize * self, GstTagList * tags);
