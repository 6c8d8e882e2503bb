"""WAV files: PCM16, A-law and µ-law, read and written block by block, and a WAV port.

A WAV file is a RIFF container (``RIFF`` size ``WAVE``) of chunks, each an
ASCII id, a little-endian 32-bit size and the payload padded to an even
length.  ``fmt `` gives the format tag (1 PCM, 6 A-law, 7 µ-law, 0xFFFE
WAVE_FORMAT_EXTENSIBLE whose sub-format GUID starts with one of those),
channels, sample rate and bits per sample; ``data`` holds the interleaved
samples.  The stdlib ``wave`` module reads PCM only, so the chunks are
parsed here, and G.711 goes through :mod:`faxengine.g711`.

:class:`WavReader` reads any such file (PCM 8 or 16 bit, A-law, µ-law; mono
or stereo; any rate from 1000 to 384 000 samples/s) and hands out int16
blocks at 8000 samples/s, shape ``(n, channels)``, resampling with
``scipy.signal.resample_poly`` block by block.  Each block is filtered with
enough of its neighbours on either side that the result equals resampling
the whole file at once, so memory stays bounded by the block size whatever
the file's length.  A ``data`` chunk that claims more than the file holds
(a recording cut short, or a streaming writer that left the size 0 or
0xFFFFFFFF) is read to the end of the file and ``truncated`` says so; a
file whose header is not a WAV header, is cut inside it or declares
something absurd raises :class:`WavError`.

:class:`WavWriter` writes mono or stereo at 8000 samples/s in PCM16, A-law
or µ-law, fixing the RIFF and ``data`` sizes when closed.

:class:`WavPort` is one end of the media pump (``faxengine.media.pump``):
``tx(n)`` plays the input file to the terminal, ``rx(samples)`` records what
the terminal sends, ``rx_fillin(n)`` records silence for samples that never
arrived; ``finished`` once the input is played out (at once without input).
"""
from __future__ import annotations

import io
import math
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from faxengine import g711
from faxengine.errors import FaxError
from faxengine.levels import SAMPLE_RATE

__all__ = ["WavError", "WavReader", "WavWriter", "WavPort", "read_wav", "write_wav", "FORMATS"]

PCM, ALAW, ULAW, EXTENSIBLE = 1, 6, 7, 0xFFFE
#: format names -> WAVE format tags (RFC 2361)
FORMATS = {"pcm": PCM, "alaw": ALAW, "ulaw": ULAW}
_NAMES = {v: k for k, v in FORMATS.items()}
MIN_RATE, MAX_RATE = 1000, 384000
MAX_CHUNK_SKIP = 1 << 20       # a chunk before "data" larger than this is absurd
BLOCK = 8000                   # output samples (1 s) per block when reading


class WavError(FaxError, ValueError):
    """A file that is not a WAV this package reads, or a WAV that cannot be written."""


def _u32(b: bytes, at: int) -> int:
    return struct.unpack_from("<I", b, at)[0]


class WavReader:
    """Reads a WAV file as int16 blocks at 8000 samples/s.

    Args:
        source: a path or a binary file object (seekable or not).
    Attributes:
        format: "pcm", "alaw" or "ulaw"; ``bits``: 8 or 16 for PCM.
        channels: 1 or 2; ``rate``: the file's sample rate.
        frames: sample frames the data chunk holds (or the file, if cut short;
            on a pipe whose data size is unknown, 2**62 / frame size: read on
            to its end).
        truncated: the data chunk claimed more than the file holds.
    Raises:
        WavError: not RIFF/WAVE, no ``fmt `` or ``data`` chunk, a header cut
            short, a format other than PCM 8/16, A-law or µ-law, more than 2
            channels, or a sample rate outside 1000..384000.
    """

    def __init__(self, source: str | os.PathLike | BinaryIO) -> None:
        self._own = not hasattr(source, "read")
        self._f: BinaryIO = open(source, "rb") if self._own else source  # type: ignore[arg-type]
        try:
            self._parse_header()
        except BaseException:
            self.close()
            raise

    def _read_exact(self, n: int, what: str) -> bytes:
        b = self._f.read(n)
        if len(b) != n:
            raise WavError(f"WAV file is cut short inside its {what}: need {n} octets, found {len(b)}")
        return b

    def _parse_header(self) -> None:
        head = self._f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise WavError("not a WAV file: it does not start with RIFF....WAVE; "
                           "give a PCM16, A-law or µ-law .wav recording")
        fmt = None
        while True:
            hdr = self._f.read(8)
            if len(hdr) < 8:
                raise WavError("WAV file has no data chunk" if fmt else "WAV file has no fmt chunk")
            cid, size = hdr[:4], _u32(hdr, 4)
            if cid == b"fmt ":
                if not 16 <= size <= 1024:
                    raise WavError(f"WAV fmt chunk has {size} octets, not 16..1024")
                fmt = self._read_exact(size + (size & 1), "fmt chunk")[:size]
                self._parse_fmt(fmt)
            elif cid == b"data":
                if fmt is None:
                    raise WavError("WAV file has its data chunk before the fmt chunk")
                break
            else:
                if size > MAX_CHUNK_SKIP:
                    raise WavError(f"WAV chunk {cid!r} of {size} octets before the data is absurd")
                self._read_exact(size + (size & 1), f"{cid!r} chunk")
        self._frame_bytes = self.channels * self.bits // 8
        declared = size // self._frame_bytes
        available = self._available()
        self.truncated = available is not None and available < declared * self._frame_bytes
        if size in (0, 0xFFFFFFFF):
            self.truncated = False              # streaming writers leave the size unknown
            declared = (available if available is not None else 1 << 62) // self._frame_bytes
        elif self.truncated:
            declared = available // self._frame_bytes
        self.frames = declared
        self._left = declared * self._frame_bytes

    def _available(self) -> int | None:
        try:
            here = self._f.tell()
            end = self._f.seek(0, io.SEEK_END)
            self._f.seek(here)
            return end - here
        except (OSError, AttributeError, io.UnsupportedOperation):
            return None

    def _parse_fmt(self, fmt: bytes) -> None:
        tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
        if tag == EXTENSIBLE:
            if len(fmt) < 26:
                raise WavError("WAV fmt chunk says WAVE_FORMAT_EXTENSIBLE but has no sub-format")
            tag = struct.unpack_from("<H", fmt, 24)[0]
        if tag not in _NAMES:
            raise WavError(f"WAV format tag {tag} is not supported: use PCM (1), A-law (6) or µ-law (7)")
        if tag == PCM and bits not in (8, 16):
            raise WavError(f"WAV PCM with {bits} bits per sample is not supported: use 8 or 16")
        if tag != PCM and bits != 8:
            raise WavError(f"G.711 WAV must have 8 bits per sample, not {bits}")
        if channels not in (1, 2):
            raise WavError(f"WAV has {channels} channels: give mono (one direction or both "
                           "mixed) or stereo (one direction per channel)")
        if not MIN_RATE <= rate <= MAX_RATE:
            raise WavError(f"WAV sample rate {rate} Hz is absurd: use {MIN_RATE}..{MAX_RATE}")
        self.format, self.channels, self.rate, self.bits = _NAMES[tag], channels, rate, bits
        g = math.gcd(SAMPLE_RATE, rate)
        self._up, self._down = SAMPLE_RATE // g, rate // g

    @property
    def seconds(self) -> float:
        """Length of the recording in seconds."""
        return self.frames / self.rate

    def _read_raw(self, frames: int) -> np.ndarray:
        """Up to ``frames`` sample frames from the file as int16, shape (n, channels)."""
        n = min(frames * self._frame_bytes, self._left)
        raw = self._f.read(n)
        raw = raw[:len(raw) - len(raw) % self._frame_bytes]
        self._left = 0 if len(raw) < n else self._left - len(raw)
        if self.format == "pcm" and self.bits == 16:
            x = np.frombuffer(raw, dtype="<i2").astype(np.int16)
        elif self.format == "pcm":
            x = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
        elif self.format == "alaw":
            x = g711.alaw_decode(np.frombuffer(raw, dtype=np.uint8))
        else:
            x = g711.ulaw_decode(np.frombuffer(raw, dtype=np.uint8))
        return x.reshape(-1, self.channels)

    def blocks(self, block: int = BLOCK) -> Iterator[np.ndarray]:
        """int16 blocks at 8000 samples/s, shape (n, channels), to the end of the data."""
        if self._up == self._down:
            while True:
                x = self._read_raw(block)
                if x.shape[0] == 0:
                    return
                yield x
        yield from self._resampled(block)

    def _resampled(self, block: int) -> Iterator[np.ndarray]:
        try:
            from scipy.signal import resample_poly
        except ImportError:
            raise WavError(f"this WAV is at {self.rate} samples/s: resampling it to 8000 "
                           "needs scipy (pip install scipy)") from None
        up, down = self._up, self._down
        # resample_poly's filter reaches 10 * max(up, down) samples of the
        # upsampled signal either side; in input samples, rounded up to a
        # whole number of ``down`` so that block edges fall on output samples
        reach = 10 * max(up, down) // up + 1
        pad = down * -(-reach // down)
        step = down * max(1, block * down // up // down)      # input samples per block
        zeros = np.zeros((pad, self.channels), np.int16)
        buf = np.concatenate([zeros, self._read_raw(step + pad)])
        done = False
        while True:
            if not done and buf.shape[0] < 2 * pad + step:
                more = self._read_raw(2 * pad + step - buf.shape[0])
                if more.shape[0] == 0:
                    done = True
                    buf = np.concatenate([buf, zeros])
                else:
                    buf = np.concatenate([buf, more])
                    continue
            body = min(step, buf.shape[0] - 2 * pad)
            if body <= 0:
                return
            y = resample_poly(buf[:body + 2 * pad].astype(np.float64), up, down, axis=0)
            first = pad * up // down
            out = y[first:first + -(-body * up // down)]
            yield np.clip(np.rint(out), -32768, 32767).astype(np.int16)
            buf = buf[body:]

    def read(self, max_seconds: float | None = None) -> np.ndarray:
        """The rest of the recording at 8000 samples/s, shape (n, channels);
        at most ``max_seconds`` of it."""
        limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
        parts, got = [], 0
        for b in self.blocks():
            parts.append(b)
            got += b.shape[0]
            if limit is not None and got >= limit:
                break
        x = np.concatenate(parts) if parts else np.zeros((0, self.channels), np.int16)
        return x if limit is None else x[:limit]

    def close(self) -> None:
        if self._own:
            self._f.close()

    def __enter__(self) -> "WavReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class WavWriter:
    """Writes int16 samples at 8000 samples/s to a WAV file.

    Args:
        target: a path or a seekable binary file object.
        format: "pcm" (16 bit), "alaw" or "ulaw".
        channels: 1 or 2; ``write`` then takes shape (n,) or (n, 2).
    """

    def __init__(self, target: str | os.PathLike | BinaryIO, format: str = "pcm",
                 channels: int = 1) -> None:
        if format not in FORMATS:
            raise WavError(f"WAV format {format!r} is not one of {', '.join(FORMATS)}")
        if channels not in (1, 2):
            raise WavError(f"a WAV written here has 1 or 2 channels, not {channels}")
        self.format, self.channels = format, channels
        self._width = 2 if format == "pcm" else 1
        self._own = not hasattr(target, "write")
        self._f: BinaryIO = open(target, "wb") if self._own else target  # type: ignore[arg-type]
        self._start = self._f.tell() if not self._own else 0
        self._bytes = 0
        self._f.write(self._header())

    def _header(self) -> bytes:
        block = self.channels * self._width
        fmt = struct.pack("<HHIIHH", FORMATS[self.format], self.channels, SAMPLE_RATE,
                          SAMPLE_RATE * block, block, 8 * self._width)
        if self.format != "pcm":
            fmt += b"\x00\x00"                  # cbSize: non-PCM fmt chunks have 18 octets
        return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + self._bytes + (self._bytes & 1))
                + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
                + b"data" + struct.pack("<I", self._bytes))

    def write(self, samples) -> None:
        """Append int16 samples: shape (n,) for mono, (n, 2) for stereo."""
        x = np.asarray(samples)
        if x.dtype != np.int16:
            raise WavError(f"WAV samples must be int16, not {x.dtype}")
        if x.ndim == 1 and self.channels == 1:
            x = x.reshape(-1, 1)
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise WavError(f"this WAV has {self.channels} channel(s): give shape (n,) or "
                           f"(n, {self.channels}), not {x.shape}")
        flat = np.ascontiguousarray(x).ravel()
        if self.format == "pcm":
            raw = flat.astype("<i2").tobytes()
        elif self.format == "alaw":
            raw = g711.alaw_encode(flat).tobytes()
        else:
            raw = g711.ulaw_encode(flat).tobytes()
        self._f.write(raw)
        self._bytes += len(raw)

    def close(self) -> None:
        """Pad the data to an even length, write the sizes and close the file."""
        if self._f.closed:
            return
        if self._bytes & 1:
            self._f.write(b"\x00")
        end = self._f.tell()
        self._f.seek(self._start)
        self._f.write(self._header())
        self._f.seek(end)
        if self._own:
            self._f.close()
        else:
            self._f.flush()

    def __enter__(self) -> "WavWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_wav(source, max_seconds: float | None = None) -> np.ndarray:
    """A whole WAV (at most ``max_seconds``) at 8000 samples/s, shape (n, channels)."""
    with WavReader(source) as r:
        return r.read(max_seconds)


def write_wav(target, samples, format: str = "pcm") -> None:
    """Write int16 samples (shape (n,) or (n, 2)) at 8000 samples/s."""
    x = np.asarray(samples)
    with WavWriter(target, format, 1 if x.ndim == 1 else x.shape[1]) as w:
        w.write(x)


class WavPort:
    """A WAV file standing for the far end of a call, driven by the media pump.

    Args:
        wav_in: a recording to play to the terminal (its first channel), or None.
        wav_out: a file to record what the terminal sends into, or None.
        format: the format of ``wav_out``: "pcm", "alaw" or "ulaw".
    """

    def __init__(self, wav_in=None, wav_out=None, format: str = "pcm") -> None:
        self._reader = WavReader(wav_in) if wav_in is not None else None
        self._blocks = self._reader.blocks() if self._reader is not None else None
        self._pending = np.zeros(0, np.int16)
        self._writer = None
        try:
            self._writer = WavWriter(wav_out, format) if wav_out is not None else None
        except BaseException:
            self.close()
            raise
        self._played_out = self._reader is None

    @property
    def finished(self) -> bool:
        """True once the input is played out (at once when there is none)."""
        return self._played_out

    def tx(self, n: int) -> np.ndarray:
        """The next ``n`` samples of the input (silence after its end)."""
        while self._pending.size < n and not self._played_out:
            block = next(self._blocks, None)
            if block is None:
                self._played_out = True
                self._reader.close()
            else:
                self._pending = np.concatenate([self._pending, block[:, 0]])
        out = self._pending[:n]
        self._pending = self._pending[n:]
        if out.size < n:
            out = np.concatenate([out, np.zeros(n - out.size, np.int16)])
        return out

    def rx(self, samples) -> None:
        """Record what the terminal sent."""
        if self._writer is not None:
            self._writer.write(np.asarray(samples, dtype=np.int16))

    def rx_fillin(self, n: int) -> None:
        """``n`` samples never arrived: recorded as silence."""
        self.rx(np.zeros(n, np.int16))

    def close(self) -> None:
        """Close both files (the recording gets its final sizes)."""
        if self._writer is not None:
            self._writer.close()
        if self._reader is not None:
            self._reader.close()

    def __enter__(self) -> "WavPort":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
