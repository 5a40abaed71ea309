#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Token stream sent over RTP/UDP on 127.0.0.1 to a second pipeline and recorded there.
#
#   pipelines/network-loopback.sh     (env: PORT, default 5004; SECONDS_OF_EEG, default 20)
#
# Receiver (started first; stock elements for the transport): udpsrc -> rtpjitterbuffer ->
# rtpgstdepay -> lbmclassify -> tokensink, writes received.jsonl. The RTP caps name only the
# X-GST payload: the token caps (application/x-tokens, framerate, vocabulary, model ...) and
# the stream tags (modality, channel names and units) travel in the stream itself, re-sent
# by rtpgstpay config-interval=1, so a receiver that joins late still gets them; lbmclassify
# picks O1 and O2 by the channel names that arrived as tags.
#
# Sender: live synthetic EEG (eegsrc is-live=true, real time) -> stft -> tfmtokenize, teed to a
# local lbmclassify -> tokensink (sent.jsonl) and to rtpgstpay -> udpsink. When the sender
# reaches EOS, the receiver gets SIGINT (gst-launch -e turns it into EOS): EOS does not
# cross RTP.
# Writes received.jsonl, sent.jsonl and the two logs into the current directory.
set -eu
PORT=${PORT:-5004}
SECONDS_OF_EEG=${SECONDS_OF_EEG:-20}
RTP_CAPS="application/x-rtp,media=application,clock-rate=90000,encoding-name=X-GST"

gst-launch-1.0 -e udpsrc address=127.0.0.1 port="$PORT" caps="$RTP_CAPS" \
  ! rtpjitterbuffer ! rtpgstdepay ! lbmclassify ! tokensink location=received.jsonl > receiver.log 2>&1 &
RECEIVER=$!

# The receiver's socket is bound once it goes to PAUSED; wait for PLAYING (at most 30 s).
tries=0
until grep -q "Setting pipeline to PLAYING" receiver.log; do
  tries=$((tries + 1))
  if [ "$tries" -gt 300 ] || ! kill -0 "$RECEIVER" 2>/dev/null; then
    echo "receiver did not start:" >&2; cat receiver.log >&2
    kill "$RECEIVER" 2>/dev/null || true
    exit 1
  fi
  sleep 0.1
done

status=0
gst-launch-1.0 -e eegsrc is-live=true num-buffers="$SECONDS_OF_EEG" samplesperbuffer=200 rate=200 \
  ! stft ! tfmtokenize ! tee name=t \
  t. ! queue ! lbmclassify ! tokensink location=sent.jsonl \
  t. ! queue ! rtpgstpay config-interval=1 ! udpsink host=127.0.0.1 port="$PORT" \
  > sender.log 2>&1 || status=$?

sleep 1   # the jitter buffer holds packets for its 200 ms latency
kill -INT "$RECEIVER"
tries=0
while kill -0 "$RECEIVER" 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then
    echo "receiver did not stop within 10 s of SIGINT" >&2
    kill "$RECEIVER"
    exit 1
  fi
  sleep 0.1
done
wait "$RECEIVER" || status=$?
if [ "$status" -ne 0 ] || grep -q ERROR sender.log receiver.log; then
  echo "sender or receiver failed:" >&2; cat sender.log receiver.log >&2
  exit 1
fi
echo "sent.jsonl and received.jsonl written"
