"""Local TCF in ``faxengine.t38.gateway.T38Gateway``: T.38 §8.1, data rate
management method 1 (SDP ``T38FaxRateManagement:localTCF``).

With transferred TCF (§8.2, method 2) the TCF crosses the network as data
and the far terminal judges it.  With local TCF no TCF goes over IP: each
gateway trains its own audio line, and the rate is managed from the results
of both.  ``LocalTcf`` is the gateway's part of that, one side of the call
at a time:

* **The audio side sends** (DCS and TCF come from our fax machine: the
  gateway is the emitting gateway).  The TCF is demodulated as ever, but
  judged here (``t30.quality.judge_tcf``, as our terminal judges one) and
  not sent on: no training indicator, no data.  The far end answers the DCS
  with CFR when a TCF would have ended (a localTCF T.38 terminal, or the
  receiving gateway after its own local TCF); that CFR goes on to the fax
  machine only if the local TCF was good.  A bad one turns it into FTT, so
  the sender falls back a rate and trains again, as over a line (§8.1: the
  emitting gateway decides from both results).
* **The T.38 side sends** (DCS comes over IP, and no TCF after it: the
  gateway is the receiving gateway).  Once the DCS's V.21 signal has been
  played, the gateway plays a TCF itself (``tcf_bits`` zeros at the DCS's
  modem and rate, long training, 75 ms after the DCS, T.30 §5.3.2.2) and
  the fax machine's CFR or FTT goes back over IP as any frame.  A
  high-speed signal from the T.38 side between the DCS and the fax
  machine's CFR is the image sent without waiting for CFR (spandsp's T.38
  terminal in its no-TCF mode does that): it is held, not played over the
  CFR, until the CFR has passed (dropped on FTT or a new DCS), and that
  CFR is not sent to a T.38 side that did not wait for it (there it would
  be an invalid response to its page).
"""
from __future__ import annotations

import numpy as np

from faxengine.t30.frames import Fcf, Frame
from faxengine.t30.quality import judge_tcf, tcf_bits
from faxengine.t38.sdp import RATE_MANAGEMENT       # T.38 Annex D T38FaxRateManagement

__all__ = ["LocalTcf", "RATE_MANAGEMENT"]


class LocalTcf:
    """What local TCF needs to remember (see the module docstring).

    Args:
        enabled: the T.38 side negotiated ``localTCF``.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.verdict: bool | None = None        # the audio side's last TCF: good?
        self.checked = 0                        # TCFs judged here
        self.generated = 0                      # TCFs played to the audio side
        self.to_play: tuple[str, int] | None = None  # (modem, rate) once the DCS has played
        self._bits: list[np.ndarray] = []
        self._rate = 0

    def new_dcs(self, direction: str, mode: tuple[str, int] | None) -> None:
        """A DCS passed ``direction``: forget the last verdict; from the T.38
        side, a TCF is to be played after it."""
        self.verdict = None
        self.to_play = mode if (self.enabled and direction == "t38->audio") else None

    # -- the audio side sends ---------------------------------------------------
    def start_check(self, rate: int) -> None:
        """The audio side's TCF began (its receiver trained)."""
        self._bits, self._rate = [], rate

    def add(self, bits: np.ndarray) -> None:
        self._bits.append(bits)

    def finish_check(self) -> bool:
        """The TCF ended: judged; True when good."""
        bits = np.concatenate(self._bits) if self._bits else np.zeros(0, np.uint8)
        self._bits = []
        self.verdict = judge_tcf(bits, self._rate)
        self.checked += 1
        return self.verdict

    def answer(self, frame: Frame) -> Frame:
        """The far end's answer to the DCS, on its way to the audio side: CFR
        becomes FTT when the local TCF was bad."""
        if frame.fcf is Fcf.CFR and self.verdict is False:
            return Frame(Fcf.FTT, b"", frame.final)
        return frame

    # -- the T.38 side sends ----------------------------------------------------
    def take_tcf(self) -> tuple[str, int, np.ndarray] | None:
        """The TCF to play now that the DCS has played: (modem, rate, zeros),
        or None when none is due."""
        if self.to_play is None:
            return None
        modem, rate = self.to_play
        self.to_play = None
        self.generated += 1
        return modem, rate, np.zeros(tcf_bits(rate), np.uint8)
