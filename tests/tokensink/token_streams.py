# SPDX-License-Identifier: LGPL-2.1-or-later
"""Token streams fed into tokensink through appsrc, for the tests and the
documentation's example recording (run with /usr/bin/python3).

A Source produces application/x-tokens frames whose values are a function of
(stream, frame, channel), so a test can check every recorded token. Live
sources push each buffer once its last frame has "happened" on the pipeline
clock, with the PTS of its first frame, like a capture device; they report
that buffer duration as their latency."""
import atexit
import shutil
import tempfile
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402

Gst.init(None)
NONE = Gst.CLOCK_TIME_NONE


def temp_dir(prefix):
    """A fresh folder, removed with its contents when the process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path


class Source:
    def __init__(self, modality, fps, channels=1, frames_per_buffer=1, codebooks=1,
                 vocabulary=8192, names=None, units=None, model=None):
        self.modality = modality
        self.fps = fps
        self.channels = channels
        self.frames_per_buffer = frames_per_buffer
        self.codebooks = codebooks
        self.vocabulary = vocabulary
        self.names = names
        self.units = units
        self.model = model or f"synthetic-{modality}"
        self.appsrc = None
        self.stream = None

    @property
    def buffer_ns(self):
        return self.frames_per_buffer * Gst.SECOND // self.fps

    def caps(self):
        return Gst.Caps.from_string(
            f"application/x-tokens,modality=(string){self.modality},channels=(int){self.channels},"
            f"vocabulary=(int){self.vocabulary},codebooks=(int){self.codebooks},"
            f"framerate=(fraction){self.fps}/1,model=(string){self.model}")

    def token(self, frame, channel, book=0):
        """Deterministic token value within the vocabulary, scattered like real codes."""
        key = self.stream * 1009 + frame * 7919 + channel * 131 + book * 17
        return ((key * 2654435761) >> 7) % self.vocabulary

    def frame_pts(self, frame):
        return frame * Gst.SECOND // self.fps

    def buffer(self, first_frame):
        values = bytearray()
        for f in range(first_frame, first_frame + self.frames_per_buffer):
            for c in range(self.channels):
                for b in range(self.codebooks):
                    values += self.token(f, c, b).to_bytes(4, "little")
        buf = Gst.Buffer.new_wrapped(bytes(values))
        buf.pts = self.frame_pts(first_frame)
        buf.duration = self.frame_pts(first_frame + self.frames_per_buffer) - buf.pts
        return buf

    def tag_event(self):
        tags = Gst.TagList.new_empty()
        tags.set_scope(Gst.TagScope.STREAM)
        for tag, value in (("neuro-modality", self.modality),
                           ("neuro-channel-names", ",".join(self.names or [])),
                           ("neuro-channel-units", ",".join(self.units or []))):
            if value:
                # the plugin registered these custom tags when it was loaded
                tags.add_value(Gst.TagMergeMode.REPLACE, tag, GObject.Value(GObject.TYPE_STRING, value))
        return Gst.Event.new_tag(tags)


def annotation_event(pts_ns, text, duration_ns=NONE):
    s = Gst.Structure.new_empty("neuro-annotation")
    s.set_value("pts", GObject.Value(GObject.TYPE_UINT64, pts_ns))
    s.set_value("duration", GObject.Value(GObject.TYPE_UINT64, duration_ns))
    s.set_value("text", text)
    return Gst.Event.new_custom(Gst.EventType.CUSTOM_DOWNSTREAM, s)


def classification_event(pts_ns, duration_ns, labels, probabilities):
    s = Gst.Structure.new_empty("lbm-classification")
    best = max(range(len(labels)), key=lambda i: probabilities[i])
    s.set_value("timestamp", GObject.Value(GObject.TYPE_UINT64, pts_ns))
    s.set_value("duration", GObject.Value(GObject.TYPE_UINT64, duration_ns))
    s.set_value("class", GObject.Value(GObject.TYPE_INT, best))
    s.set_value("label", labels[best])
    s.set_value("labels", ",".join(labels))
    s.set_value("probabilities", Gst.ValueArray([float(p) for p in probabilities]))
    return Gst.Event.new_custom(Gst.EventType.CUSTOM_DOWNSTREAM, s)


def order_key(r):
    """The running time that places a tokens or gap record in its stream
    (docs/tokensink.md, "Order"); None for other records."""
    if r["type"] == "gap" and r["cause"] == "silence":
        return r["pts"] + r["duration"]
    if r["type"] in ("tokens", "gap"):
        return r["pts"]
    return None


def check_file_order(records):
    """Asserts the documented order of a JSON Lines recording: each stream's
    tokens and gaps by their placing time, and across streams by availability
    (placing time plus the stream's latency from its stream record)."""
    latency, last_key, last_available = {}, {}, 0
    for i, r in enumerate(records):
        if r["type"] == "stream":
            latency[r["stream"]] = r["latency"]
        key = order_key(r)
        if key is None:
            continue
        s = r["stream"]
        assert key >= last_key.get(s, 0), f"line {i + 1}: stream {s} out of running-time order"
        available = key + latency[s]
        assert available >= last_available, f"line {i + 1}: out of availability order"
        last_key[s], last_available = key, available


def build(location, sources, live, **sink_props):
    """appsrc ! tokensink for every source; returns the pipeline."""
    pipeline = Gst.Pipeline.new("recorder")
    sink = Gst.ElementFactory.make("tokensink", "rec")
    if sink is None:
        raise RuntimeError("tokensink not found: is GST_PLUGIN_PATH set?")
    sink.set_property("location", location)
    for key, value in sink_props.items():
        sink.set_property(key.replace("_", "-"), value)
    pipeline.add(sink)
    for i, src in enumerate(sources):
        src.stream = i
        src.appsrc = Gst.ElementFactory.make("appsrc", f"src{i}")
        src.appsrc.set_property("caps", src.caps())
        src.appsrc.set_property("format", Gst.Format.TIME)
        src.appsrc.set_property("is-live", live)
        if live:
            src.appsrc.set_property("min-latency", src.buffer_ns)
        else:
            src.appsrc.set_property("block", True)
            src.appsrc.set_property("max-buffers", 4)
        pipeline.add(src.appsrc)
        src.appsrc.get_static_pad("src").link(sink.request_pad_simple(f"sink_{i}"))
    return pipeline


def send_tags(sources):
    for src in sources:
        if src.names or src.units:
            src.appsrc.send_event(src.tag_event())


def push_offline(src, n_buffers, events=()):
    """Pushes n_buffers; events is a list of (before_buffer_index, event)."""
    pending = sorted(events, key=lambda e: e[0])
    for b in range(n_buffers):
        while pending and pending[0][0] <= b:
            src.appsrc.send_event(pending.pop(0)[1])
        src.appsrc.emit("push-buffer", src.buffer(b * src.frames_per_buffer))
    for _, event in pending:
        src.appsrc.send_event(event)
    src.appsrc.emit("end-of-stream")


def running_time(pipeline):
    clock = pipeline.get_clock()
    return clock.get_time() - pipeline.get_base_time()


def push_live(pipeline, src, stop_after_ns, stop_event, send_eos=True, events=(), delay_ns=0):
    """Pushes buffers in real time until stop_after_ns of running time (or
    stop_event), then EOS unless send_eos is False (a device that just stops).
    events lists (before_buffer_index, event); each buffer leaves delay_ns
    after its last frame (processing time of a real producer)."""
    pending = sorted(events, key=lambda e: e[0])
    first = 0
    while not stop_event.is_set():
        while pending and pending[0][0] <= first // src.frames_per_buffer:
            src.appsrc.send_event(pending.pop(0)[1])
        buf = src.buffer(first)
        end = buf.pts + buf.duration + delay_ns
        if buf.pts >= stop_after_ns:
            break
        while running_time(pipeline) < end and not stop_event.is_set():
            time.sleep(min(0.005, max(0.0, (end - running_time(pipeline)) / 1e9)))
        src.appsrc.emit("push-buffer", buf)
        first += src.frames_per_buffer
    if send_eos:
        src.appsrc.emit("end-of-stream")


def start_live(pipeline, sources, plans, events=None, delays=None):
    """plans[i] = (stop_after_ns, send_eos); events[i] and delays[i] as for
    push_live. Returns (threads, stop_event)."""
    delays = delays or [0] * len(sources)
    events = events or [()] * len(sources)
    pipeline.set_state(Gst.State.PLAYING)
    pipeline.get_state(5 * Gst.SECOND)
    while pipeline.get_clock() is None:
        time.sleep(0.01)
    send_tags(sources)
    stop = threading.Event()
    threads = [threading.Thread(target=push_live, args=(pipeline, s, p[0], stop, p[1], e, d),
                                daemon=True)
               for s, p, e, d in zip(sources, plans, events, delays)]
    for t in threads:
        t.start()
    return threads, stop


def wait_eos(pipeline, timeout_s=30):
    bus = pipeline.get_bus()
    msg = bus.timed_pop_filtered(int(timeout_s * Gst.SECOND),
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if msg is None:
        raise RuntimeError("no EOS from the recorder")
    if msg.type == Gst.MessageType.ERROR:
        err, debug = msg.parse_error()
        raise RuntimeError(f"recorder error: {err.message} ({debug})")


def record_offline(location, sources, n_buffers, events=None, **sink_props):
    """Records n_buffers[i] buffers of every source (non-live, as fast as the
    recorder takes them); events[i] lists (before_buffer_index, event)."""
    events = events or [()] * len(sources)
    pipeline = build(location, sources, live=False, **sink_props)
    pipeline.set_state(Gst.State.PLAYING)
    send_tags(sources)
    threads = [threading.Thread(target=push_offline, args=(s, n, e), daemon=True)
               for s, n, e in zip(sources, n_buffers, events)]
    for t in threads:
        t.start()
    try:
        wait_eos(pipeline)
    finally:
        pipeline.set_state(Gst.State.NULL)
    for t in threads:
        t.join()
