"""T.30 signals as timed IFP packets, and received IFP data back as a signal.

What ``faxengine.t30.link`` is to a terminal on an audio line, this module
is to ``faxengine.t38.terminal.T38Terminal``: it turns each transmission of
T.30 -- a tone, V.21 HDLC frames, TCF, a non-ECM page, an ECM block -- into
the IFP packets a T.38 terminal sends for it, each at the time the signal
would reach that point on a fax line, and it gathers what a high-speed
signal brought in (image octets, ECM frames) for the terminal's receiver.

Transmit (``IfpSignal``): a signal is a schedule of (time, packet) steps
counted in samples (8000/s) from its start, made as it goes out (a page is
coded a slice at a time by ``t30.link.page_bits``).  The times follow the
line (T.38 §7: IFP packets carry what a modem would send, in real time):

* 75 ms of silence before each signal (T.30 §5.3.2.3), then its indicator
  (T.38 §7.3: ``v21-preamble``, the training of the image modem, ``ced``,
  ``cng``);
* V.21 frames after the 1 s of flags (T.30 §5.3.1); image data after the
  modem's training (``t30.link.TRAINING_S``, V.17's short training after
  the first signal at a rate), ECM frames after a further preamble of
  ``HS_PREAMBLE_FLAGS`` flags;
* data at the modem's bit rate: each packet carries at most ``CHUNK_MS``
  of it (and at most what ``max_datagram`` allows) and the next follows
  when that much line time has passed, as spandsp paces its terminal, so a
  peer's timers see the durations of a real line;
* each HDLC frame (T.38 §7.4) as ``hdlc-data`` packets and then
  ``hdlc-fcs-OK`` once its octets and FCS have gone, the last frame's
  ``hdlc-fcs-OK-sig-end``; non-ECM data (TCF, a page) as ``t4-non-ecm-data``
  and an empty ``t4-non-ecm-sig-end`` after the last octet's time; then
  the ``no-signal`` indicator ends the signal.

Octets in field data (T.38 §7.4, and what spandsp's terminal puts on
the wire): the first bit on the line is the most significant bit.  A T.4
page's octets (``faxengine.t4``: first bit in the MSB) go as they are;
HDLC frame octets (``faxengine.t30.frames``: first bit in the LSB) are
bit-reversed here, once each way (``hdlc_octets``).

Receive (``IfpHsReceiver``): the terminal's high-speed receiver for one
(modem, rate), with the interface of ``t30.link.HsReceiver`` that the T.30
engine uses (``receiving``, ``frames``, ``decoder``, ``end()``,
``poor_share``) fed from IFP data instead of a demodulator.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.t30 import link
from faxengine.t30.errors import RemoteProtocolError
from faxengine.t30.facilities import V17, V27TER, V29
from faxengine.t38.ifp import Data, Field, FieldType, IfpPacket, Indicator, T30Data, T30Indicator

CHUNK_MS = 30                   # line time per data packet (spandsp's MS_PER_TX_CHUNK)
IFP_OVERHEAD = 8                # octets of an IFP data packet besides its field data
SILENCE_75MS = link.SILENCE_75MS
V21_PREAMBLE_S = 1.0            # T.30 §5.3.1: 1 s +- 15 % of flags before the first frame
V21_RATE = 300
FCS_BITS = 16 + 8 + 8           # FCS, a closing flag and room for bit stuffing
CED_SILENCE = int(0.2 * SAMPLE_RATE)    # V.25 / T.30 §4.2: silence before CED (and CNG)
CED_SAMPLES = int(2.6 * SAMPLE_RATE)    # T.30 §4.2: CED lasts 2.6 to 4 s

NO_SIGNAL = Indicator(T30Indicator.NO_SIGNAL)
MAX_FRAME = 260                 # octets of a T.30 frame without FCS (as HdlcRx's max_len)
MAX_SIGNAL_OCTETS = 1 << 21     # non-ECM data in one signal: 2 MiB, 19 min at 14400 bit/s

# (modem, rate) -> the T.38 data type and training indicators (long, short)
_HS: dict[tuple[str, int], tuple[T30Data, T30Indicator, T30Indicator]] = {}
for _rate in (7200, 9600, 12000, 14400):
    _HS[V17, _rate] = (T30Data[f"V17_{_rate}"], T30Indicator[f"V17_{_rate}_LONG_TRAINING"],
                       T30Indicator[f"V17_{_rate}_SHORT_TRAINING"])
for _rate in (7200, 9600):
    _HS[V29, _rate] = (T30Data[f"V29_{_rate}"],) + (T30Indicator[f"V29_{_rate}_TRAINING"],) * 2
for _rate in (2400, 4800):
    _HS[V27TER, _rate] = (T30Data[f"V27_{_rate}"],) + (T30Indicator[f"V27_{_rate}_TRAINING"],) * 2
MODE_OF_DATA = {kind: mode for mode, (kind, _, _) in _HS.items()}
TRAINING_INDICATORS = frozenset(i for _, long, short in _HS.values() for i in (long, short))

_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def hdlc_octets(data: bytes) -> bytes:
    """HDLC frame octets between ``t30.frames`` (first bit in the LSB) and T.38
    field data (first bit in the MSB): each octet bit-reversed (its own inverse)."""
    return bytes(data).translate(_REVERSED)


def add_octets(frame: bytearray, data: bytes) -> None:
    """Append ``hdlc-data`` octets to the frame coming in, up to one octet more
    than ``MAX_FRAME`` (a longer frame is no T.30 frame: it is not taken, as an
    HDLC receiver drops one longer than its ``max_len``)."""
    frame += data[:MAX_FRAME + 1 - len(frame)]


def data_kind(modem: str, rate: int) -> T30Data:
    """The ``t30-data`` type of an image modem at ``rate``."""
    return _HS[modem, rate][0]


def chunk_octets(rate: int, max_datagram: int) -> int:
    """Octets of data per packet: ``CHUNK_MS`` of line time at ``rate``, at
    least one, and no more than a packet of ``max_datagram`` octets holds."""
    return max(1, min(rate * CHUNK_MS // 8000, max_datagram - IFP_OVERHEAD))


class IfpSignal:
    """One transmission as IFP packets, each at its time.

    ``steps`` yields ``(offset, packet)`` with ``offset`` in samples from the
    signal's start, never decreasing, and ends with ``(offset, None)``: the
    signal's end.  ``take(until)`` returns the packets due before sample
    ``until`` (line time); ``done`` and ``end`` say whether and when the
    signal ended.  ``size`` estimates its samples and ``fraction`` the share
    gone (progress, as ``t30.link.HsSignal``).
    """

    def __init__(self, steps: Iterator[tuple[int, IfpPacket | None]], size: int = 0) -> None:
        self._steps = steps
        self._next = next(steps, None)
        self.start: int | None = None
        self.end: int | None = None
        self.size = max(size, 1)
        self._last = 0

    @property
    def done(self) -> bool:
        return self.end is not None

    @property
    def fraction(self) -> float:
        return 1.0 if self.done else min(self._last / self.size, 0.99)

    def take(self, until: int) -> list[IfpPacket]:
        out = []
        while self._next is not None:
            offset, packet = self._next
            if self.start + offset >= until:
                break
            self._last = offset
            if packet is None:
                self.end = self.start + offset
                self._next = None
                break
            out.append(packet)
            self._next = next(self._steps, None)
        return out


def _samples(bits: int, rate: int) -> int:
    """Line time of ``bits`` at ``rate`` bit/s, in samples."""
    return bits * SAMPLE_RATE // rate


def tone_signal(indicator: T30Indicator, duration: int) -> IfpSignal:
    """CED or CNG: 0.2 s of silence, the indicator, ``duration`` samples of the tone."""
    def steps():
        yield CED_SILENCE, Indicator(indicator)
        yield CED_SILENCE + duration, None
    return IfpSignal(steps(), CED_SILENCE + duration)


def quiet_signal(duration: int) -> IfpSignal:
    """``duration`` samples of line time with nothing on the wire (localTCF's
    TCF: the time passes as on a line, the packets stay at home)."""
    def steps():
        yield duration, None
    return IfpSignal(steps(), duration)


def _hdlc_steps(kind: T30Data, rate: int, frames: Iterable[bytes], start: int,
                per_packet: int) -> Iterator[tuple[int, IfpPacket | None]]:
    """HDLC frames (``t30.frames`` octets) from sample ``start`` on, paced at
    ``rate``: data packets, then FCS OK (the last one with sig-end)."""
    frames = list(frames)
    bits = 0
    for i, frame in enumerate(frames):
        octets = hdlc_octets(frame)
        for at in range(0, len(octets), per_packet):
            piece = octets[at:at + per_packet]
            yield start + _samples(bits, rate), Data(kind, (Field(FieldType.HDLC_DATA, piece),))
            bits += 8 * len(piece)
        if i < len(frames) - 1:
            yield start + _samples(bits, rate), Data(kind, (Field(FieldType.HDLC_FCS_OK),))
            bits += FCS_BITS
    # the signal ends once the last FCS and flag have gone: the peer may answer
    # 75 ms later (T.30 §5.3.2.3), so nothing of ours may follow the sig-end
    bits += FCS_BITS
    yield start + _samples(bits, rate), Data(kind, (Field(FieldType.HDLC_FCS_OK_SIG_END),))
    yield start + _samples(bits, rate), NO_SIGNAL
    yield start + _samples(bits, rate), None


def v21_signal(frames: Iterable[bytes], max_datagram: int) -> IfpSignal:
    """V.21 frames: 75 ms, ``v21-preamble``, 1 s of flags, the frames."""
    frames = list(frames)
    start = SILENCE_75MS + int(V21_PREAMBLE_S * SAMPLE_RATE)

    def steps():
        yield SILENCE_75MS, Indicator(T30Indicator.V21_PREAMBLE)
        yield from _hdlc_steps(T30Data.V21, V21_RATE, frames, start,
                               chunk_octets(V21_RATE, max_datagram))
    nbits = sum(8 * len(f) + FCS_BITS for f in frames)
    return IfpSignal(steps(), start + _samples(nbits, V21_RATE))


def _training(modem: str, rate: int, short_train: bool) -> tuple[T30Indicator, int]:
    """The training indicator and the samples until the first data bit."""
    _, long, short = _HS[modem, rate]
    if modem == V17 and short_train:
        return short, 0
    return long, int(link.TRAINING_S[modem, rate] * SAMPLE_RATE)


def non_ecm_signal(modem: str, rate: int, pieces: Iterable[bytes], nbits: int,
                   short_train: bool, max_datagram: int) -> IfpSignal:
    """TCF or a non-ECM page: the training, then the octets of ``pieces``
    (coded as they are wanted) as ``t4-non-ecm-data``, the signal's end."""
    kind = data_kind(modem, rate)
    indicator, train = _training(modem, rate, short_train)
    per_packet = chunk_octets(rate, max_datagram)
    start = SILENCE_75MS + train

    def steps():
        yield SILENCE_75MS, Indicator(indicator)
        held, bits = b"", 0
        for piece in pieces:
            held += piece               # (what is held is shorter than a packet)
            pos = 0
            while len(held) - pos >= per_packet:
                chunk = held[pos:pos + per_packet]
                pos += per_packet
                yield start + _samples(bits, rate), Data(kind, (Field(FieldType.T4_NON_ECM_DATA,
                                                                      chunk),))
                bits += 8 * per_packet
            held = held[pos:]
        if held:
            yield start + _samples(bits, rate), Data(kind, (Field(FieldType.T4_NON_ECM_DATA,
                                                                  held),))
            bits += 8 * len(held)
        end = start + _samples(bits, rate)
        yield end, Data(kind, (Field(FieldType.T4_NON_ECM_SIG_END),))
        yield end, NO_SIGNAL
        yield end, None
    return IfpSignal(steps(), start + _samples(nbits, rate))


def octet_pieces(bit_pieces: Iterable[np.ndarray]) -> Iterator[bytes]:
    """Bit arrays (as ``t30.link.page_bits`` yields them, any length) as whole
    octets, first bit in the MSB; the last octet padded with zeros."""
    held = np.zeros(0, np.uint8)
    for bits in bit_pieces:
        held = np.concatenate([held, np.asarray(bits, np.uint8)])
        whole = held.size - held.size % 8
        if whole:
            yield np.packbits(held[:whole]).tobytes()
            held = held[whole:]
    if held.size:
        yield np.packbits(held).tobytes()


def ecm_signal(modem: str, rate: int, frames: Iterable[bytes], short_train: bool,
               max_datagram: int) -> IfpSignal:
    """An ECM block's frames (FCD, RCP) at the image rate, after the training
    and ``HS_PREAMBLE_FLAGS`` flags (T.30 §A.3)."""
    frames = list(frames)
    indicator, train = _training(modem, rate, short_train)
    start = SILENCE_75MS + train + _samples(8 * link.HS_PREAMBLE_FLAGS, rate)

    def steps():
        yield SILENCE_75MS, Indicator(indicator)
        yield from _hdlc_steps(data_kind(modem, rate), rate, frames, start,
                               chunk_octets(rate, max_datagram))
    nbits = sum(8 * len(f) + FCS_BITS for f in frames)
    return IfpSignal(steps(), start + _samples(nbits, rate))


class IfpHsReceiver:
    """The high-speed receiver of a T.38 terminal for one (modem, rate).

    The same interface as ``t30.link.HsReceiver`` where the T.30 engine uses
    it, fed from IFP packets: ``start()`` when the training indicator (or the
    first data) comes, ``octets(data)`` for non-ECM data, ``hdlc(field)`` for
    the HDLC fields of ECM frames, ``lost(n)`` for IFP packets the transport
    lost, ``end()`` when the signal ends (sig-end, ``no-signal``, or the
    terminal gives up on it).  The bits of a non-ECM signal go to
    ``decoder`` (a ``t30.link.PageDecoder``, set by the terminal) as they
    come; good ECM frames (no octet lost, FCS reported OK) collect in
    ``frames`` once ``collect_frames()`` was called.
    """

    def __init__(self, modem: str, rate: int) -> None:
        self.modem, self.rate = modem, rate
        self.kind = data_kind(modem, rate)
        self._pieces: list[np.ndarray] = []
        self._count = 0
        self._active = False
        self._collect = False
        self._frame = bytearray()
        self._missing = False
        self._lost: list[int] = []              # bit positions where packets were lost
        self._last_lost: tuple[list[int], int] = ([], 0)
        self._lost_bits = 0                     # estimate of one lost packet's bits
        self.frames: list[bytes] = []
        self.decoder: link.PageDecoder | None = None
        self.last_decoder: link.PageDecoder | None = None
        self.signals = 0

    def collect_frames(self) -> None:
        """From now on, keep the ECM frames that come."""
        self._collect = True

    @property
    def receiving(self) -> bool:
        """True while a signal comes in (between its training and its end)."""
        return self._active

    @property
    def carrier_present(self) -> bool:
        return self._active

    def start(self) -> None:
        self._active = True

    def octets(self, data: bytes) -> None:
        """Non-ECM data (first bit in the MSB): the signal's next bits."""
        self._active = True
        if not data:
            return
        if (self._count + 8 * len(data)) // 8 > MAX_SIGNAL_OCTETS:
            raise RemoteProtocolError(
                f"the remote sent more than {MAX_SIGNAL_OCTETS} octets of image data in one "
                f"signal ({self.modem} {self.rate}), over 19 minutes of line time: it is not "
                "sending a fax page")
        bits = np.unpackbits(np.frombuffer(data, np.uint8))
        self._lost_bits = bits.size
        self._pieces.append(bits)
        self._count += bits.size
        if self.decoder is not None:
            self.decoder.add(bits)

    def hdlc(self, field: Field) -> None:
        """An HDLC field of an ECM frame (T.38 §7.4)."""
        self._active = True
        kind = field.kind
        if kind is FieldType.HDLC_DATA:
            add_octets(self._frame, field.data)
            return
        if kind in (FieldType.HDLC_FCS_OK, FieldType.HDLC_FCS_OK_SIG_END):
            if self._frame and self._collect and not self._missing and len(self._frame) <= MAX_FRAME:
                self.frames.append(hdlc_octets(bytes(self._frame)))
        if kind is not FieldType.HDLC_SIG_END:
            self._frame.clear()
            self._missing = False

    def lost(self, n: int) -> None:
        """``n`` IFP packets that never came: the ECM frame in progress is
        spoilt, and a non-ECM page has a hole (its lines there count as bad)."""
        self._missing = True
        self._lost.extend([self._count] * n)

    def poor_share(self, start: int, stop: int) -> tuple[float, float]:
        """For the last ended signal, between its bits ``start`` and ``stop``:
        the share of it estimated lost (packets lost there, at the size of the
        packets around them), and the share of the largest hole."""
        where, size = self._last_lost
        holes = [p for p in where if p <= stop]     # (a hole before the first EOL lost lines too)
        if not holes or stop <= start:
            return 0.0, 0.0
        total = stop - start + len(holes) * size
        longest = max(holes.count(p) for p in set(holes)) * size
        return min(len(holes) * size / total, 1.0), min(longest / total, 1.0)

    def bits(self) -> np.ndarray:
        """The bits of the signal in progress."""
        return np.concatenate(self._pieces) if self._pieces else np.zeros(0, np.uint8)

    def end(self) -> np.ndarray:
        """End the signal in progress; its bits."""
        bits = self.bits()
        self._pieces, self._count, self._active = [], 0, False
        self._last_lost, self._lost = (self._lost, self._lost_bits), []
        self._frame.clear()
        self._missing = False
        self.last_decoder, self.decoder = self.decoder, None
        self.signals += 1
        return bits
