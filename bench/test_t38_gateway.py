"""T.38 gateway CPU per call-second: ours against spandsp's ``t38_gateway``.

One round is a whole call, CCITT chart 1 at fine resolution, V.17 14400,
without ECM (MH), through the gateway: our audio ``FaxTerminal`` on one
side, our ``T38Terminal`` on the other (``tests/t38/gateway_pump``, 20 ms
steps, packets in memory).  Only the gateway's own calls are timed
(``rx_audio``, ``tx_audio``, ``tx_ifp``, ``rx_ifp``, ``rx_lost``), so the
terminals cost nothing here; spandsp's gateway (the ctypes shim
``tests/t38/spandsp_t38_gateway.py``, same process, same pump, its IFP octets
through ``faxengine.t38.ifp``) runs the same call.  Two groups: the audio
side sending (the gateway demodulates V.17) and the T.38 side sending (it
remodulates).  Rates are seconds of line time per second of gateway CPU,
best of 3 rounds; the ratio is ours / spandsp; the CPU per call-second is
1 / rate.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "t38"))

import spandsp_t38_gateway as spgw                          # noqa: E402
from faxengine import FaxTerminal                           # noqa: E402
from faxengine.t38.gateway import T38Gateway                # noqa: E402
from faxengine.t38.terminal import T38Terminal              # noqa: E402
from gateway_pump import pump_gateway                       # noqa: E402

pytestmark = pytest.mark.skipif(not spgw.available(), reason=spgw.REASON)

ROUNDS = 3


class Timed:
    """A gateway whose calls are timed (perf_counter, summed in ``seconds``)."""

    def __init__(self, gw) -> None:
        self.gw, self.seconds = gw, 0.0

    @property
    def finished(self):
        return self.gw.finished

    def _timed(name):
        def call(self, *args):
            t = time.perf_counter()
            try:
                return getattr(self.gw, name)(*args)
            finally:
                self.seconds += time.perf_counter() - t
        return call

    rx_audio, tx_audio, tx_ifp = _timed("rx_audio"), _timed("tx_audio"), _timed("tx_ifp")
    rx_ifp, rx_lost = _timed("rx_ifp"), _timed("rx_lost")


def one_call(contender, audio_sends, page):
    gw = Timed(T38Gateway() if contender == "ours" else spgw.SpandspT38Gateway())
    quiet = dict(on_event=lambda e: None)
    if audio_sends:
        audio = FaxTerminal(True, send=[page], ecm=False, **quiet)
        t38 = T38Terminal(False, ecm=False, **quiet)
    else:
        t38 = T38Terminal(True, send=[page], ecm=False, **quiet)
        audio = FaxTerminal(False, ecm=False, **quiet)
    line = pump_gateway(audio, gw, t38, max_seconds=120, linger_s=0.5)
    assert audio.result.ok and t38.result.ok, (contender, audio.result, t38.result)
    assert audio.result.bit_rate == 14400
    return line, gw.seconds


@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-sends", "t38-sends"])
@pytest.mark.parametrize("contender", ["ours", "spandsp"])
def test_gateway_cpu_per_call_second(speed, chart1, contender, audio_sends):
    group = f"t38 gateway {'demod' if audio_sends else 'remod'}"
    one_call(contender, audio_sends, chart1[0])         # warm-up
    runs = [one_call(contender, audio_sends, chart1[0]) for _ in range(ROUNDS)]
    line = runs[0][0]
    best = min(seconds for _, seconds in runs)
    speed.record(group, contender, line, best, ROUNDS, unit="x real time")
    print(f"\n{group}, {contender}: line time {line:.2f} s, gateway CPU {best * 1000:.1f} ms, "
          f"{1000 * best / line:.2f} ms per call-second ({line / best:.0f}x real time)")
