"""FaxTerminal is not confused by its own echo at 10 dB return loss.

A 2-wire/4-wire hybrid sends part of what a terminal transmits back to it:
here each terminal hears, added to the far end's signal, its own signal
10 dB down and 0-60 ms late (a near hybrid to a long trunk).  T.30 is half
duplex, so the echo mostly arrives while the terminal is still sending (it
is deaf then), but its tail follows each transmission: the terminal must
not take its own frames' last flags for the far end, nor wait on a carrier
its own echo holds.  Both ends echo, with and without ECM, in both roles.
"""
from __future__ import annotations

import numpy as np
import pytest

from faxengine.line import Line
from faxengine.t30.events import FrameReceived, FrameSent, PageReceived
from faxengine.t30.link import TX_POWER_DBM0
from faxengine.t30.terminal import FaxTerminal
from test_terminal import text_page

RETURN_LOSS_DB = 10.0


class Echo:
    """A terminal's own signal, ``delay_ms`` late and ``RETURN_LOSS_DB`` down."""

    def __init__(self, delay_ms: float) -> None:
        self.pending = np.zeros(int(delay_ms * 8), np.float64)
        self.gain = 10.0 ** (-RETURN_LOSS_DB / 20.0)

    def __call__(self, own: np.ndarray) -> np.ndarray:
        line = np.concatenate([self.pending, own * self.gain])
        out, self.pending = line[:own.size], line[own.size:]
        return out


def echoed_call(a, b, delay_ms, lines=(None, None), max_seconds=200):
    """Pump two terminals; each hears the other plus its own echo (then its
    line model, if any: G.711 and noise come after the hybrid)."""
    echo_a, echo_b = Echo(delay_ms), Echo(delay_ms)
    for _ in range(int(max_seconds * 8000 / 160)):
        if a.finished and b.finished:
            break
        sa, sb = a.tx(160), b.tx(160)
        heard_b = np.clip(np.rint(sa + echo_b(sb)), -32768, 32767).astype(np.int16)
        heard_a = np.clip(np.rint(sb + echo_a(sa)), -32768, 32767).astype(np.int16)
        b.rx(heard_b if lines[1] is None else lines[1].process(heard_b))
        a.rx(heard_a if lines[0] is None else lines[0].process(heard_a))


@pytest.mark.parametrize("calling_sends", [True, False], ids=["caller-sends", "polled"])
@pytest.mark.parametrize("delay_ms, line", [(0, None), (1, None), (20, None), (60, None),
                                            (60, "alaw-30dB")])
@pytest.mark.parametrize("ecm", [False, True], ids=["non-ecm", "ecm"])
def test_a_call_with_echo_on_both_ends_succeeds(ecm, delay_ms, line, calling_sends):
    pages = [text_page(1, rows=300), text_page(2, rows=200)]
    sender = FaxTerminal(calling_sends, send=pages, ecm=ecm)
    receiver = FaxTerminal(not calling_sends, ecm=ecm)
    caller, answerer = (sender, receiver) if calling_sends else (receiver, sender)
    lines = (None, None)
    if line is not None:            # G.711 A-law, white noise 30 dB under the signal
        lines = tuple(Line(g711="alaw", noise_dbm0=TX_POWER_DBM0 - 30.0, seed=seed)
                      for seed in (1, 2))
    echoed_call(caller, answerer, delay_ms, lines)
    assert sender.result.ok and receiver.result.ok, (sender.result, receiver.result)
    assert sender.result.pages == receiver.result.pages == 2
    assert sender.result.bit_rate == 14400          # the echo cost no fallback
    s_events, r_events = sender.events(), receiver.events()
    got = [e.image for e in r_events if isinstance(e, PageReceived)]
    assert all(np.array_equal(a, p.image) for a, p in zip(got, pages, strict=True))
    # each heard exactly the frames the other sent: none of its own came back
    # as the far end's, and none had to be repeated
    for a, b in ((s_events, r_events), (r_events, s_events)):
        sent = [e.name for e in a if isinstance(e, FrameSent)]
        heard = [e.name for e in b if isinstance(e, FrameReceived)]
        assert heard == sent[:len(heard)] and len(sent) - len(heard) <= 1     # DCN at the end
