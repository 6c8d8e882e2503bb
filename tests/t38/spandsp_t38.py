"""libspandsp's T.38 core (``t38_core.c``), driven through ctypes.

``spandsp_t38.c`` beside this file wraps one ``t38_core_state_t`` as a
*peer*: what it sends (its tx packet handler) and what it reports when it
receives IFP octets (its rx indicator, data and missing handlers) are queued
in C and drained here.  It is compiled on first use with
``gcc … -lspandsp`` into ``build/spandsp_t38/libspandsp_t38.so`` by
``tests/spandsp``'s ``Shim`` (rebuilt when the source is newer).
Tests skip with :data:`REASON` when :func:`available` is false.

Codes are spandsp's: indicator, data type and field type numbers, which are
the ASN.1 enumeration indexes (``member.index`` in ``faxengine.t38.ifp``).
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import spandsp    # tests/spandsp: Shim builds and loads a C harness

HERE = Path(__file__).resolve().parent
_p, _i, _ip, _s = ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_char_p
SHIM = spandsp.Shim(HERE / "spandsp_t38.c", HERE.parent.parent / "build" / "spandsp_t38" /
                    "libspandsp_t38.so", {
                        "st_new": (_p, [_i, _i]), "st_free": (None, [_p]),
                        "st_send_indicator": (_i, [_p, _i]),
                        "st_send_data": (_i, [_p, _i, _ip, _ip, _s, _i]),
                        "st_take_tx": (_i, [_p, _p, _i]),
                        "st_rx": (_i, [_p, _s, _i, _i]),
                        "st_nevents": (_i, [_p]), "st_event": (_i, [_p, _i, _ip, _p, _i]),
                        "st_clear_events": (None, [_p]),
                    }, header=Path("/usr/include/spandsp/t38_core.h"),
                    what="the spandsp T.38 harness")
available = SHIM.available
__getattr__ = SHIM.module_getattr      # REASON: why it cannot be had


class Peer:
    """One spandsp T.38 core of a given T38FaxVersion; with ``check_seq`` it
    checks sequence numbers and reports gaps to its missing handler."""

    def __init__(self, version: int, check_seq: bool = False) -> None:
        self._lib = SHIM.need()
        self._p = self._lib.st_new(version, int(check_seq))
        if not self._p:
            raise MemoryError("st_new failed")

    def __del__(self) -> None:
        if getattr(self, "_p", None):
            self._lib.st_free(self._p)
            self._p = None

    def _take(self) -> list[bytes]:
        out, buf = [], ctypes.create_string_buffer(4096)
        while (n := self._lib.st_take_tx(self._p, buf, len(buf))) >= 0:
            out.append(buf.raw[:n])
        return out

    def send_indicator(self, code: int) -> list[bytes]:
        """What spandsp puts on the wire for indicator ``code``: [] if it refuses."""
        rc = self._lib.st_send_indicator(self._p, code)
        return [] if rc < 0 else self._take()

    def send_data(self, data_type: int, fields: list[tuple[int, bytes]]) -> list[bytes]:
        """What spandsp puts on the wire for one data packet of these (field type, octets)."""
        n = len(fields)
        types = (ctypes.c_int * max(n, 1))(*[t for t, _ in fields])
        lens = (ctypes.c_int * max(n, 1))(*[len(d) for _, d in fields])
        blob = b"".join(d for _, d in fields)
        rc = self._lib.st_send_data(self._p, data_type, types, lens, blob, n)
        return [] if rc < 0 else self._take()

    def receive(self, packet: bytes, seq: int = 0) -> tuple[int, list[tuple]]:
        """Feed one IFP packet; (spandsp's return code, the events it reported):
        ``("indicator", code)``, ``("data", type, field type, octets)``,
        ``("missing", rx seq, expected)``."""
        self._lib.st_clear_events(self._p)
        rc = self._lib.st_rx(self._p, packet, len(packet), seq)
        events = []
        out, buf = (ctypes.c_int * 3)(), ctypes.create_string_buffer(4096)
        for i in range(self._lib.st_nevents(self._p)):
            n = self._lib.st_event(self._p, i, out, buf, len(buf))
            kind, a, b = out[0], out[1], out[2]
            if kind == 0:
                events.append(("indicator", a))
            elif kind == 1:
                events.append(("data", a, b, buf.raw[:n]))
            else:
                events.append(("missing", a, b))
        return rc, events
