"""An audio fax terminal, a ``T38Gateway`` and a T.38 terminal, in blocks of time.

``pump_gateway(audio, gw, t38)`` steps everything 20 ms at a time: the audio
terminal's samples into the gateway and the gateway's back (a direct line),
the gateway's IFP packets to the T.38 terminal and the T.38 terminal's to
the gateway, each through an optional link (``t38_pump``'s ``LossyWire``,
``UdptlWire``, or ``Bursty`` here: a network that stalls), and the audio
leg through optional line models.  Any audio terminal with ``tx(n)``,
``rx(samples)``, ``finished`` (ours or spandsp's) and any T.38 terminal of
``t38_pump``'s shape run in it.
"""
from __future__ import annotations

from t38_pump import Lost


def _deliver(packets, link, rx, rx_lost):
    for p in (link(packets) if link is not None else packets):
        if isinstance(p, Lost):
            rx_lost(p.n)
        else:
            rx(p)


def pump_gateway(audio, gw, t38, to_t38=None, to_gw=None, block: int = 160,
                 max_seconds: float = 300.0, linger_s: float = 3.0, line_to_gw=None,
                 line_to_audio=None) -> float:
    """Run the call; the line time in seconds.  Stops ``linger_s`` after both
    terminals finished (the gateway sees the DCN pass), or at ``max_seconds``.
    ``line_to_gw``, ``line_to_audio``: line models (``faxengine.line.Line``,
    anything with ``process(samples)``) on the audio leg, each way."""
    def through(line, samples):
        return samples if line is None else line.process(samples)

    t, limit, done_at = 0, int(max_seconds * 8000), None
    while t < limit:
        if done_at is None and audio.finished and t38.finished:
            done_at = t
        if done_at is not None and (gw.finished or t - done_at >= linger_s * 8000):
            break
        gw.rx_audio(through(line_to_gw, audio.tx(block)))
        audio.rx(through(line_to_audio, gw.tx_audio(block)))
        _deliver(gw.tx_ifp(), to_t38, t38.rx, t38.rx_lost)
        _deliver(t38.tx(block), to_gw, gw.rx_ifp, gw.rx_lost)
        t += block
    return t / 8000


class Bursty:
    """A link that holds every packet for ``hold`` steps out of each
    ``period`` (the network stalls), then delivers them all at once, in order."""

    def __init__(self, period: int = 25, hold: int = 10) -> None:
        self.period, self.hold, self.step, self.held = period, hold, 0, []

    def __call__(self, packets):
        self.step += 1
        self.held += packets
        if self.step % self.period < self.hold:
            return []
        out, self.held = self.held, []
        return out
