"""libspandsp's T.38 core (``t38_core.c``), driven through ctypes.

``spandsp_t38.c`` beside this file wraps one ``t38_core_state_t`` as a
*peer*: what it sends (its tx packet handler) and what it reports when it
receives IFP octets (its rx indicator, data and missing handlers) are queued
in C and drained here.  It is compiled on first use with
``gcc … -lspandsp`` into ``build/spandsp_t38/libspandsp_t38.so`` by
``tests/spandsp``'s ``build_library`` (rebuilt when the source is newer).
Tests skip with :data:`REASON` when :func:`available` is false.

Codes are spandsp's: indicator, data type and field type numbers, which are
the ASN.1 enumeration indexes (``member.index`` in ``faxengine.t38.ifp``).
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import spandsp    # tests/spandsp: its way of building a harness

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "spandsp_t38.c"
BUILD_DIR = HERE.parent.parent / "build" / "spandsp_t38"
LIBRARY = BUILD_DIR / "libspandsp_t38.so"
HEADER = Path("/usr/include/spandsp/t38_core.h")

REASON = "libspandsp-dev is not installed (apt-get install libspandsp-dev) or gcc is missing"
_lib = None
_tried = False


def _load():
    global _lib, _tried, REASON
    if _tried:
        return _lib
    _tried = True
    if not HEADER.exists() or shutil.which(os.environ.get("CC", "gcc")) is None:
        return None
    try:
        spandsp.build_library(SOURCE, LIBRARY)
    except subprocess.CalledProcessError as e:
        REASON = f"the spandsp T.38 harness did not compile: {e.stderr.strip()[:500]}"
        return None
    lib = ctypes.CDLL(str(LIBRARY))
    p, i = ctypes.c_void_p, ctypes.c_int
    ip, u8p = ctypes.POINTER(ctypes.c_int), ctypes.c_char_p
    for name, res, args in [
        ("st_new", p, [i, i]), ("st_free", None, [p]),
        ("st_send_indicator", i, [p, i]),
        ("st_send_data", i, [p, i, ip, ip, u8p, i]),
        ("st_take_tx", i, [p, ctypes.c_void_p, i]),
        ("st_rx", i, [p, u8p, i, i]),
        ("st_nevents", i, [p]), ("st_event", i, [p, i, ip, ctypes.c_void_p, i]),
        ("st_clear_events", None, [p]),
    ]:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    _lib = lib
    return lib


def available() -> bool:
    """True when libspandsp and a C compiler are here and the harness builds."""
    return _load() is not None


class Peer:
    """One spandsp T.38 core of a given T38FaxVersion; with ``check_seq`` it
    checks sequence numbers and reports gaps to its missing handler."""

    def __init__(self, version: int, check_seq: bool = False) -> None:
        self._lib = _load()
        if self._lib is None:
            raise RuntimeError(REASON)
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
