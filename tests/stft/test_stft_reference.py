#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""stft element (appsrc ! stft ! appsink) against torch.stft and scipy.signal.stft
on real recordings from ../shared/data: EEG at 160 Hz (eegmmidb, 64 channels),
200 Hz (YASA sleep), 500 Hz (EEGMAT, 21 channels); audio at 8 kHz (FSDD,
Asterisk) and 44.1 kHz (LMT texture sound). Each input is pushed in random
buffer sizes. Pass: max |element - reference| <= 1e-5 x the frame's maximum.
Also: the "stft" bus messages read from Python, and caps that come from
downstream (rate included) through audioresample."""
import os
import sys
import unittest
import wave

import gi
import numpy as np
import scipy.signal
import torch

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst, GstApp  # noqa: E402,F401  (GstApp: appsink methods)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402

DATA = recordings.data("")
TOLERANCE = 1e-5


def read_edf_uv(rel, seconds):
    import mne
    raw = mne.io.read_raw_edf(os.path.join(DATA, rel), preload=True, verbose="error")
    raw.pick("eeg")
    n = int(seconds * raw.info["sfreq"])
    return (raw.get_data()[:, :n].T * 1e6).astype(np.float32), int(raw.info["sfreq"])


def read_wav(rel):
    with wave.open(os.path.join(DATA, rel)) as w:
        assert w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        x = pcm.reshape(-1, w.getnchannels()).astype(np.float32) / 32768.0
        return x, w.getframerate()


class StftRun:
    """Output of one appsrc ! stft ! appsink run."""

    def __init__(self, x, rate, props="", chunks=(1, 4096), seed=0, middle="", downstream=""):
        channels = x.shape[1]
        desc = (f"appsrc name=src format=time caps=audio/x-raw,format=F32LE,layout=interleaved,"
                f"rate={rate},channels={channels},channel-mask=(bitmask)0 ! {middle} "
                f"stft name=stft {props} ! {downstream} appsink name=sink sync=false wait-on-eos=false")
        pipe = Gst.parse_launch(desc)
        try:
            self._run(pipe, x, rate, chunks, seed)
        finally:
            pipe.set_state(Gst.State.NULL)

    def _run(self, pipe, x, rate, chunks, seed):
        src, sink = pipe.get_by_name("src"), pipe.get_by_name("sink")
        pipe.set_state(Gst.State.PLAYING)
        rng = np.random.default_rng(seed)
        pos = 0
        while pos < len(x):
            n = int(rng.integers(chunks[0], chunks[1] + 1))
            buf = Gst.Buffer.new_wrapped(np.ascontiguousarray(x[pos:pos + n]).tobytes())
            buf.pts = Gst.util_uint64_scale(pos, Gst.SECOND, rate)
            assert src.emit("push-buffer", buf) == Gst.FlowReturn.OK
            pos += n
        src.emit("end-of-stream")
        bus = pipe.get_bus()
        self.messages = []      # timed_pop_filtered would drop them: read every message
        while True:
            msg = bus.timed_pop(120 * Gst.SECOND)
            assert msg is not None, "no EOS within 120 s"
            assert msg.type != Gst.MessageType.ERROR, msg.parse_error()
            if msg.type == Gst.MessageType.EOS:
                break
            if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "stft":
                self.messages.append(msg.get_structure())
        self.caps = None
        data, self.pts, self.durations = [], [], []
        while True:
            sample = sink.try_pull_sample(0)
            if sample is None:
                break
            self.caps = sample.get_caps().get_structure(0)
            b = sample.get_buffer()
            data.append(np.frombuffer(b.extract_dup(0, b.get_size()), dtype="<f4"))
            self.pts.append(b.pts)
            self.durations.append(b.duration)
        per = self.frame_floats(self.caps)
        self.frames_per_buffer = [d.size // per for d in data]
        s = self.caps
        self.channels, self.bins, self.n_fft = s["channels"], s["bins"], s["n-fft"]
        self.hop, self.rate, waveform = s["hop"], s["rate"], s["waveform"]
        flat = np.concatenate(data)
        assert flat.size % per == 0
        frames = flat.reshape(-1, per)
        self.values = frames[:, :self.channels * self.bins].reshape(-1, self.channels, self.bins)
        self.waveform = (frames[:, self.channels * self.bins:].reshape(-1, self.channels, self.n_fft)
                         if waveform else None)


    @staticmethod
    def frame_floats(s):
        return s["channels"] * (s["bins"] + (s["n-fft"] if s["waveform"] else 0))


def torch_stft(x, n_fft, hop, bins, window="hann"):
    """|torch.stft| per channel in double precision: (frames, channels, bins)."""
    make = {"hann": torch.hann_window, "hamming": torch.hamming_window,
            "blackman": torch.blackman_window}[window]
    xt = torch.from_numpy(x.T.astype(np.float64))
    z = torch.stft(xt, n_fft, hop, window=make(n_fft, dtype=torch.float64), center=False,
                   return_complex=True)
    return z.abs()[:, :bins, :].permute(2, 0, 1).numpy()


def scipy_spectrum(x, rate, n_fft, hop, bins, window="hann"):
    """|scipy.signal.stft(scaling='spectrum')| per channel: (frames, channels, bins)."""
    _, _, z = scipy.signal.stft(x.T.astype(np.float64), rate, window=window, nperseg=n_fft,
                                noverlap=n_fft - hop, boundary=None, padded=False,
                                detrend=False, scaling="spectrum")
    return np.abs(z)[:, :bins, :].transpose(2, 0, 1)


def max_frame_error(got, want):
    assert got.shape == want.shape, (got.shape, want.shape)
    peak = np.abs(want).reshape(len(want), -1).max(axis=1)
    err = np.abs(got - want).reshape(len(want), -1).max(axis=1)
    return float((err / np.maximum(peak, 1e-30)).max())


class ReferenceTests(unittest.TestCase):
    def check(self, got, want, what):
        err = max_frame_error(got, want)
        print(f"{what}: {len(want)} frames, max error / frame max = {err:.3g}")
        self.assertLessEqual(err, TOLERANCE, what)

    def check_timestamps(self, run):
        """PTS of each buffer = that of its first frame, k·hop/rate; durations tile."""
        frame = 0
        for pts, dur, n in zip(run.pts, run.durations, run.frames_per_buffer):
            self.assertEqual(pts, Gst.util_uint64_scale(frame * run.hop, Gst.SECOND, run.rate))
            self.assertEqual(pts + dur, Gst.util_uint64_scale((frame + n) * run.hop, Gst.SECOND, run.rate))
            frame += n
        self.assertEqual(frame, len(run.values))

    def test_eegmmidb_160hz_64ch_defaults_vs_torch(self):
        x, rate = read_edf_uv("eeg/eegmmidb/S001R03.edf", 30)
        self.assertEqual((rate, x.shape[1]), (160, 64))
        run = StftRun(x, rate, chunks=(1, 700), seed=1)
        self.assertEqual((run.n_fft, run.hop, run.bins), (200, 100, 100))
        self.check(run.values, torch_stft(x, 200, 100, 100), "eegmmidb 160 Hz x64 magnitude vs torch")
        # The waveform part is the raw input under each frame.
        starts = np.arange(len(run.values)) * 100
        want = np.stack([x[s:s + 200].T for s in starts])
        self.assertTrue(np.array_equal(run.waveform, want))
        self.check_timestamps(run)

    def test_yasa_200hz_spectrum_vs_scipy(self):
        x = np.loadtxt(os.path.join(DATA, "eeg/sleep_yasa/data_N2_spindles_15sec_200Hz.txt"),
                       dtype=np.float32)[:, None]
        run = StftRun(x, 200, "scaling=spectrum waveform=false", chunks=(1, 1))
        self.check(run.values, scipy_spectrum(x, 200, 200, 100, 100), "yasa 200 Hz spectrum vs scipy")

    def test_eegmat_500hz_hamming_power_vs_torch(self):
        x, rate = read_edf_uv("eeg/eegmat/Subject01_2.edf", 20)
        self.assertEqual(rate, 500)
        run = StftRun(x, rate, "n-fft=500 hop=125 bins=251 window=hamming scaling=power", chunks=(7, 7))
        want = torch_stft(x, 500, 125, 251, "hamming") ** 2
        self.check(run.values, want, f"eegmat 500 Hz x{x.shape[1]} hamming power vs torch")

    def test_fsdd_8khz_blackman_db_vs_torch(self):
        x, rate = read_wav("audio/fsdd/0_george_7.wav")
        self.assertEqual(rate, 8000)
        run = StftRun(x, rate, "n-fft=256 hop=80 bins=129 window=blackman scaling=db", chunks=(1, 300))
        power = torch_stft(x, 256, 80, 129, "blackman") ** 2
        # dB compared as power (10^(dB/10)), so the 1e-10 floor must not hide errors.
        self.assertGreater(power.max(), 1e-6)
        self.check(10 ** (run.values.astype(np.float64) / 10), np.maximum(power, 1e-10),
                   "fsdd 8 kHz blackman dB vs torch")

    def test_asterisk_8khz_rectangular_spectrum_vs_scipy(self):
        x, rate = read_wav("audio/speech/asterisk_en_US_f_Allison_hello-world.wav")
        run = StftRun(x, rate, "n-fft=200 hop=50 bins=101 window=rectangular scaling=spectrum")
        self.check(run.values, scipy_spectrum(x, rate, 200, 50, 101, "boxcar"),
                   "asterisk 8 kHz rectangular spectrum vs scipy")

    def test_lmt_44khz_1024_vs_torch_and_scipy(self):
        x, rate = read_wav("haptic/lmt_sound/G2RoofTile_Sound_Movement_train1.wav")
        self.assertEqual(rate, 44100)
        run = StftRun(x, rate, "n-fft=1024 hop=512 waveform=false", chunks=(1, 5000), seed=3)
        self.assertEqual(run.bins, 512)
        self.check(run.values, torch_stft(x, 1024, 512, 512), "lmt 44.1 kHz magnitude vs torch")
        run = StftRun(x, rate, "n-fft=1024 hop=512 waveform=false scaling=spectrum")
        self.check(run.values, scipy_spectrum(x, rate, 1024, 512, 512), "lmt 44.1 kHz spectrum vs scipy")
        self.check_timestamps(run)

    def test_bus_messages_readable_from_python(self):
        x = np.loadtxt(os.path.join(DATA, "eeg/sleep_yasa/data_N2_spindles_15sec_200Hz.txt"),
                       dtype=np.float32)
        x = np.stack([x, -2 * x], axis=1)
        run = StftRun(x, 200, "post-messages=true")
        self.assertEqual(len(run.messages), len(run.values))
        for k, s in enumerate(run.messages):
            self.assertEqual(s["frame"], k)
            self.assertEqual(s["timestamp"], Gst.util_uint64_scale(k * 100, Gst.SECOND, 200))
            self.assertEqual(s["duration"], Gst.SECOND // 2)
            self.assertEqual((s["channels"], s["bins"], s["scaling"]), (2, 100, "magnitude"))
            mags = np.frombuffer(s["magnitudes"].get_data(), dtype=np.float32).reshape(2, 100)
            self.assertTrue(np.array_equal(mags, run.values[k]))
        # Channel-major layout: channel 1 is -2 x channel 0.
        np.testing.assert_allclose(run.values[:, 1], 2 * run.values[:, 0], rtol=1e-5, atol=1e-3)

    def test_rate_and_config_from_downstream(self):
        x, rate = read_edf_uv("eeg/eegmmidb/S001R01.edf", 20)
        x = x[:, :3]
        run = StftRun(x, rate, middle="audioresample !",
                      downstream="application/x-spectrogram,rate=200,n-fft=200,hop=100,bins=100,"
                                 "waveform=false !")
        self.assertEqual((run.rate, run.n_fft, run.hop, run.bins), (200, 200, 100, 100))
        self.assertEqual(run.caps["framerate"], Gst.Fraction(2, 1))
        # 20 s resampled to 200 Hz give (4000 - 200)/100 + 1 frames, give or take the
        # resampler's edge samples.
        self.assertIn(len(run.values), range(36, 40))


if __name__ == "__main__":
    Gst.init(None)
    sys.exit(unittest.main(verbosity=2))
