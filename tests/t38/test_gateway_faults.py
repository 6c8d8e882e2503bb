"""T38Gateway when the network or a terminal misbehaves.

UDPTL with 5 % of the datagrams lost each way and redundancy 3 (an ECM call
completes, pixel-equal); IFP packets lost in the middle of a page (ECM
repairs them; without ECM the call still ends cleanly); garbage on the IFP
side; an audio side that is silent or falls silent mid-call; wrong
arguments.  Never an exception from inside, never a hang: the gateway and
both terminals end with a result.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from faxengine import FaxTerminal
from faxengine.t38 import ifp
from faxengine.t38.errors import T38Error
from faxengine.t38.gateway import T38Gateway
from faxengine.t38.ifp import Data, Field, FieldType, Indicator, T30Data, T30Indicator
from faxengine.t38.terminal import T38Terminal
from gateway_pump import pump_gateway
from t38_pump import Lost, UdptlWire, received_images, text_page


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-sends", "t38-sends"])
def test_ecm_call_through_udptl_with_5_percent_loss(audio_sends, seed):
    pages = [text_page(40), text_page(41)]
    if audio_sends:
        audio, t38 = FaxTerminal(True, send=pages, ecm=True), T38Terminal(False, ecm=True)
    else:
        t38, audio = T38Terminal(True, send=pages, ecm=True), FaxTerminal(False, ecm=True)
    to_t38, to_gw = UdptlWire(0.05, seed=10 * seed), UdptlWire(0.05, seed=10 * seed + 1)
    gw = T38Gateway()
    pump_gateway(audio, gw, t38, to_t38, to_gw)
    assert to_t38.dropped > 0 and to_gw.dropped > 0
    assert audio.result.ok and t38.result.ok and gw.result.ok, (audio.result, t38.result)
    got = received_images((t38 if audio_sends else audio).events())
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages, strict=True))


class DropImage:
    """Loses image-data packets ``first`` to ``last`` (counted from the call's
    first high-speed data packet), reported as ``Lost(1)`` each."""

    def __init__(self, first: int = 10, last: int = 25) -> None:
        self.first, self.last, self.count = first, last, 0

    def __call__(self, packets):
        out = []
        for p in packets:
            if isinstance(p, Data) and p.kind is not T30Data.V21:
                self.count += 1
                if self.first <= self.count <= self.last:
                    out.append(Lost(1))
                    continue
            out.append(p)
        return out


@pytest.mark.parametrize("direction", ["to-audio", "to-t38"])
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
def test_packets_lost_mid_page(ecm, direction):
    """16 image packets lost in a row: ECM asks again and the page arrives
    whole; without ECM the lines hit are bad and the call still ends with a
    result on all three, never an exception."""
    pages = [text_page(50)]
    audio_sends = direction == "to-t38"
    if audio_sends:
        audio, t38 = FaxTerminal(True, send=pages, ecm=ecm), T38Terminal(False, ecm=ecm)
        links = (DropImage(), None)
    else:
        t38, audio = T38Terminal(True, send=pages, ecm=ecm), FaxTerminal(False, ecm=ecm)
        links = (None, DropImage())
    gw = T38Gateway()
    pump_gateway(audio, gw, t38, *links, max_seconds=200)
    assert audio.finished and t38.finished and gw.finished
    if ecm:
        assert audio.result.ok and t38.result.ok and gw.result.ok
        got = received_images((t38 if audio_sends else audio).events())
        assert np.array_equal(got[0], pages[0].image)
    else:
        assert audio.result.code == t38.result.code


class Garbage:
    """Every ``every``-th step adds a packet of garbage: random octets (what
    decodes is delivered, what does not is reported lost, as UDPTL does) or
    a well-formed packet of a random kind with random field data."""

    def __init__(self, seed: int, every: int = 25) -> None:
        self.rng, self.every, self.step, self.decoded = random.Random(seed), every, 0, 0

    def _packet(self):
        rng = self.rng
        if rng.random() < 0.3:
            return Indicator(rng.choice(list(T30Indicator)))
        fields = tuple(Field(rng.choice(list(FieldType)[:8]), rng.randbytes(rng.randrange(0, 60)))
                       for _ in range(rng.randrange(1, 4)))
        return Data(rng.choice(list(T30Data)), fields)

    def __call__(self, packets):
        self.step += 1
        out = list(packets)
        if self.step % self.every == 0:
            if self.rng.random() < 0.5:
                out.append(self._packet())
                self.decoded += 1
                return out
            octets = self.rng.randbytes(self.rng.randrange(1, 12))
            try:
                out.append(ifp.decode(octets, 0))
                self.decoded += 1
            except T38Error:
                out.append(Lost(1))
        return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_garbage_ifp_never_raises(seed):
    pages = [text_page(60)]
    t38, audio = T38Terminal(True, send=pages, ecm=True), FaxTerminal(False, ecm=True)
    gw = T38Gateway()
    garbage = Garbage(seed)
    seconds = pump_gateway(audio, gw, t38, None, garbage, max_seconds=200, linger_s=65)
    assert garbage.decoded > 10
    assert audio.finished and t38.finished and gw.finished, seconds
    assert gw.result.ok == (audio.result.ok and t38.result.ok)
    assert gw.packets_bad > 0


class Silent:
    """An audio line with nobody on it."""
    finished = True

    def tx(self, n):
        return np.zeros(n, np.int16)

    def rx(self, samples):
        pass


def test_nobody_on_the_audio_side():
    """A T.38 caller, silence on the audio side: the caller gives up (T1),
    the gateway ends with NO_SIGNAL when no frame has passed for IDLE_S."""
    t38 = T38Terminal(True, send=[text_page(70)], ecm=True)
    gw = T38Gateway()
    pump_gateway(Silent(), gw, t38, max_seconds=120, linger_s=60)
    assert t38.result.code == "NO_ANSWER"
    assert gw.result.code == "NO_SIGNAL" and not gw.result.ok
    assert gw.result.message == "no T.30 frame passed either way for 60 s: the call is gone"


class FallsSilent:
    """An audio terminal that goes dead ``after`` seconds into the call."""

    def __init__(self, terminal, after: float) -> None:
        self.terminal, self.left = terminal, int(after * 8000)

    @property
    def finished(self):
        return self.left <= 0 or self.terminal.finished

    def tx(self, n):
        self.left -= n
        return self.terminal.tx(n) if self.left > 0 else np.zeros(n, np.int16)

    def rx(self, samples):
        if self.left > 0:
            self.terminal.rx(samples)


def test_audio_side_falls_silent_mid_call():
    """The audio receiver dies after its CFR: the T.38 sender gets no answer
    to its page, hangs up (DCN through the gateway), the gateway says the
    call failed."""
    t38 = T38Terminal(True, send=[text_page(71)], ecm=False)
    audio = FallsSilent(FaxTerminal(False, ecm=False), after=11.0)
    gw = T38Gateway()
    pump_gateway(audio, gw, t38, max_seconds=120, linger_s=5)
    assert t38.result.code == "TIMEOUT_T4", t38.result
    assert gw.result.code == "CALL_FAILED"
    assert [f.name for _, f in gw.frames][-1] == "DCN"


def test_wrong_arguments():
    gw = T38Gateway()
    with pytest.raises(T38Error) as e:
        gw.rx_ifp(b"\x00\x01")
    assert str(e.value) == ("rx_ifp takes an IFP packet (Indicator or Data, see "
                            "faxengine.t38.ifp.decode), not bytes")
    with pytest.raises(T38Error) as e:
        gw.rx_lost(-1)
    assert str(e.value) == "rx_lost takes a count of IFP packets (int >= 0), not -1"
    with pytest.raises(T38Error) as e:
        gw.rx_audio(np.zeros(160, np.float32))
    assert str(e.value).startswith("rx_audio takes int16 samples (8000/s, mono), not float32")
    with pytest.raises(T38Error) as e:
        gw.tx_audio(-1)
    assert str(e.value) == "tx_audio(n) takes a whole number of samples >= 0 (160 is 20 ms), not -1"
    with pytest.raises(T38Error) as e:
        T38Gateway(version=4)
    assert str(e.value) == "version must be a T38FaxVersion, one of (0, 1, 2, 3), not 4"
    with pytest.raises(T38Error):
        T38Gateway(max_datagram=3)
    assert gw.tx_audio(0).size == 0 and gw.tx_ifp() == [] and not gw.finished


def test_a_flood_from_the_t38_side_is_cut():
    """A peer sending non-ECM data far faster than the line plays, and a
    storm of indicators: bounded queues (``dropped``), no hang, quick."""
    gw = T38Gateway()
    gw.rx_ifp(Indicator(T30Indicator.V17_14400_LONG_TRAINING))
    for _ in range(1000):               # 3.2 Mbit: 222 s of line time at 14400
        gw.rx_ifp(Data(T30Data.V17_14400, (Field(FieldType.T4_NON_ECM_DATA, b"\x55" * 400),)))
    assert gw.dropped > 0
    for _ in range(1000):
        gw.rx_ifp(Indicator(T30Indicator.V21_PREAMBLE))
        gw.rx_ifp(Indicator(T30Indicator.V29_9600_TRAINING))
    assert gw.dropped > 1000
    assert all(gw.tx_audio(160).size == 160 for _ in range(50))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 13))
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-sends", "t38-sends"])
def test_udptl_loss_sweep(audio_sends, ecm, seed):
    """10 more loss patterns each way (slow): ECM calls OK and pixel-equal;
    non-ECM calls end OK (lost packets make bad lines, not failures)."""
    pages = [text_page(90), text_page(91), text_page(92)]
    if audio_sends:
        audio, t38 = FaxTerminal(True, send=pages, ecm=ecm), T38Terminal(False, ecm=ecm)
    else:
        t38, audio = T38Terminal(True, send=pages, ecm=ecm), FaxTerminal(False, ecm=ecm)
    gw = T38Gateway()
    pump_gateway(audio, gw, t38, UdptlWire(0.05, seed=10 * seed), UdptlWire(0.05, seed=10 * seed + 1))
    assert audio.result.ok and t38.result.ok and gw.result.ok, (audio.result, t38.result)
    if ecm:
        got = received_images((t38 if audio_sends else audio).events())
        assert all(np.array_equal(g, p.image) for g, p in zip(got, pages, strict=True))
