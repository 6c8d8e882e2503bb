"""A sound card as one end of the pump: ``SoundCard``, ``run``, ``devices_main``.

A fax machine wired to a telephone line through a sound card (or a modem box
that shows up as one) hears and speaks through PortAudio, reached with
PyAudio.  ``SoundCard`` is a pump ``End`` (``faxengine.media.pump``): what it
*sends* into the pump (``tx``) is what the card captured, and what it *hears*
(``rx``) the card plays.

Two threads, and nothing shared but two bounded queues
------------------------------------------------------
PortAudio calls ``callback`` on its own audio thread, once per device
buffer, and that thread must never wait: the callback only puts the
captured bytes on the *input* queue and takes the next buffer to play off
the *output* queue.  No terminal work, no resampling, no lock held for
long.  A worker (``run``, in the caller's thread) drives the terminal
through the pump: ``tx`` waits for the next captured buffer, so the card's
clock paces the call, as RTP's packet clock paces a SIP call.

What goes wrong, and what is done about it (all counted in ``stats``):

- *input overrun*: the worker fell behind and the input queue is full: the
  oldest captured buffer is dropped (the worker hears the newest audio).
- *late input*: no buffer arrived within ``late`` seconds: the block is
  lost, ``tx`` returns None and the pump tells the terminal with
  ``rx_fillin`` (its receivers keep their timing), as for a lost RTP
  packet.  The buffer that arrives afterwards for that slot is dropped, so
  the terminal's timeline stays the card's.
- *output underrun*: the callback found nothing to play: it plays silence.
- *output overrun*: the worker got ahead and the output queue is full: the
  oldest buffer is dropped.
- PortAudio's own status flags (``paInputOverflow`` ...) are counted too.

Rates
-----
The terminal works at 8000 samples/s, mono int16.  A card that cannot open
8000/s is opened at its own rate and resampled both ways by
``Resampler``: ``scipy.signal.resample_poly``'s polyphase filter applied
block by block with the history kept, so any split of the stream gives the
same samples as one call (a constant delay of about 1.3 ms each way).

PyAudio is optional (``pip install faxengine[audio]``; it builds against
PortAudio, ``apt-get install portaudio19-dev``): it is imported when a card
is opened, never at import time.  Tests pass a fake with PyAudio's
interface (``pyaudio=``) and drive its clock themselves.
"""
from __future__ import annotations

import contextlib
import os
import queue
import sys
import time
from dataclasses import dataclass
from math import ceil, gcd

import numpy as np

from faxengine.errors import FaxError
from faxengine.levels import SAMPLE_RATE
from faxengine.media.pump import BLOCK, MAX_SECONDS, Pump

__all__ = ["Device", "SoundCard", "SoundCardError", "SoundCardStats", "Resampler",
           "list_devices", "devices_main", "run"]

PA_INT16 = 8                # PortAudio's paInt16 (PyAudio's pyaudio.paInt16)
PA_CONTINUE = 0             # pyaudio.paContinue
# PortAudio's PaStreamCallbackFlags (portaudio.h), as PyAudio hands them over
STATUS_FLAGS = {1: "input_underflow", 2: "input_overflow", 4: "output_underflow",
                8: "output_overflow", 16: "priming_output"}


class SoundCardError(FaxError, ValueError):
    """A sound card that cannot be opened or stopped delivering audio."""


def load_pyaudio():
    """The ``pyaudio`` module, or a SoundCardError saying how to install it."""
    try:
        import pyaudio
    except ImportError:
        raise SoundCardError("sound cards need PyAudio: pip install 'faxengine[audio]' "
                             "(it builds against PortAudio: apt-get install portaudio19-dev)"
                             ) from None
    return pyaudio


class Resampler:
    """int16 audio from ``src`` to ``dst`` samples/s, block by block.

    ``resample_poly`` is run over the new block plus enough history that its
    filter (its default, a Kaiser-windowed sinc of half-length
    ``10 * max(up, down)`` taps at the upsampled rate, designed once) sees
    real samples on both sides of every output it keeps; each output is
    computed once, when the input after it has arrived.  The
    stream starts ``lead`` output samples of silence early, so after each
    input block at least ``len * dst / src`` samples have come out.
    """

    def __init__(self, src: int, dst: int) -> None:
        g = gcd(src, dst)
        self.up, self.down = dst // g, src // g
        if self.up != self.down:
            from scipy.signal import firwin, resample_poly  # only when a card needs resampling
            self._resample = resample_poly
            # resample_poly's own default filter, designed once instead of every block
            half = 10 * max(self.up, self.down)
            self._filter = firwin(2 * half + 1, 1 / max(self.up, self.down),
                                  window=("kaiser", 5.0))
        # input samples either side of an output's position that its filter reaches
        self.reach = ceil(10 * max(self.up, self.down) / self.up) + 1
        lead = ceil((self.reach + 1) * self.up / self.down)
        self._j = -lead                             # the next output, in output samples
        self._base = self._start(self._j)           # the input index of _buf[0]
        self._buf = np.zeros(-self._base)           # silence before the stream

    def _start(self, j: int) -> int:
        """The first input a window for output ``j`` must hold: on the output
        grid (a multiple of ``down``) and ``reach`` before output ``j``."""
        pos = (j * self.down) // self.up - self.reach
        return (pos // self.down) * self.down

    def process(self, samples: np.ndarray) -> np.ndarray:
        """The output samples the new input completes (int16)."""
        if self.up == self.down:
            return np.asarray(samples, np.int16)
        self._buf = np.concatenate([self._buf, np.asarray(samples, np.float64)])
        end = self._base + self._buf.size           # one past the last input
        last = ((end - 1 - self.reach) * self.up) // self.down
        if last < self._j:
            return np.zeros(0, np.int16)
        out = self._resample(self._buf, self.up, self.down, window=self._filter)
        first = self._j - (self._base * self.up) // self.down
        out = out[first:first + last + 1 - self._j]
        self._j = last + 1
        keep = self._start(self._j)
        self._buf = self._buf[keep - self._base:]
        self._base = keep
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


@dataclass
class SoundCardStats:
    """What went wrong on the card so far, counted (see the module's docstring)."""

    callbacks: int = 0          # device buffers exchanged with PortAudio
    blocks: int = 0             # blocks exchanged with the pump (one per rx, once queued)
    input_overruns: int = 0     # captured buffers dropped: the worker fell behind
    late: int = 0               # blocks the worker declared lost (told as fill-in)
    late_dropped: int = 0       # buffers that came after their slot was given up
    output_underruns: int = 0   # buffers played as silence: nothing was queued
    output_overruns: int = 0    # buffers dropped: the worker was too far ahead
    status: dict | None = None  # PortAudio's status flags, by name: times seen

    def __post_init__(self) -> None:
        if self.status is None:
            self.status = {}


class SoundCard:
    """A PortAudio device as a pump ``End`` (see the module's docstring).

    Args:
        device: the PortAudio device index to capture from (``list_devices``),
            or None for the default device.
        output_device: the device to play on, if not ``device``.
        rate: the device's sample rate; None: 8000 if the device takes it,
            else its default rate (resampled to and from 8000).
        pyaudio: the PyAudio module, or a fake with its interface (tests);
            None: ``import pyaudio``.
        late: seconds without a captured buffer after which a block is lost
            (and, at the end, ``drain``'s wait for the card to take a buffer).
        queue_blocks: how many buffers each queue holds before dropping.
        prime: buffers of silence queued to play before the first block
            (the output's latency, its cushion against underruns).
        dead_after: this many lost blocks in a row mean the card stopped:
            ``tx`` raises SoundCardError.

    Raises:
        SoundCardError: PyAudio is missing, or the device cannot be opened.
    """

    finished = True     # a card has no call to finish: the terminal's end ends it

    def __init__(self, device: int | None = None, output_device: int | None = None,
                 rate: int | None = None, *, pyaudio=None, late: float = 0.1,
                 queue_blocks: int = 10, prime: int = 2, dead_after: int = 50) -> None:
        self._pa_mod = pyaudio if pyaudio is not None else load_pyaudio()
        self.device = device
        self.output_device = device if output_device is None else output_device
        self.late = late
        self.dead_after = dead_after
        self.stats = SoundCardStats()
        with _quiet_native_stderr():
            self._pa = self._pa_mod.PyAudio()
        try:
            self.rate = rate if rate is not None else self._choose_rate()
            self.frames = max(1, round(BLOCK * self.rate / SAMPLE_RATE))
            self._in: queue.Queue = queue.Queue(queue_blocks)
            self._out: queue.Queue = queue.Queue(queue_blocks)
            for _ in range(prime):
                self._out.put_nowait(bytes(2 * self.frames))
            self._down = Resampler(self.rate, SAMPLE_RATE)
            self._up = Resampler(SAMPLE_RATE, self.rate)
            self._heard = np.zeros(0, np.int16)     # captured, at 8000/s, not yet handed out
            self._played = np.zeros(0, np.int16)    # to play, at the device rate, not yet a buffer
            self._lost_run = 0      # blocks lost in a row
            self._owed = 0          # slots given up whose buffers have not come yet
            self.draining = False   # the worker has queued its last block (see drain)
            self._stream = self._open()
        except Exception as exc:
            self._pa.terminate()
            if isinstance(exc, SoundCardError):
                raise
            at = f"{rate} samples/s" if rate else "8000 samples/s or its own rate"
            raise SoundCardError(f"sound card {device} cannot be opened at {at}, mono int16: "
                                 f"{exc} (faxengine devices lists the cards)") from exc

    def _choose_rate(self) -> int:
        try:
            self._pa.is_format_supported(SAMPLE_RATE, input_device=self.device, input_channels=1,
                                         input_format=PA_INT16, output_device=self.output_device,
                                         output_channels=1, output_format=PA_INT16)
            return SAMPLE_RATE
        except ValueError:
            info = (self._pa.get_device_info_by_index(self.device) if self.device is not None
                    else self._pa.get_default_input_device_info())
            return int(info["defaultSampleRate"])

    def _open(self):
        stream = self._pa.open(format=PA_INT16, channels=1, rate=self.rate, input=True,
                               output=True, input_device_index=self.device,
                               output_device_index=self.output_device,
                               frames_per_buffer=self.frames, stream_callback=self.callback)
        stream.start_stream()
        return stream

    # -- the audio thread's side: copy in, copy out, never wait ---------------------

    def callback(self, in_data, frame_count, time_info, status):
        """PortAudio's stream callback: queue what was captured, return what to play."""
        stats = self.stats
        stats.callbacks += 1
        if status:
            for bit, name in STATUS_FLAGS.items():
                if status & bit:
                    stats.status[name] = stats.status.get(name, 0) + 1
        if in_data is not None:
            try:
                self._in.put_nowait(in_data)
            except queue.Full:
                stats.input_overruns += 1
                try:
                    self._in.get_nowait()
                except queue.Empty:
                    pass
                self._in.put_nowait(in_data)
        try:
            out = self._out.get_nowait()
        except queue.Empty:
            stats.output_underruns += 1
            out = b""
        size = 2 * frame_count
        if len(out) != size:                # silence, or a buffer of another size
            out = out[:size] + bytes(size - len(out[:size]))
        return out, PA_CONTINUE

    # -- the worker's side: the End protocol ----------------------------------------

    def tx(self, n: int) -> np.ndarray | None:
        """The next ``n`` samples the card captured (8000/s); None: lost (late).

        Raises:
            SoundCardError: ``dead_after`` blocks in a row were lost.
        """
        while self._heard.size < n:
            try:
                data = self._in.get(timeout=self.late)
            except queue.Empty:
                return self._lose(n)
            if self._owed:                  # came after its slot was given up
                self._owed -= 1
                self.stats.late_dropped += 1
                continue
            self._heard = np.concatenate([self._heard, self._down.process(
                np.frombuffer(data, np.int16))])
        self._lost_run = 0
        block, self._heard = self._heard[:n], self._heard[n:]
        return block

    def _lose(self, n: int) -> None:
        stats = self.stats
        stats.late += 1
        self._lost_run += 1
        if self._lost_run >= self.dead_after:
            raise SoundCardError(f"sound card {self.device} delivered no audio for "
                                 f"{self._lost_run * self.late:.1f} s: is it still there?")
        # the slot is given up: the buffer that arrives for it later is dropped, and
        # the resampler hears silence over it, so the timeline stays the card's
        self._owed += 1
        self._heard = np.concatenate([self._heard, self._down.process(np.zeros(self.frames))])
        self._heard = self._heard[n:]
        return None

    def rx(self, samples: np.ndarray) -> None:
        """The terminal's samples (8000/s), queued to play; ``stats.blocks`` counts
        the block once it is on the queue (a test driving the card's clock waits on
        that count, then takes the buffer)."""
        self._played = np.concatenate([self._played, self._up.process(samples)])
        while self._played.size >= self.frames:
            data = self._played[:self.frames].tobytes()
            self._played = self._played[self.frames:]
            try:
                self._out.put_nowait(data)
            except queue.Full:
                self.stats.output_overruns += 1
                try:
                    self._out.get_nowait()
                except queue.Empty:
                    pass
                self._out.put_nowait(data)
        self.stats.blocks += 1

    def rx_fillin(self, n: int) -> None:     # the terminal never loses a block: play silence
        self.rx(np.zeros(n, np.int16))

    # -- life cycle ----------------------------------------------------------------

    @property
    def queued(self) -> int:
        """Buffers queued to play that the card has not taken yet."""
        return self._out.qsize()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until what was queued to play has been taken; False if the card took
        no buffer for ``timeout`` seconds (default: ``late``): it stopped, and the
        rest is never played.

        From the call on ``draining`` is True: the worker queues no more blocks,
        so ``queued`` only falls (a test driving the card's clock waits on that
        instead of on a clock of its own).
        """
        self.draining = True
        timeout = self.late if timeout is None else timeout
        left, since = self.queued, time.monotonic()
        while left:
            time.sleep(0.005)
            now = time.monotonic()
            still = self.queued
            if still < left:
                left, since = still, now
            elif now - since > timeout:
                return False
        return True

    def close(self) -> None:
        """Stop and close the stream and PortAudio (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop_stream()
            finally:
                stream.close()
                self._pa.terminate()

    def __enter__(self) -> SoundCard:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run(terminal, card: SoundCard, max_seconds: float = MAX_SECONDS,
        on_block=None) -> float:
    """Drive ``terminal`` against ``card`` until the call ends (the worker's loop).

    Runs in the caller's thread (never PortAudio's), paced by the card's
    captured buffers, then waits for the last blocks to be played.  Returns
    the line time in seconds; the outcome is ``terminal.result``.

    Raises:
        SoundCardError: the card stopped delivering audio (the terminal is
            aborted first).
    """
    try:
        seconds = Pump(terminal, card, max_seconds=max_seconds).run(on_block)
    except SoundCardError:
        terminal.abort()                    # the card is gone: the result says LOCAL_ABORT
        raise
    card.drain()
    return seconds


@dataclass(frozen=True, slots=True)
class Device:
    """A PortAudio device as ``faxengine devices`` lists it."""

    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence what C libraries print on file descriptor 2 meanwhile.

    PortAudio's start-up probes every ALSA and JACK device it knows of, and
    those libraries print dozens of lines for each one that is absent (a
    machine with no card, a server without JACK) straight to fd 2, past
    Python's ``sys.stderr``.  A user asked for a list of cards, not for that.
    """
    try:
        saved = os.dup(2)
    except OSError:             # no fd 2 at all: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def list_devices(pyaudio=None) -> list[Device]:
    """The devices PortAudio sees (those with both input and output can carry a call)."""
    module = pyaudio if pyaudio is not None else load_pyaudio()
    with _quiet_native_stderr():
        pa = module.PyAudio()
    try:
        devices = []
        for i in range(pa.get_device_count()):
            d = pa.get_device_info_by_index(i)
            devices.append(Device(i, d["name"], int(d["maxInputChannels"]),
                                  int(d["maxOutputChannels"]), float(d["defaultSampleRate"])))
        return devices
    finally:
        pa.terminate()


def devices_main(argv: list[str] | None = None, pyaudio=None) -> int:
    """``faxengine devices``: one line per sound card; 0, or 2 without PyAudio."""
    import argparse
    parser = argparse.ArgumentParser(prog="faxengine devices",
                                     description="List the sound cards --device N can use.")
    parser.parse_args(argv)
    try:
        devices = list_devices(pyaudio)
    except SoundCardError as exc:
        print(f"faxengine devices: {exc}", file=sys.stderr)
        return 2
    if not devices:
        print("no sound cards found", file=sys.stderr)
    for d in devices:
        usable = "" if d.inputs and d.outputs else "  (cannot carry a call: needs in and out)"
        print(f"{d.index:3d}  {d.name}  in {d.inputs} out {d.outputs}  "
              f"{d.default_rate:.0f} Hz{usable}")
    return 0
