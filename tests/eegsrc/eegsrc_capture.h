// SPDX-License-Identifier: LGPL-2.1-or-later
/* Runs a launch line ending in "fakesink name=sink" and records, in order,
 * what reaches the sink: buffers (with their samples), tags and annotation
 * events; plus the bus's annotation messages and the first error. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "events.h"
#include "tags.h"

namespace eegtest {

struct Buffer
{
  GstClockTime pts, duration;
  guint64 offset, offset_end;
  std::vector<float> samples;  /* interleaved */
};

struct Capture
{
  GstCaps *caps = nullptr;
  std::vector<Buffer> buffers;
  std::vector<std::string> names, units, modality;
  /* annotation events and the index of the buffer that followed each */
  std::vector<neuro::Annotation> events;
  std::vector<size_t> event_next_buffer;
  std::vector<neuro::Annotation> messages;
  std::string error;
  int channels = 0, rate = 0;

  ~Capture () { gst_clear_caps (&caps); }
  size_t frames () const
  {
    size_t n = 0;
    for (const Buffer &b : buffers)
      n += b.samples.size () / channels;
    return n;
  }
  /* All samples of channel c, concatenated. */
  std::vector<float> channel (int c) const
  {
    std::vector<float> out;
    for (const Buffer &b : buffers)
      for (size_t i = c; i < b.samples.size (); i += channels)
        out.push_back (b.samples[i]);
    return out;
  }
};

static GstPadProbeReturn
capture_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Capture *cap = static_cast<Capture *> (user_data);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    Buffer b{GST_BUFFER_PTS (buf), GST_BUFFER_DURATION (buf), GST_BUFFER_OFFSET (buf),
      GST_BUFFER_OFFSET_END (buf), {}};
    b.samples.resize (gst_buffer_get_size (buf) / sizeof (float));
    gst_buffer_extract (buf, 0, b.samples.data (), gst_buffer_get_size (buf));
    cap->buffers.push_back (std::move (b));
    return GST_PAD_PROBE_OK;
  }
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  switch (GST_EVENT_TYPE (ev)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (ev, &caps);
      gst_caps_replace (&cap->caps, caps);
      GstStructure *s = gst_caps_get_structure (caps, 0);
      gst_structure_get_int (s, "channels", &cap->channels);
      gst_structure_get_int (s, "rate", &cap->rate);
      break;
    }
    case GST_EVENT_TAG:{
      GstTagList *tags;
      gst_event_parse_tag (ev, &tags);
      if (!neuro::tag_list_get_strings (tags, NEURO_TAG_CHANNEL_NAMES).empty ()) {
        cap->names = neuro::tag_list_get_strings (tags, NEURO_TAG_CHANNEL_NAMES);
        cap->units = neuro::tag_list_get_strings (tags, NEURO_TAG_CHANNEL_UNITS);
        cap->modality = neuro::tag_list_get_strings (tags, NEURO_TAG_MODALITY);
      }
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      cap->buffers.clear ();
      cap->events.clear ();
      cap->event_next_buffer.clear ();
      break;
    default:{
      neuro::Annotation a;
      if (neuro::annotation_from_structure (gst_event_get_structure (ev), a)) {
        cap->events.push_back (a);
        cap->event_next_buffer.push_back (cap->buffers.size ());
      }
      break;
    }
  }
  (void) pad;
  return GST_PAD_PROBE_OK;
}

/* Handles bus messages until EOS or error; true at EOS. */
static bool
wait_eos (GstElement * pipeline, Capture & cap)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  bool eos = false;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
        (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT));
    if (!msg)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      neuro::Annotation a;
      if (neuro::annotation_from_structure (gst_message_get_structure (msg), a))
        cap.messages.push_back (a);
      gst_message_unref (msg);
      continue;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      cap.error = err->message;
      g_error_free (err);
    } else {
      eos = true;
    }
    gst_message_unref (msg);
    break;
  }
  gst_object_unref (bus);
  return eos;
}

static GstElement *
make_pipeline (const std::string & desc, Capture & cap)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc.c_str (), &err);
  if (err)
    g_error ("cannot parse '%s': %s", desc.c_str (), err->message);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      capture_probe, &cap, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  return pipeline;
}

/* Runs the launch line to EOS (or error); returns true at EOS. */
static bool
run (const std::string & desc, Capture & cap)
{
  GstElement *pipeline = make_pipeline (desc, cap);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  const bool eos = wait_eos (pipeline, cap);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return eos;
}

}  // namespace eegtest
