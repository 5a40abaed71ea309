#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A live producer whose latency becomes known only once it has caps, and
which posts no latency message (as tfmtokenize, whose window depends on its
caps), must not be declared silent: tokensink asks for the latency again
when caps arrive.

Input 0 delivers every buffer 1.5 s after its last frame and answers latency
queries with 2 s only once its pad has caps; input 1 is prompt. No gap may be
recorded; the stream records state both latencies and the file is in the
documented order (each stream by running time, across streams by running
time plus latency)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_streams as ts  # noqa: E402

S = 1_000_000_000


def report_latency_once_configured(pad, info):
    query = info.get_query()
    if query.type == ts.Gst.QueryType.LATENCY and pad.get_current_caps() is not None:
        live, _, max_latency = query.parse_latency()
        query.set_latency(live, 2 * S, max_latency)
    return ts.Gst.PadProbeReturn.OK


def main():
    location = os.path.join(ts.temp_dir("tokensink-latency-"), "late.jsonl")
    slow = ts.Source("eeg", 2, channels=2)
    prompt = ts.Source("audio", 25, frames_per_buffer=5)
    pipeline = ts.build(location, [slow, prompt], live=True)
    slow.appsrc.set_property("min-latency", 0)
    slow.appsrc.get_static_pad("src").add_probe(
        ts.Gst.PadProbeType.QUERY_UPSTREAM | ts.Gst.PadProbeType.PULL,
        report_latency_once_configured)
    ts.start_live(pipeline, [slow, prompt], [(4 * S, True), (4 * S, True)],
                  delays=[3 * S // 2, 0])
    ts.wait_eos(pipeline, timeout_s=20)
    pipeline.set_state(ts.Gst.State.NULL)

    with open(location) as f:
        records = [json.loads(line) for line in f]
    gaps = [r for r in records if r["type"] == "gap"]
    assert not gaps, f"a slow but announced input was declared silent: {gaps}"
    tokens = [r for r in records if r["type"] == "tokens"]
    assert len(tokens) == 8 + 100, len(tokens)
    ts.check_file_order(records)
    latency = {r["stream"]: r["latency"] for r in records if r["type"] == "stream"}
    assert latency == {0: 2 * S, 1: prompt.buffer_ns}, latency
    print(f"{len(tokens)} token lines in order, no gap, with a 1.5 s late input")


if __name__ == "__main__":
    main()
