"""libspandsp 0.0.6, the reference softmodem and fax terminal, driven from the
tests through ctypes.

``harness.c`` beside this file wraps spandsp's modems, HDLC, tones and T.30 in
block functions (spandsp's per-bit callbacks are implemented in C), and is
compiled on first use with ``gcc … -lspandsp`` into
``build/spandsp_harness/libharness.so`` (rebuilt when the source is newer;
never committed).  Tests import this package as ``spandsp`` (``tests/`` is on
``sys.path``, see ``tests/conftest.py``) and skip with :data:`REASON` when
:func:`spandsp_available` is false::

    import spandsp
    pytestmark = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)

The fax terminal (:class:`FaxTerminal`, spandsp's ``fax_init`` over its T.30)
has the shape of ours: ``tx(n)``, ``rx(samples)``, ``finished``, ``result``;
:func:`run_call` pumps any two such terminals back to back, through line
models if given.  Measured: CCITT chart 1 at fine resolution, spandsp to
spandsp at V.17 14400, takes 25.4 s of line time with ECM (MMR) and 28.9 s
without (MR), counted until the sender's phase E.
Its T.30 sends nothing while its V.21 carrier detector is on, and white
noise above about -45.6 dBm0 turns that on for good: noisy calls must keep
the noise below about -51 dBm0, e.g. 9 dB of line loss before the noise
for 30 dB SNR (``tests/t30/test_terminal_spandsp.py`` says why and how).

Modem kinds are ``"v17"``, ``"v29"``, ``"v27ter"`` and ``"v21"`` (V.21
channel 2, 300 bit/s; "V.29" and such are accepted too).  Bits are ``uint8``
arrays of 0/1 in transmission order, audio is ``int16`` at 8000 samples/s.

What spandsp 0.0.6 does, measured with this harness (``test_harness.py``
pins it): its transmitters send the training, then exactly the data bits,
then their turn-off, and stop; its receivers put out only data bits, from the
first data bit on, already descrambled, followed by a few ones of the
turn-off.  The first bit comes about 1.4 s into a V.17 long training, 0.26 s
into V.29's, 0.72 s and 0.98 s into V.27ter's at 4800 and 2400 bit/s.  The
V.21 receiver has no training: its output starts with whatever it
demodulated before the carrier.  :func:`align` finds the sent bits in what
came out.  spandsp's default transmit level is -14 dBm0 (V.29, measured
-14.1 dBm0 with ``faxengine.line.power_dbm0``); its V.29 receiver, at its
default carrier cutoff, misses signals weaker than about -28 dBm0 (pass
``cutoff_dbm0=-45.5`` to go lower), V.27ter and V.17 work down to -41 dBm0.
With ``faxengine.line.add_noise`` (seeds 1 and 2, 20 s runs) the lowest SNR
at which spandsp's V.29 decodes without error is 22.0 dB at 9600 bit/s and
14.0 dB at 4800; at 7200 one noise seed puts a burst of errors at the same
place down to 19.0 dB, so the figure depends on the seeds (19.5 dB here).
spandsp's V.27ter receiver does not train at 30 dB SNR with its signal at
-14 dBm0 (it does at 35 dB, both rates): the noise, at -44 dBm0, holds its
carrier detector on before the signal starts.  With the signal at -23 dBm0,
the same 30 dB SNR, it decodes every bit (``test_harness.py``).
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "spandsp_available", "REASON", "KINDS", "RATES", "modem_tx", "modem_rx", "ModemTx", "ModemRx",
    "RxReport", "hdlc_tx", "hdlc_rx", "v21_hdlc_tx", "v21_hdlc_rx", "tone_tx", "tone_rx", "align",
    "power_meter_dbm0", "g711_tables", "FaxTerminal", "FaxResult", "run_call", "Silent",
    "status_name", "CNG", "CED", "Shim", "build_library", "FAX_MODEMS", "FAX_CODINGS",
    "T4_ENCODINGS", "support_mask", "fs_path",
]

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "harness.c"
COMMON_HEADER = HERE / "spandsp_common.h"    # included by every harness
REPO_ROOT = HERE.parent.parent
BUILD_DIR = REPO_ROOT / "build" / "spandsp_harness"
LIBRARY = BUILD_DIR / "libharness.so"
HEADER = Path("/usr/include/spandsp/v29rx.h")

KINDS = {"v21": 21, "v27ter": 27, "v29": 29, "v17": 17}
RATES = {"v21": (300,), "v27ter": (2400, 4800), "v29": (4800, 7200, 9600),
         "v17": (7200, 9600, 12000, 14400)}

_SHORT_TRAIN, _TEP, _POWER, _CUTOFF = 0x01, 0x02, 0x04, 0x08
_ERRORS = {-1: "unknown modem kind", -2: "rate not valid for this modem", -3: "out of memory"}

#: spandsp's SIG_STATUS_* codes (async.h), by value
STATUS_NAMES = {
    -1: "CARRIER_DOWN", -2: "CARRIER_UP", -3: "TRAINING_IN_PROGRESS", -4: "TRAINING_SUCCEEDED",
    -5: "TRAINING_FAILED", -6: "FRAMING_OK", -7: "END_OF_DATA", -8: "ABORT", -9: "BREAK",
    -10: "SHUTDOWN_COMPLETE", -11: "OCTET_REPORT", -12: "POOR_SIGNAL_QUALITY",
    -13: "MODEM_RETRAIN_OCCURRED",
}

#: modem_connect_tones.h tone types
CNG, CED = 1, 2

MISSING = "libspandsp-dev is not installed (apt-get install libspandsp-dev) or gcc is missing"


def status_name(code: int) -> str:
    """spandsp's name of a SIG_STATUS_* code."""
    return STATUS_NAMES.get(code, str(code))


def build_library(source: Path, library: Path) -> None:
    """Compile one C file against libspandsp into a shared library, when the
    library is missing or older than the source or the header every harness
    shares (``spandsp_common.h``; other harnesses use this too)."""
    newest = max(source.stat().st_mtime, COMMON_HEADER.stat().st_mtime)
    if library.exists() and library.stat().st_mtime >= newest:
        return
    library.parent.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC", "gcc")
    # build under a temporary name, then rename: concurrent test runs never see half a file
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=library.parent)
    os.close(fd)
    try:
        subprocess.run([cc, "-std=c99", "-O2", "-Wall", "-shared", "-fPIC", str(source), "-o", tmp,
                        "-lspandsp", "-lm"], check=True, capture_output=True, text=True)
        os.replace(tmp, library)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class Shim:
    """A C file of the tests that wraps part of libspandsp, compiled by
    :func:`build_library` and loaded with ctypes on first use; every harness
    (``harness.c`` here, ``tests/t38/spandsp_t38*.c``) is one.

    Args:
        source: the C file.
        library: the shared library to build from it (under ``build/``, never
            committed).
        functions: ``{name: (restype, argtypes)}`` of every function the
            Python side calls, set on the loaded library.
        header: the spandsp header the C file includes: without it
            libspandsp-dev is missing.
        what: the harness in words, for the reason a compile error gives.

    ``load()`` tries once per process: the library, or None when the header
    or the compiler is missing or the build fails; ``reason`` then says why
    (for ``pytest.mark.skipif``).  A module wrapping a shim answers
    ``REASON`` with it (``__getattr__ = SHIM.module_getattr``), so a skip
    reads the reason after ``available()`` has tried.
    """

    def __init__(self, source: Path, library: Path, functions: dict, *, header: Path,
                 what: str) -> None:
        self.source, self.library, self.functions = source, library, functions
        self.header, self.what = header, what
        self.reason = MISSING
        self._lib: ctypes.CDLL | None = None
        self._tried = False

    def load(self) -> ctypes.CDLL | None:
        """The library with its functions' types set, or None (see ``reason``)."""
        if self._tried:
            return self._lib
        self._tried = True
        if not self.header.exists() or shutil.which(os.environ.get("CC", "gcc")) is None:
            return None
        try:
            build_library(self.source, self.library)
            lib = ctypes.CDLL(str(self.library))
        except subprocess.CalledProcessError as e:
            self.reason = f"{self.what} did not compile: {e.stderr.strip()[:500]}"
            return None
        except OSError as e:            # built, but libspandsp.so itself cannot be loaded
            self.reason = f"{self.what} did not load: {e}"
            return None
        for name, (restype, argtypes) in self.functions.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        self._lib = lib
        return lib

    def available(self) -> bool:
        """True when libspandsp and a C compiler are here and the shim builds."""
        return self.load() is not None

    def module_getattr(self, name: str) -> str:
        """A module's ``__getattr__`` (PEP 562) that answers ``REASON`` with ``reason``."""
        if name == "REASON":
            return self.reason
        raise AttributeError(f"no attribute {name!r} (only REASON comes from the shim)")

    def need(self) -> ctypes.CDLL:
        """The library; RuntimeError with ``reason`` when there is none."""
        lib = self.load()
        if lib is None:
            raise RuntimeError(self.reason)
        return lib


_p, _i, _f, _i64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_float, ctypes.c_int64
_u8p, _i16p = ctypes.POINTER(ctypes.c_uint8), ctypes.POINTER(ctypes.c_int16)
_ip, _i64p, _s = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int64), ctypes.c_char_p
HARNESS = Shim(SOURCE, LIBRARY, {
    "sp_tx_new": (_p, [_i, _i, _i, _f, _ip]),
    "sp_tx_free": (None, [_p]),
    "sp_tx_put_bits": (_i, [_p, _u8p, _i, _i]),
    "sp_tx_samples": (_i, [_p, _i16p, _i]),
    "sp_tx_done": (_i, [_p]),
    "sp_tx_underruns": (_i, [_p]),
    "sp_tx_end_of_data_sample": (_i64, [_p]),
    "sp_modem_tx": (_i, [_i, _i, _i, _f, _u8p, _i, _i16p, _i]),
    "sp_rx_new": (_p, [_i, _i, _i, _f, _ip]),
    "sp_rx_free": (None, [_p]),
    "sp_rx_samples": (_i, [_p, _i16p, _i]),
    "sp_rx_take_bits": (_i, [_p, _u8p, _i]),
    "sp_rx_restart": (_i, [_p, _i, _i]),
    "sp_rx_report": (None, [_p, _p]),
    "sp_rx_events": (_i, [_p, _ip, _i64p, _i]),
    "sp_modem_rx": (_i, [_i, _i, _i, _f, _i16p, _i, _u8p, _i, _ip]),
    "sp_hdlc_tx_frames": (_i, [_u8p, _ip, _i, _i, _i, _i, _u8p, _i]),
    "sp_hdlc_rx_bits": (_i, [_u8p, _i, _i, _u8p, _i, _ip, _ip, _i]),
    "sp_tone_tx": (_i, [_i, _i16p, _i]),
    "sp_tone_rx": (_i, [_i, _i16p, _i, _ip, _i64p, _i]),
    "sp_power_meter_dbm0": (_f, [_i16p, _i, _i]),
    "sp_g711_tables": (None, [_u8p, _u8p, _i16p, _i16p]),
    "sp_fax_new": (_p, [_i, _s, _s, _i, _i, _i, _s, _ip]),
    "sp_fax_free": (None, [_p]),
    "sp_fax_tx": (_i, [_p, _i16p, _i]),
    "sp_fax_rx": (_i, [_p, _i16p, _i]),
    "sp_fax_rx_fillin": (_i, [_p, _i]),
    "sp_fax_report": (None, [_p, _p]),
    "sp_fax_terminate": (None, [_p]),
    "sp_fax_nframes": (_i, [_p]),
    "sp_fax_set_nsf": (_i, [_p, _s, _i]),
    "sp_fax_frame": (_i, [_p, _i, _u8p, _i, _ip, _i64p]),
    "sp_fax_remote_ident": (_s, [_p]),
    "sp_fax_completion_str": (_s, [_i]),
    "sp_fax_frametype": (_s, [_i]),
}, header=HEADER, what="the spandsp harness")
_need = HARNESS.need
__getattr__ = HARNESS.module_getattr      # REASON: why it cannot be had


def spandsp_available() -> bool:
    """True when libspandsp and a C compiler are here and the harness builds."""
    return HARNESS.available()


def _ptr(a: np.ndarray, ctype):
    return a.ctypes.data_as(ctypes.POINTER(ctype))


def _check(kind: str, rate: int) -> int:
    kind = kind.lower().replace(".", "")
    if kind not in KINDS:
        raise ValueError(f"modem kind must be one of {sorted(KINDS)}, not {kind!r}")
    if rate not in RATES[kind]:
        raise ValueError(f"{kind} runs at {RATES[kind]} bit/s, not {rate}")
    return KINDS[kind]


def _flags(short_train: bool, tep: bool, power_dbm0) -> int:
    return (_SHORT_TRAIN if short_train else 0) | (_TEP if tep else 0) | \
        (_POWER if power_dbm0 is not None else 0)


def _bits(bits) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(bits, dtype=np.uint8) & 1)


def _samples(samples) -> np.ndarray:
    x = np.asarray(samples)
    if x.dtype != np.int16:
        raise TypeError(f"spandsp takes int16 samples, not {x.dtype}")
    return np.ascontiguousarray(x)


class _Handle:
    """An opaque harness object: made by ``sp_<prefix>_new``, freed by ``sp_<prefix>_free``."""
    _prefix = ""

    def _open(self, kind: str, rate: int, *args) -> None:
        lib = _need()
        err = ctypes.c_int()
        self._lib = lib
        self._h = getattr(lib, f"sp_{self._prefix}_new")(_check(kind, rate), rate, *args, ctypes.byref(err))
        if not self._h:
            raise RuntimeError(_ERRORS.get(err.value, str(err.value)))
        self.kind, self.rate = kind.lower().replace(".", ""), rate

    def __del__(self):
        if getattr(self, "_h", None):
            getattr(self._lib, f"sp_{self._prefix}_free")(self._h)
            self._h = None


class ModemTx(_Handle):
    """A spandsp transmitter fed in blocks: ``modulate(bits)`` as bits arrive,
    ``finish()`` for the rest and the turn-off (the faxengine API's shape)."""
    _prefix = "tx"

    def __init__(self, kind: str, rate: int, short_train: bool = False, tep: bool = False,
                 power_dbm0: float | None = None):
        self._open(kind, rate, _flags(short_train, tep, power_dbm0), power_dbm0 or 0.0)

    def _drain(self) -> np.ndarray:
        out = []
        while True:
            buf = np.empty(16000, dtype=np.int16)
            n = self._lib.sp_tx_samples(self._h, _ptr(buf, ctypes.c_int16), len(buf))
            out.append(buf[:n])
            if n < len(buf):
                return np.concatenate(out)

    def modulate(self, bits) -> np.ndarray:
        """Queue ``bits``; returns the samples that can be made without running dry."""
        b = _bits(bits)
        self._lib.sp_tx_put_bits(self._h, _ptr(b, ctypes.c_uint8), len(b), 0)
        return self._drain()

    def finish(self) -> np.ndarray:
        """The samples of the bits still queued, then the turn-off."""
        self._lib.sp_tx_put_bits(self._h, None, 0, 1)
        return self._drain()

    @property
    def end_of_data_sample(self) -> int | None:
        """Samples made before the 20 ms block in which the data ran out (None before)."""
        n = self._lib.sp_tx_end_of_data_sample(self._h)
        return None if n < 0 else n

    @property
    def underruns(self) -> int:
        """Times the transmitter found no bit queued and sent a 1 (should be 0)."""
        return self._lib.sp_tx_underruns(self._h)


class _RxReport(ctypes.Structure):
    _fields_ = [("trained", ctypes.c_int), ("training_failed", ctypes.c_int),
                ("carrier", ctypes.c_int), ("nevents", ctypes.c_int),
                ("samples", ctypes.c_int64), ("bits_out", ctypes.c_int64),
                ("first_bit_sample", ctypes.c_int64), ("signal_power_dbm0", ctypes.c_float),
                ("carrier_hz", ctypes.c_float), ("symbol_timing", ctypes.c_float)]


@dataclass(frozen=True)
class RxReport:
    """What a spandsp receiver reports: training, carrier, levels and its status log."""
    trained: bool
    training_failed: int
    carrier: bool
    samples: int
    bits_out: int
    first_bit_sample: int | None
    signal_power_dbm0: float
    carrier_hz: float
    symbol_timing: float
    events: tuple[tuple[str, int], ...]   # (status name, samples fed before its 20 ms block)


class ModemRx(_Handle):
    """A spandsp receiver fed in blocks: ``demodulate(samples)`` returns the data bits so far.

    ``cutoff_dbm0`` sets the carrier-detect cutoff; None keeps spandsp's
    default, with which its V.29 receiver misses signals below about -28 dBm0.
    """
    _prefix = "rx"

    def __init__(self, kind: str, rate: int, short_train: bool = False,
                 cutoff_dbm0: float | None = None):
        flags = (_SHORT_TRAIN if short_train else 0) | (_CUTOFF if cutoff_dbm0 is not None else 0)
        self._open(kind, rate, flags, cutoff_dbm0 or 0.0)

    def demodulate(self, samples) -> np.ndarray:
        x = _samples(samples)
        n = self._lib.sp_rx_samples(self._h, _ptr(x, ctypes.c_int16), len(x))
        out = np.empty(n, dtype=np.uint8)
        got = self._lib.sp_rx_take_bits(self._h, _ptr(out, ctypes.c_uint8), n)
        return out[:got]

    def restart(self, rate: int, short_train: bool = False) -> None:
        """Ready the receiver for a new signal, as T.30 does between TCF and
        page; ``short_train`` (V.17) relies on the equaliser of the last long
        training.  Bits not yet taken are dropped."""
        _check(self.kind, rate)
        self._lib.sp_rx_restart(self._h, rate, int(short_train))
        self.rate = rate

    def report(self) -> RxReport:
        r = _RxReport()
        self._lib.sp_rx_report(self._h, ctypes.byref(r))
        n = min(r.nevents, 256)
        status = np.zeros(n, dtype=np.intc)
        sample = np.zeros(n, dtype=np.int64)
        n = self._lib.sp_rx_events(self._h, _ptr(status, ctypes.c_int), _ptr(sample, ctypes.c_int64), n)
        return RxReport(bool(r.trained), r.training_failed, bool(r.carrier), r.samples, r.bits_out,
                        None if r.first_bit_sample < 0 else r.first_bit_sample,
                        r.signal_power_dbm0, r.carrier_hz, r.symbol_timing,
                        tuple((status_name(int(s)), int(t)) for s, t in zip(status[:n], sample[:n])))


def modem_tx(kind: str, rate: int, bits, short_train: bool = False, tep: bool = False,
             power_dbm0: float | None = None) -> np.ndarray:
    """spandsp's transmitter: training, ``bits``, turn-off, as int16 samples.

    ``power_dbm0`` None keeps spandsp's default level.
    """
    lib = _need()
    code = _check(kind, rate)
    b = _bits(bits)
    # the longest training (V.17 long: 1.4 s) plus the bits plus the turn-off, with room
    max_samples = 8000 * 4 + int(len(b) * 8000 / rate) + 16000
    out = np.empty(max_samples, dtype=np.int16)
    n = lib.sp_modem_tx(code, rate, _flags(short_train, tep, power_dbm0), power_dbm0 or 0.0,
                        _ptr(b, ctypes.c_uint8), len(b), _ptr(out, ctypes.c_int16), max_samples)
    if n < 0:
        raise RuntimeError(_ERRORS.get(n, str(n)))
    return out[:n].copy()


def modem_rx(kind: str, rate: int, samples, short_train: bool = False,
             cutoff_dbm0: float | None = None, report: bool = False):
    """spandsp's receiver over ``samples``: the data bits it put out (after training).

    With ``report=True`` returns ``(bits, RxReport)``.  See :class:`ModemRx`.
    """
    rx = ModemRx(kind, rate, short_train=short_train, cutoff_dbm0=cutoff_dbm0)
    bits = rx.demodulate(samples)
    return (bits, rx.report()) if report else bits


def hdlc_tx(frames, crc32: bool = False, preamble_flags: int = 1, postamble_flags: int = 1) -> np.ndarray:
    """spandsp's HDLC framing of ``frames`` (bytes each) into bits: flags, frames
    with FCS and zero-bit insertion, flags."""
    lib = _need()
    frames = [bytes(f) for f in frames]
    data = np.frombuffer(b"".join(frames) or b"\0", dtype=np.uint8).copy()
    lens = np.array([len(f) for f in frames] or [0], dtype=np.intc)
    max_bits = 8 * (len(data) * 6 // 5 + 8 * len(frames) + 8 * (preamble_flags + postamble_flags)) + 1024
    out = np.empty(max_bits, dtype=np.uint8)
    n = lib.sp_hdlc_tx_frames(_ptr(data, ctypes.c_uint8), _ptr(lens, ctypes.c_int), len(frames),
                              int(crc32), preamble_flags, postamble_flags,
                              _ptr(out, ctypes.c_uint8), max_bits)
    if n < 0:
        raise RuntimeError("spandsp's HDLC transmitter refused the frames")
    return out[:n].copy()


def hdlc_rx(bits, crc32: bool = False) -> list[tuple[bytes, bool]]:
    """spandsp's HDLC receiver over ``bits``: every frame it saw, as (bytes without FCS, FCS ok)."""
    lib = _need()
    b = _bits(bits)
    max_data = len(b) // 8 + 64
    max_frames = len(b) // 32 + 8
    data = np.empty(max_data, dtype=np.uint8)
    lens = np.empty(max_frames, dtype=np.intc)
    oks = np.empty(max_frames, dtype=np.intc)
    n = lib.sp_hdlc_rx_bits(_ptr(b, ctypes.c_uint8), len(b), int(crc32), _ptr(data, ctypes.c_uint8),
                            max_data, _ptr(lens, ctypes.c_int), _ptr(oks, ctypes.c_int), max_frames)
    if n < 0:
        raise RuntimeError("spandsp's HDLC receiver gave more frames than expected")
    frames, at = [], 0
    for k in range(n):
        frames.append((data[at: at + lens[k]].tobytes(), bool(oks[k])))
        at += lens[k]
    return frames


def v21_hdlc_tx(frames, preamble_flags: int = 40, postamble_flags: int = 2,
                power_dbm0: float | None = None) -> np.ndarray:
    """HDLC frames over spandsp's V.21 channel 2: samples.  T.30 sends 1 s ± 15 %
    of flags before the first frame (37.5 flags at 300 bit/s); 40 by default."""
    return modem_tx("v21", 300, hdlc_tx(frames, preamble_flags=preamble_flags,
                                        postamble_flags=postamble_flags), power_dbm0=power_dbm0)


def v21_hdlc_rx(samples) -> list[tuple[bytes, bool]]:
    """Frames that spandsp's V.21 channel 2 receiver and HDLC deframer find in ``samples``."""
    return hdlc_rx(modem_rx("v21", 300, samples))


def tone_tx(tone: int, n: int) -> np.ndarray:
    """n samples of spandsp's CNG (``CNG``) or CED (``CED``) generator."""
    lib = _need()
    out = np.zeros(n, dtype=np.int16)
    got = lib.sp_tone_tx(tone, _ptr(out, ctypes.c_int16), n)
    if got < 0:
        raise RuntimeError(_ERRORS.get(got, str(got)))
    return out


def tone_rx(tone: int, samples) -> list[tuple[int, int]]:
    """spandsp's detector for ``tone`` over ``samples``: its reports as
    (tone code or 0 when it stops, samples fed before the 20 ms block it came in)."""
    lib = _need()
    x = _samples(samples)
    codes = np.zeros(64, dtype=np.intc)
    at = np.zeros(64, dtype=np.int64)
    n = lib.sp_tone_rx(tone, _ptr(x, ctypes.c_int16), len(x), _ptr(codes, ctypes.c_int),
                       _ptr(at, ctypes.c_int64), 64)
    return [(int(c), int(t)) for c, t in zip(codes[:n], at[:n])]


def power_meter_dbm0(samples, shift: int = 10) -> float:
    """The level spandsp's power meter reads at the end of ``samples`` (time
    constant 2**shift samples)."""
    lib = _need()
    x = _samples(samples)
    return float(lib.sp_power_meter_dbm0(_ptr(x, ctypes.c_int16), len(x), shift))


def g711_tables() -> dict[str, np.ndarray]:
    """spandsp's G.711 coders as tables: ``alaw_encode``/``ulaw_encode`` over
    the int16 values -32768..32767 in order, ``alaw_decode``/``ulaw_decode``
    over the codes 0..255."""
    lib = _need()
    t = {"alaw_encode": np.empty(65536, np.uint8), "ulaw_encode": np.empty(65536, np.uint8),
         "alaw_decode": np.empty(256, np.int16), "ulaw_decode": np.empty(256, np.int16)}
    lib.sp_g711_tables(_ptr(t["alaw_encode"], ctypes.c_uint8), _ptr(t["ulaw_encode"], ctypes.c_uint8),
                       _ptr(t["alaw_decode"], ctypes.c_int16), _ptr(t["ulaw_decode"], ctypes.c_int16))
    return t


def align(received: np.ndarray, sent: np.ndarray, probe: int = 64, search: int = 4000) -> int | None:
    """Where ``sent`` starts in ``received``: the offset at which the first
    ``probe`` bits of ``sent`` appear in the first ``search`` bits of
    ``received`` (negative when the receiver dropped the first bits: then
    ``sent[-offset:]`` starts ``received``).  None when not found."""
    received = np.asarray(received, dtype=np.uint8)
    sent = np.asarray(sent, dtype=np.uint8)
    probe = min(probe, len(sent))
    for skip in range(0, min(len(sent) - probe, 64) + 1):
        pat = sent[skip: skip + probe]
        hay = received[: search + probe]
        if len(hay) < probe:
            return None
        windows = np.lib.stride_tricks.sliding_window_view(hay, probe)
        hits = np.flatnonzero(np.all(windows == pat, axis=1))
        if hits.size:
            return int(hits[0]) - skip
    return None


# ---- the T.30 fax terminal ----------------------------------------------

FAX_MODEMS = {"v27ter": 0x01, "v29": 0x02, "v17": 0x04}          # T30_SUPPORT_*
FAX_CODINGS = {"mh": 0x02, "mr": 0x04, "mmr": 0x08}               # T30_SUPPORT_*_COMPRESSION
T4_ENCODINGS = {1: "mh", 2: "mr", 3: "mmr"}                       # T4_COMPRESSION_ITU_*


class _FaxReport(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in (
        "done", "completion", "bit_rate", "ecm", "pages_tx", "pages_rx", "pages_in_file",
        "x_resolution", "y_resolution", "width", "length", "image_size", "encoding", "bad_rows")] + \
        [("samples_tx", ctypes.c_int64), ("samples_rx", ctypes.c_int64), ("done_sample", ctypes.c_int64)]


@dataclass(frozen=True)
class FaxResult:
    """How a spandsp fax call ended (phase E), in spandsp's own terms."""
    ok: bool
    completion: int            # spandsp's T30_ERR_* code, 0 = OK
    message: str               # spandsp's words for it
    pages_tx: int
    pages_rx: int
    bit_rate: int
    ecm: bool
    coding: str | None         # "mh", "mr", "mmr" of the last page
    width: int
    length: int
    x_resolution: int          # pels per metre, spandsp's T4_X_RESOLUTION_*
    y_resolution: int
    bad_rows: int
    remote_ident: str
    duration_s: float | None   # line time until phase E, from this side's samples sent


class FaxTerminal(_Handle):
    """spandsp's fax terminal (fax_init over T.30), in the shape of ours:
    ``tx(n)`` gives the next n samples to send, ``rx(samples)`` takes what was
    heard, ``finished`` and ``result`` once phase E is reached.

    Args:
        calling: True for the calling terminal, False for the answering one.
        send: a TIFF-F file to send, or None.
        receive: a file to write the received TIFF-F to, or None.
        ecm: offer/accept error correction mode (T.30 Annex A).
        modems: which of "v27ter", "v29", "v17" to offer.
        codings: which of "mh", "mr", "mmr" to offer.
        ident: the CSI/TSI to send, or None.
    """
    _prefix = "fax"

    def __init__(self, calling: bool, send: str | os.PathLike | None = None,
                 receive: str | os.PathLike | None = None, ecm: bool = True,
                 modems=("v27ter", "v29", "v17"), codings=("mh", "mr", "mmr"),
                 ident: str | None = None):
        lib = _need()
        err = ctypes.c_int()
        self._lib = lib
        self._h = lib.sp_fax_new(int(calling), fs_path(send), fs_path(receive), int(ecm),
                                 support_mask(FAX_MODEMS, modems, "modem"), support_mask(FAX_CODINGS, codings, "coding"),
                                 ident.encode() if ident is not None else None, ctypes.byref(err))
        if not self._h:
            raise RuntimeError(_ERRORS.get(err.value, str(err.value)))

    def tx(self, n: int) -> np.ndarray:
        out = np.empty(n, dtype=np.int16)
        self._lib.sp_fax_tx(self._h, _ptr(out, ctypes.c_int16), n)
        return out

    def rx(self, samples) -> None:
        x = _samples(samples)
        self._lib.sp_fax_rx(self._h, _ptr(x, ctypes.c_int16), len(x))

    def rx_fillin(self, n: int) -> None:
        """``n`` samples that never arrived: spandsp's ``fax_rx_fillin``."""
        self._lib.sp_fax_rx_fillin(self._h, n)

    def terminate(self) -> None:
        """The line dropped: spandsp's ``t30_terminate``, as a telephony stack
        calls it at hang-up.  A call not yet in phase E ends now, with
        spandsp's verdict on how far it got (``result``)."""
        self._lib.sp_fax_terminate(self._h)

    @property
    def pages_rx(self) -> int:
        """Pages received so far (confirmed with MCF), phase E or not."""
        return self._report().pages_rx

    def _report(self) -> _FaxReport:
        r = _FaxReport()
        self._lib.sp_fax_report(self._h, ctypes.byref(r))
        return r

    @property
    def finished(self) -> bool:
        return bool(self._report().done)

    @property
    def result(self) -> FaxResult | None:
        """None until phase E."""
        r = self._report()
        if not r.done:
            return None
        return FaxResult(
            ok=r.completion == 0, completion=r.completion,
            message=self._lib.sp_fax_completion_str(r.completion).decode(errors="replace"),
            pages_tx=r.pages_tx, pages_rx=r.pages_rx, bit_rate=r.bit_rate, ecm=bool(r.ecm),
            coding=T4_ENCODINGS.get(r.encoding), width=r.width, length=r.length,
            x_resolution=r.x_resolution, y_resolution=r.y_resolution, bad_rows=r.bad_rows,
            remote_ident=self._lib.sp_fax_remote_ident(self._h).decode(errors="replace"),
            duration_s=r.done_sample / 8000 if r.done_sample >= 0 else None)

    def set_nsf(self, fif: bytes) -> None:
        """Send this NSF (its FIF: T.35 country and vendor code, then the
        vendor's octets) before CSI and DIS when answering."""
        if self._lib.sp_fax_set_nsf(self._h, fif, len(fif)) < 0:
            raise RuntimeError("t30_set_tx_nsf refused the NSF")

    def frames(self) -> list[tuple[str, int, bytes, str]]:
        """The T.30 frames of the call so far: (``"rx"`` or ``"tx"``, samples
        sent or heard before it, bytes from the address field on, spandsp's
        name of its FCF)."""
        out = []
        buf = np.empty(300, dtype=np.uint8)
        direction, sample = ctypes.c_int(), ctypes.c_int64()
        for k in range(min(self._lib.sp_fax_nframes(self._h), 2048)):
            n = self._lib.sp_fax_frame(self._h, k, _ptr(buf, ctypes.c_uint8), len(buf),
                                       ctypes.byref(direction), ctypes.byref(sample))
            data = buf[:n].tobytes()
            name = self._lib.sp_fax_frametype(data[2]).decode() if n >= 3 else ""
            out.append(("rx" if direction.value else "tx", sample.value, data, name))
        return out


def fs_path(p) -> bytes | None:
    """A file name as the C side takes it (None stays NULL)."""
    return None if p is None else os.fsencode(p)


def support_mask(table: dict, names, what: str) -> int:
    """The T30_SUPPORT_* bits of ``names`` (ValueError naming ``what`` for an unknown one)."""
    mask = 0
    for name in names:
        if name not in table:
            raise ValueError(f"{what} must be among {sorted(table)}, not {name!r}")
        mask |= table[name]
    return mask


class Silent:
    """A line with nobody on it: a peer for ``run_call`` that sends silence and hears nothing."""

    finished = True

    def tx(self, n):
        return np.zeros(n, dtype=np.int16)

    def rx(self, samples):
        pass

    def rx_fillin(self, n):
        pass


def run_call(a, b, line_ab=None, line_ba=None, max_seconds: float = 300.0, block: int = 160,
             loss: float = 0.0, seed: int = 1) -> float:
    """Pump two terminals (ours or spandsp's: anything with ``tx(n)``,
    ``rx(samples)``, ``rx_fillin(n)`` and ``finished``) back to back until
    both finish, through optional line models (``process(samples)``) each
    way, losing ``loss`` of the blocks each way (seeds ``seed`` and
    ``seed + 1``; the receiving end is told with ``rx_fillin``).  The loop is
    faxengine's own ``media.pump.Pump``, so ours and spandsp's run in the
    same one.  Returns the line time in seconds; stops at ``max_seconds``."""
    from faxengine.media.pump import Leg, Pump

    legs = [Leg(ln, loss, seed + k) if ln is not None or loss else None
            for k, ln in enumerate((line_ab, line_ba))]
    return Pump(a, b, *legs, block=block, max_seconds=max_seconds).run()
