"""libspandsp's T.38 terminal (``t38_terminal.c``), driven through ctypes in
the shape of ``faxengine.t38.terminal.T38Terminal``.

``spandsp_t38_terminal.c`` beside this file wraps one
``t38_terminal_state_t``; it is compiled on first use with ``gcc …
-lspandsp`` into ``build/spandsp_t38/libspandsp_t38_terminal.so`` by
``tests/spandsp``'s ``Shim``.  ``tx(n)`` lets ``n`` samples of
time pass (``t38_terminal_send_timeout``) and returns the IFP packets
spandsp sent meanwhile, decoded with ``faxengine.t38.ifp.decode``;
``rx(packet)`` encodes ours with ``ifp.encode`` and gives the octets to its
T.38 core with the next sequence number; ``rx_lost(n)`` skips ``n``
numbers, as a UDPTL receiver reports a hole.  ``raw`` keeps the octets
spandsp sent, for tests that look at the wire.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import spandsp    # tests/spandsp: Shim builds and loads a C harness
from faxengine.t38 import ifp

HERE = Path(__file__).resolve().parent


class _Report(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in (
        "done", "completion", "bit_rate", "ecm", "pages_tx", "pages_rx", "encoding",
        "bad_rows", "overflow")] + [("samples", ctypes.c_int64), ("done_sample", ctypes.c_int64)]


_p, _i, _s = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
SHIM = spandsp.Shim(HERE / "spandsp_t38_terminal.c", HERE.parent.parent / "build" /
                    "spandsp_t38" / "libspandsp_t38_terminal.so", {
                        "stt_new": (_p, [_i, _s, _s, _i, _i, _i, _i, _i]),
                        "stt_free": (None, [_p]),
                        "stt_step": (_i, [_p, _i]),
                        "stt_take": (_i, [_p, _p, _i, ctypes.POINTER(_i)]),
                        "stt_rx": (_i, [_p, _s, _i, _i]), "stt_report": (None, [_p, _p]),
                        "stt_completion_str": (_s, [_i]),
                        "stt_set_nsf": (_i, [_p, _s, _i]),
                        "stt_set_local_tcf": (None, [_p]),
                    }, header=Path("/usr/include/spandsp/t38_terminal.h"),
                    what="the spandsp T.38 terminal harness")
available = SHIM.available
__getattr__ = SHIM.module_getattr      # REASON: why it cannot be had


@dataclass(frozen=True)
class Result:
    """How spandsp's call ended (phase E), in its own terms."""
    ok: bool
    completion: int
    message: str
    pages_tx: int
    pages_rx: int
    bit_rate: int
    ecm: bool
    coding: str | None


class SpandspT38Terminal:
    """spandsp's T.38 terminal: ``tx(n)``, ``rx(packet)``, ``rx_lost(n)``,
    ``finished``, ``result`` (see the module docstring)."""

    def __init__(self, calling: bool, send=None, receive=None, ecm: bool = True,
                 modems=("v27ter", "v29", "v17"), codings=("mh", "mr", "mmr"),
                 version: int = 0, fill_bit_removal: bool = False) -> None:
        self._lib = SHIM.need()
        self.version = version
        modems = spandsp.support_mask(spandsp.FAX_MODEMS, modems, "modem")
        codings = spandsp.support_mask(spandsp.FAX_CODINGS, codings, "coding")
        self._h = self._lib.stt_new(int(calling), spandsp.fs_path(send), spandsp.fs_path(receive),
                                    int(ecm), modems, codings, version, int(fill_bit_removal))
        if not self._h:
            raise MemoryError("t38_terminal_init failed")
        self._seq = 0
        self._buf = ctypes.create_string_buffer(2048)
        self.raw: list[bytes] = []

    def __del__(self) -> None:
        if getattr(self, "_h", None):
            self._lib.stt_free(self._h)
            self._h = None

    def tx(self, n: int) -> list:
        self._lib.stt_step(self._h, n)
        out, count = [], ctypes.c_int()
        while (k := self._lib.stt_take(self._h, self._buf, len(self._buf),
                                       ctypes.byref(count))) >= 0:
            octets = self._buf.raw[:k]
            self.raw.append(octets)
            out.append(ifp.decode(octets, self.version))
        return out

    def set_nsf(self, fif: bytes) -> None:
        """Send this NSF (its FIF) before CSI and DIS when answering."""
        if self._lib.stt_set_nsf(self._h, fif, len(fif)) < 0:
            raise RuntimeError("t30_set_tx_nsf refused the NSF")

    def set_local_tcf(self) -> None:
        """localTCF as spandsp 0.0.6 has it: rate management method 1 and its
        T.30's no-TCF mode (no TCF sent; a sender does not wait for CFR)."""
        self._lib.stt_set_local_tcf(self._h)

    def rx(self, packet) -> None:
        octets = ifp.encode(packet, self.version)
        self._lib.stt_rx(self._h, octets, len(octets), self._seq & 0xFFFF)
        self._seq += 1

    def rx_lost(self, n: int) -> None:
        self._seq += n

    def _report(self) -> _Report:
        r = _Report()
        self._lib.stt_report(self._h, ctypes.byref(r))
        return r

    @property
    def finished(self) -> bool:
        return bool(self._report().done)

    @property
    def result(self) -> Result | None:
        r = self._report()
        if not r.done:
            return None
        return Result(ok=r.completion == 0, completion=r.completion,
                      message=self._lib.stt_completion_str(r.completion).decode(errors="replace"),
                      pages_tx=r.pages_tx, pages_rx=r.pages_rx, bit_rate=r.bit_rate,
                      ecm=bool(r.ecm), coding=spandsp.T4_ENCODINGS.get(r.encoding))
