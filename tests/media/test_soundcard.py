"""The sound-card port: ``faxengine.media.soundcard``.

``FakePyAudio`` has PyAudio's interface (``PyAudio()``, ``open(...,
stream_callback=)``, the device queries) and no clock: the test calls each
stream's callback, as PortAudio's audio thread would, when it decides a
device buffer is due.  Two fake cards cross-connected carry a whole fax call
between two of our terminals, each driven by its own worker thread.  The
real PyAudio is tried on ALSA virtual devices an asoundrc of the test
defines (the ``file`` plugin over ``null``), in a subprocess so that
PortAudio reads that configuration.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from faxengine import tiff
from faxengine.media.soundcard import (Resampler, SoundCard, SoundCardError, devices_main,
                                       list_devices, run)
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page
from faxengine.t4.page import RESOLUTIONS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# -- a fake PyAudio ------------------------------------------------------------------

class FakeStream:
    def __init__(self, rate, frames, callback):
        self.rate, self.frames, self.callback = rate, frames, callback
        self.active = False
        self.closed = False

    def start_stream(self):
        self.active = True

    def stop_stream(self):
        self.active = False

    def close(self):
        self.closed = True

    def is_active(self):
        return self.active

    def tick(self, captured: np.ndarray | None, status: int = 0) -> np.ndarray:
        """One device buffer: ``captured`` goes in, what the card plays comes out."""
        data = None if captured is None else captured.astype(np.int16).tobytes()
        out, flag = self.callback(data, self.frames, {}, status)
        assert flag == 0 and len(out) == 2 * self.frames
        return np.frombuffer(out, np.int16)


class FakePyAudio:
    """Stands for the ``pyaudio`` module: ``FakePyAudio(...).PyAudio()``."""

    paInt16 = 8

    def __init__(self, devices=(("fake card", 1, 1, 8000.0),), rates=(8000,)):
        self.devices = devices
        self.rates = rates
        self.streams: list[FakeStream] = []
        self.terminated = 0

    def PyAudio(self):                         # noqa: N802 (PyAudio's name)
        return self

    def get_device_count(self):
        return len(self.devices)

    def get_device_info_by_index(self, i):
        if not 0 <= i < len(self.devices):
            raise OSError("Invalid device index")     # PyAudio's IOError
        name, inputs, outputs, rate = self.devices[i]
        return dict(index=i, name=name, maxInputChannels=inputs, maxOutputChannels=outputs,
                    defaultSampleRate=rate)

    def get_default_input_device_info(self):
        return self.get_device_info_by_index(0)

    def is_format_supported(self, rate, input_device=None, **kw):
        if rate not in self.rates or not 0 <= input_device < len(self.devices):
            raise ValueError("Invalid sample rate")
        return True

    def open(self, format, channels, rate, input, output, frames_per_buffer,
             stream_callback, **kw):
        assert (format, channels, input, output) == (8, 1, True, True)
        if rate not in self.rates:
            raise ValueError("Invalid sample rate")
        stream = FakeStream(rate, frames_per_buffer, stream_callback)
        self.streams.append(stream)
        return stream

    def terminate(self):
        self.terminated += 1


# -- the resampler ---------------------------------------------------------------------

@pytest.mark.parametrize("src,dst", [(8000, 48000), (48000, 8000), (8000, 44100),
                                     (44100, 8000), (8000, 8000)])
def test_resampler_any_split_gives_the_same_samples(src, dst):
    rng = np.random.default_rng(1)
    x = rng.integers(-8000, 8000, src // 2).astype(np.int16)
    whole = Resampler(src, dst).process(x)
    parts, pos, r = [], 0, Resampler(src, dst)
    while pos < x.size:
        n = int(rng.integers(1, 400))
        parts.append(r.process(x[pos:pos + n]))
        pos += n
    split = np.concatenate(parts)
    assert split.size == whole.size >= x.size * dst // src
    assert np.abs(split.astype(int) - whole).max() <= 1        # float rounding only
    if src != dst:          # the same samples as scipy's one call, after the lead's silence
        from scipy.signal import resample_poly
        ref = np.rint(resample_poly(x.astype(float), dst, src))
        lead = -Resampler(src, dst)._j                            # outputs before input 0
        inner = ref.size - 100 * dst // src                       # scipy pads the end with zeros
        assert np.abs(split[lead:lead + inner].astype(int) - ref[:inner]).max() <= 1


@pytest.mark.parametrize("rate", [48000, 44100])
def test_resampler_there_and_back_keeps_a_tone(rate):
    t = np.arange(8000)
    tone = (8000 * np.sin(2 * np.pi * 1000 * t / 8000)).astype(np.int16)
    up, down = Resampler(8000, rate), Resampler(rate, 8000)
    back = np.concatenate([down.process(up.process(tone[i:i + 160]))
                           for i in range(0, tone.size, 160)]).astype(float)
    # the delay through both is a fraction of a sample at 44100: fit a 1 kHz sine of
    # any phase, and what is left over is the resamplers' error
    seg = back[1000:5000]
    w = 2 * np.pi * 1000 * np.arange(1000, 5000) / 8000
    basis = np.stack([np.sin(w), np.cos(w)], axis=1)
    coef = np.linalg.lstsq(basis, seg, rcond=None)[0]
    err = seg - basis @ coef
    assert abs(np.hypot(*coef) - 8000) < 40                     # the level kept within 0.05 dB
    assert 10 * np.log10(np.mean(seg ** 2) / np.mean(err ** 2)) > 40


# -- the callback and the worker's side ---------------------------------------------------

def card(fake=None, **kw) -> SoundCard:
    return SoundCard(0, pyaudio=fake or FakePyAudio(), **kw)


def block(k: int, n: int = 160) -> np.ndarray:
    return np.full(n, k, np.int16)


def test_the_callback_only_copies_and_counts():
    fake = FakePyAudio()
    c = card(fake, queue_blocks=3, prime=1)
    stream = fake.streams[0]
    assert stream.active and (c.rate, c.frames) == (8000, 160)
    assert not stream.tick(block(1)).any()                      # the primed silence
    assert not stream.tick(block(2), status=2 | 4).any()         # nothing queued: silence
    stream.tick(block(3))
    stream.tick(block(4))                                        # the queue holds 3: 1 is dropped
    assert c.stats.output_underruns == 3 and c.stats.input_overruns == 1
    assert c.stats.status == {"input_overflow": 1, "output_underflow": 1}
    assert [int(c.tx(160)[0]) for _ in range(3)] == [2, 3, 4]  # the newest audio is kept
    c.rx(block(7))
    assert (stream.tick(block(5)) == 7).all()
    c.close()
    c.close()
    assert stream.closed and fake.terminated == 1


def test_a_late_block_is_lost_and_its_buffer_dropped_when_it_comes():
    fake = FakePyAudio()
    c = card(fake, late=0.01)
    stream = fake.streams[0]
    stream.tick(block(1))
    assert c.tx(160)[0] == 1
    assert c.tx(160) is None                                     # nothing within 10 ms
    stream.tick(block(2))                                        # its buffer, too late
    stream.tick(block(3))
    assert c.tx(160)[0] == 3
    assert (c.stats.late, c.stats.late_dropped) == (1, 1)


def test_a_card_that_stops_is_reported():
    c = card(late=0.001, dead_after=3)
    assert c.tx(160) is None and c.tx(160) is None
    with pytest.raises(SoundCardError, match=r"^sound card 0 delivered no audio for 0\.0 s: "
                                             r"is it still there\?$"):
        c.tx(160)


def test_a_lost_block_reaches_the_terminal_as_fillin():
    class Listener:                     # an end that records what the pump tells it
        finished = False

        def __init__(self):
            self.heard = []

        def tx(self, n):
            return np.zeros(n, np.int16)

        def rx(self, samples):
            self.heard.append(int(samples[0]))
            self.finished = len(self.heard) >= 3

        def rx_fillin(self, n):
            self.heard.append(("fillin", n))
            c.late = 10.0               # the next blocks wait for the test, however slow

    fake = FakePyAudio()
    c = card(fake, late=0.01)
    stream = fake.streams[0]
    for k in (1, 2):
        stream.tick(block(k))
    listener = Listener()
    worker = threading.Thread(target=run, args=(listener, c))
    worker.start()
    while c.stats.late == 0:            # the third block does not come in time
        time.sleep(0.001)
    stream.tick(block(3))               # late: dropped
    stream.tick(block(4))
    while worker.is_alive():            # the worker drains what it played
        stream.tick(block(0))
        worker.join(0.002)
    assert listener.heard == [1, 2, ("fillin", 160), 4]


def test_a_card_without_8000_is_opened_at_its_rate_and_resampled():
    fake = FakePyAudio(devices=(("usb", 2, 2, 48000.0),), rates=(44100, 48000))
    c = card(fake)
    assert (c.rate, c.frames) == (48000, 960)
    with pytest.raises(SoundCardError, match=r"^sound card 0 cannot be opened at 22050 samples/s"
                                             r", mono int16: Invalid sample rate \(faxengine "
                                             r"devices lists the cards\)$"):
        card(fake, rate=22050)
    with pytest.raises(SoundCardError, match=r"^sound card 3 cannot be opened at 8000 samples/s "
                                             r"or its own rate, mono int16: Invalid device index"):
        SoundCard(3, pyaudio=fake)
    assert fake.terminated == 2


def test_without_pyaudio_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyaudio", None)
    with pytest.raises(SoundCardError, match=r"^sound cards need PyAudio: pip install "
                                             r"'faxengine\[audio\]' \(it builds against "
                                             r"PortAudio: apt-get install portaudio19-dev\)$"):
        SoundCard(0)
    assert devices_main([]) == 2


def test_devices_lists_every_card(capsys):
    fake = FakePyAudio(devices=(("Built-in", 2, 2, 48000.0), ("HDMI", 0, 8, 44100.0)))
    assert [d.name for d in list_devices(fake)] == ["Built-in", "HDMI"]
    assert devices_main([], pyaudio=fake) == 0
    assert capsys.readouterr().out.splitlines() == [
        "  0  Built-in  in 2 out 2  48000 Hz",
        "  1  HDMI  in 0 out 8  44100 Hz  (cannot carry a call: needs in and out)"]


# -- a whole call over two fake cards ----------------------------------------------------

def text_page(seed: int, rows: int = 200) -> Page:
    rng = np.random.default_rng(seed)
    image = np.zeros((rows, 1728), dtype=bool)
    for _ in range(60):
        y, x = rng.integers(0, rows - 12), rng.integers(0, 1648)
        image[y:y + rng.integers(2, 12), x:x + rng.integers(3, 80)] = True
    return Page(image, *RESOLUTIONS["standard"])


class Wire:
    """Two fake cards cross-connected, each with a terminal on its own worker.

    ``tick`` is one device buffer on both cards: each captures what the other
    played, then the test waits (bounded) until both workers have taken it
    and queued their answer, so the call is the same every run.
    """

    def __init__(self, a: FaxTerminal, b: FaxTerminal, rate: int, **card_kw):
        self.fakes = [FakePyAudio(devices=(("fake", 1, 1, float(rate)),), rates=(rate,))
                      for _ in range(2)]
        self.cards = [card(f, **card_kw) for f in self.fakes]
        self.terminals = (a, b)
        self.streams = [f.streams[0] for f in self.fakes]
        self.workers = [threading.Thread(target=run, args=(t, c))
                        for t, c in zip(self.terminals, self.cards)]
        self.heard = [np.zeros(self.streams[0].frames, np.int16)] * 2
        self.ticks = 0              # device buffers so far
        self.glitches = 0
        self.given = [0, 0]         # buffers each card has captured

    @property
    def alive(self) -> bool:
        return any(w.is_alive() for w in self.workers)

    def settle(self, i: int) -> None:
        """Wait until worker i has dealt with every buffer its card captured:
        used for a block, or dropped as late (or its call has ended)."""
        c, worker, term = self.cards[i], self.workers[i], self.terminals[i]
        if term.finished and worker.is_alive():
            time.sleep(0.005)       # the worker plays out its last blocks: a buffer's time
        deadline = time.monotonic() + 10
        while worker.is_alive() and not term.finished and \
                c.stats.blocks - c.stats.late + c.stats.late_dropped < self.given[i]:
            assert time.monotonic() < deadline, "the worker did not keep up within 10 s"
            time.sleep(0.0001)

    def tick(self) -> None:
        """One buffer on each card whose worker still runs (a card closed is silent)."""
        played = [np.zeros_like(h) for h in self.heard]
        for i, (stream, worker) in enumerate(zip(self.streams, self.workers)):
            if worker.is_alive():
                played[i] = stream.tick(self.heard[i])
                self.given[i] += 1
        self.heard = played[::-1]
        self.settle(0)
        self.settle(1)
        self.ticks += 1

    def glitch(self) -> None:
        """Card b misses a buffer (an xrun): its worker gives the block up as
        lost, then the late buffer and the next come in one go; a hears
        silence, then b's second buffer."""
        (sa, sb), (ha, hb) = self.streams, self.heard
        late = self.cards[1].stats.late
        played_a = sa.tick(ha)
        self.given[0] += 1
        deadline = time.monotonic() + 10
        while self.cards[1].stats.late == late and not self.terminals[1].finished:
            assert time.monotonic() < deadline, "b's worker did not give the block up"
            time.sleep(0.001)
        self.settle(0)
        sb.tick(hb)                 # the late buffer: dropped
        self.heard = [sb.tick(played_a), sa.tick(np.zeros_like(ha))]
        self.given = [self.given[0] + 1, self.given[1] + 2]
        self.settle(0)
        self.settle(1)
        self.ticks += 2
        self.glitches += 1

    def run(self, glitch_every: int = 0) -> None:
        for w in self.workers:
            w.start()
        try:
            while self.alive:
                if glitch_every and self.ticks >= glitch_every * (self.glitches + 1):
                    self.glitch()
                else:
                    self.tick()
                assert self.ticks < 120 * 50, "the call did not end within 120 s of line time"
        finally:
            for t in self.terminals:
                t.abort()


@pytest.mark.parametrize("rate,ecm", [(8000, True), (48000, False)], ids=["8k-ecm", "48k"])
def test_a_whole_call_over_two_cross_connected_cards(tmp_path, rate, ecm):
    pages = [text_page(1), text_page(2)]
    a = FaxTerminal(True, send=pages, ecm=ecm)
    b = FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=ecm)
    wire = Wire(a, b, rate, late=5.0)                   # the test's clock never loses a block
    wire.run()
    assert a.result.ok and b.result.ok, (a.result, b.result)
    assert a.result.pages == b.result.pages == 2
    assert [p.image.tolist() for p in tiff.read(tmp_path / "rx.tif")] == \
        [p.image.tolist() for p in pages]
    for c in wire.cards:
        stats = c.stats
        assert (stats.late, stats.input_overruns, stats.output_overruns,
                stats.output_underruns) == (0, 0, 0, 0)
        c.close()


def test_an_ecm_call_through_a_card_that_misses_buffers(tmp_path):
    pages = [text_page(3)]
    a = FaxTerminal(True, send=pages, ecm=True)
    b = FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=True)
    wire = Wire(a, b, 8000, late=0.1)
    wire.run(glitch_every=97)
    assert a.result.ok and b.result.ok, (a.result, b.result)
    assert [p.image.tolist() for p in tiff.read(tmp_path / "rx.tif")] == \
        [p.image.tolist() for p in pages]
    stats = wire.cards[1].stats
    # each glitch lost a block (a slow test machine may lose more, as a slow card would)
    assert min(stats.late, stats.late_dropped) >= wire.glitches > 5


# -- the real PyAudio on an ALSA virtual device -------------------------------------------

ASOUNDRC = """\
</usr/share/alsa/alsa.conf>
pcm.faxengine_play {{
    type file
    slave.pcm "null"
    file "{dir}/played.raw"
    format "raw"
    hint {{ show on description "faxengine test: plays into a file" }}
}}
pcm.faxengine_capture {{
    type file
    slave.pcm "null"
    file "{dir}/captured-copy.raw"
    infile "{dir}/to-capture.raw"
    format "raw"
    hint {{ show on description "faxengine test: captures a file" }}
}}
"""

REAL = """
import json, numpy as np
from faxengine.media.soundcard import SoundCard, list_devices
names = {d.name: d.index for d in list_devices()}
if "faxengine_play" not in names or "faxengine_capture" not in names:
    print(json.dumps({"skip": "PortAudio lists no ALSA plugin devices: " + repr(sorted(names))}))
    raise SystemExit
with SoundCard(names["faxengine_capture"], names["faxengine_play"], rate=8000, late=1.0) as c:
    captured = [c.tx(160) for _ in range(5)]
    for k in range(1, 6):
        c.rx(np.full(160, 1000 * k, np.int16))
    drained = c.drain(2.0)
print(json.dumps({"captured": [b.tolist() for b in captured], "drained": drained,
                  "underruns": c.stats.output_underruns, "callbacks": c.stats.callbacks}))
"""


def test_real_pyaudio_on_alsa_file_devices(tmp_path):
    pytest.importorskip("pyaudio", reason="PyAudio is not installed (pip install pyaudio)")
    if not os.path.exists("/usr/share/alsa/alsa.conf"):
        pytest.skip("no ALSA configuration (/usr/share/alsa/alsa.conf): libasound2 is missing")
    t = np.arange(8000)
    tone = (8000 * np.sin(2 * np.pi * 1000 * t / 8000)).astype(np.int16)   # period 8
    tone.tofile(tmp_path / "to-capture.raw")
    (tmp_path / "asoundrc").write_text(ASOUNDRC.format(dir=tmp_path))
    env = dict(os.environ, ALSA_CONFIG_PATH=str(tmp_path / "asoundrc"), JACK_NO_START_SERVER="1",
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(REAL)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    if "skip" in report:
        pytest.skip(report["skip"])
    # ALSA's null device has no clock: PortAudio runs the callback flat out, so
    # buffers were dropped (overruns) and silence played (underruns) between ours;
    # every block captured is a piece of the file's 1 kHz tone, in phase
    period = [np.roll(tone[:8], -k) for k in range(8)]
    for b in report["captured"]:
        assert any((np.array(b) == np.tile(p, 20)).all() for p in period), b[:16]
    assert report["drained"] and report["underruns"] > 0
    played = np.fromfile(tmp_path / "played.raw", np.int16)
    # what we played, in order and whole, between the silence of the underruns
    assert np.array_equal(played[played != 0], np.repeat([1000, 2000, 3000, 4000, 5000], 160))
