// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: the spectrogram and token caps parsers of lib/format
 * (SpectrogramInfo / TokensInfo ::from_caps), fed with caps strings as they
 * arrive from a peer (gst_caps_from_string, e.g. over RTP or GDP).
 *
 * Invariants checked beyond "no crash, no sanitizer report, no huge
 * allocation": a refusal is a valid UTF-8 sentence; accepted caps survive
 * to_structure () and from_caps () again unchanged; the project's code raises
 * no GLib critical or warning (a misuse of GStreamer's API, such as a
 * framerate over zero). */
#include <gst/gst.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "media.h"
#include "utf8.h"

namespace {

/* Set while the project's code runs. The criticals that gst_caps_from_string ()
 * itself raises on hostile text are GStreamer's and are dropped (printing
 * each one also took most of the time of such inputs). */
bool in_project_code = false;

void
on_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer)
{
  if (in_project_code && (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))) {
    std::fprintf (stderr, "%s critical or warning from the project's code: %s\n", domain ? domain : "",
        message);
    std::abort ();
  }
}

bool
init ()
{
  gst_init (NULL, NULL);
  g_log_set_default_handler (on_log, NULL);
  return true;
}

void
require (bool ok, const char *what, const std::string &detail)
{
  if (!ok) {
    std::fprintf (stderr, "%s: %s\n", what, detail.c_str ());
    std::abort ();
  }
}

template <typename Info, typename Same>
void
check_type (const GstStructure *s, Same same)
{
  Info info;
  const std::string refusal = Info::from_caps (s, info);
  require (neuro::valid_utf8 (refusal) == refusal, "refusal is not valid UTF-8", refusal);
  if (!refusal.empty ())
    return;
  GstStructure *again_s = info.to_structure ();
  Info again;
  if (!gst_structure_has_field (again_s, "channels"))
    gst_structure_set (again_s, "channels", G_TYPE_INT, info.channels, NULL);
  const std::string second = Info::from_caps (again_s, again);
  gst_structure_free (again_s);
  require (second.empty (), "to_structure () output refused", second);
  require (same (info, again), "round trip changed the caps", "");
}

}  // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const bool initialised = init ();
  (void) initialised;
  /* GStreamer's caps parser backtracks exponentially on runs of unclosed '['
   * (7 s for a 1.4 kB input, over a minute for 1.7 kB) and recurses once per
   * nesting level of ranges, lists and arrays (a stack overflow inside
   * gst_caps_from_string () after a long campaign), all in GStreamer's code:
   * such inputs are skipped so that the time goes to the project's parsers.
   * Our caps need at most a few of these brackets. */
  const auto opening = [] (uint8_t c) { return c == '[' || c == '{' || c == '<'; };
  if (std::count_if (data, data + size, opening) > 16)
    return 0;
  const std::string text (reinterpret_cast<const char *> (data), size);
  GstCaps *caps = gst_caps_from_string (text.c_str ());
  if (!caps)
    return 0;
  in_project_code = true;
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    check_type<neuro::SpectrogramInfo> (s, [] (const neuro::SpectrogramInfo &a,
        const neuro::SpectrogramInfo &b) {
      return a.rate == b.rate && a.channels == b.channels && a.n_fft == b.n_fft && a.hop == b.hop &&
          a.bins == b.bins && a.window == b.window && a.scaling == b.scaling && a.waveform == b.waveform;
    });
    check_type<neuro::TokensInfo> (s, [] (const neuro::TokensInfo &a, const neuro::TokensInfo &b) {
      return a.channels == b.channels && a.vocabulary == b.vocabulary && a.codebooks == b.codebooks &&
          a.fps_n == b.fps_n && a.fps_d == b.fps_d && a.modality == b.modality && a.model == b.model;
    });
  }
  in_project_code = false;
  gst_caps_unref (caps);
  return 0;
}
