"""libspandsp's T.38 gateway (``t38_gateway.c``), driven through ctypes in the
shape of ``faxengine.t38.gateway.T38Gateway``: ``rx_audio``, ``tx_audio``,
``tx_ifp``, ``rx_ifp``, ``rx_lost``.

``spandsp_t38_gateway.c`` beside this file wraps one ``t38_gateway_state_t``;
it is compiled on first use into ``build/spandsp_t38/libspandsp_t38_gateway.so``
by ``tests/spandsp``'s ``Shim``.  IFP octets cross with
``faxengine.t38.ifp`` (ours encoded for its core with the next sequence
number, its packets decoded).  spandsp's gateway has no end of call of its
own: ``finished`` is always False (the pump stops on the terminals).
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

import spandsp    # tests/spandsp: Shim builds and loads a C harness
from faxengine.t38 import ifp

HERE = Path(__file__).resolve().parent
_p, _i, _s = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
SHIM = spandsp.Shim(HERE / "spandsp_t38_gateway.c", HERE.parent.parent / "build" /
                    "spandsp_t38" / "libspandsp_t38_gateway.so", {
                        "sgw_new": (_p, [_i, _i]), "sgw_free": (None, [_p]),
                        "sgw_rx": (_i, [_p, _p, _i]), "sgw_tx": (_i, [_p, _p, _i]),
                        "sgw_take": (_i, [_p, _p, _i]), "sgw_rx_ifp": (_i, [_p, _s, _i, _i]),
                    }, header=Path("/usr/include/spandsp/t38_gateway.h"),
                    what="the spandsp T.38 gateway harness")
available = SHIM.available
__getattr__ = SHIM.module_getattr      # REASON: why it cannot be had


class SpandspT38Gateway:
    """spandsp's T.38 gateway in ``T38Gateway``'s shape (see the module docstring)."""

    finished = False

    def __init__(self, version: int = 0, ecm: bool = True) -> None:
        self._lib = SHIM.need()
        self.version = version
        self._h = self._lib.sgw_new(version, int(ecm))
        if not self._h:
            raise MemoryError("t38_gateway_init failed")
        self._seq = 0
        self._buf = ctypes.create_string_buffer(2048)
        self._out: list = []

    def __del__(self) -> None:
        if getattr(self, "_h", None):
            self._lib.sgw_free(self._h)
            self._h = None

    def _drain(self) -> None:
        while (k := self._lib.sgw_take(self._h, self._buf, len(self._buf))) >= 0:
            self._out.append(ifp.decode(self._buf.raw[:k], self.version))

    def rx_audio(self, samples) -> None:
        x = np.ascontiguousarray(samples, dtype=np.int16)
        self._lib.sgw_rx(self._h, x.ctypes.data, len(x))
        self._drain()

    def tx_audio(self, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.int16)
        self._lib.sgw_tx(self._h, out.ctypes.data, n)
        self._drain()
        return out

    def tx_ifp(self) -> list:
        out, self._out = self._out, []
        return out

    def rx_ifp(self, packet) -> None:
        octets = ifp.encode(packet, self.version)
        self._lib.sgw_rx_ifp(self._h, octets, len(octets), self._seq & 0xFFFF)
        self._seq += 1

    def rx_lost(self, n: int) -> None:
        self._seq += n
