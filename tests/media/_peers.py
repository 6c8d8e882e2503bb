"""Helpers for the interop tests against real SIP software run as children
(tests/media/test_kamailio.py, test_baresip.py): free ports, a child process
that is always stopped, waiting until a SIP peer answers, and the audio both
ends exchange (a V.21 frame train and a tone) with the means to check it.

Everything runs on 127.0.0.1 and every wait is bounded."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from faxengine.levels import power_to_dbm0
from faxengine.modem import V21Rx, V21Tx
from faxengine.modem.hdlc import HdlcRx, HdlcTx
from faxengine.modem.v21 import sine_amplitude

from test_sipp import free_media_ports, free_port  # noqa: F401  (re-exported for the peers' tests)

LOOPBACK = "127.0.0.1"
RATE = 8000
KAMAILIO_CONFIG = Path(__file__).resolve().parent / "kamailio" / "kamailio.cfg"
PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}   # as in its config's htable


def program(name: str) -> str | None:
    """The path of ``name`` on PATH or in /usr/sbin (where Debian puts kamailio)."""
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", os.defpath),
                                                    "/usr/sbin", "/sbin"]))


def needs(name: str, package: str) -> pytest.MarkDecorator:
    """A mark skipping a test module when program ``name`` is absent, naming its Debian package."""
    return pytest.mark.skipif(program(name) is None,
                              reason=f"{name} is not installed: apt-get install -y {package}")


@contextlib.contextmanager
def child(args: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen]:
    """Run ``args`` in the foreground of this test (output to ``log``); always stopped:
    SIGTERM, then SIGKILL if it has not gone after 5 s."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def wait_for_sip(addr: tuple[str, int], proc: subprocess.Popen, log: Path,
                 timeout: float = 10.0) -> None:
    """Send OPTIONS to ``addr`` until a SIP response comes back (the peer is up).

    Raises AssertionError with the peer's log if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        s.settimeout(0.1)
        port = s.getsockname()[1]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"{proc.args[0]} exited with {proc.returncode}:\n"
                                     + log.read_text(errors="replace")[-3000:])
            branch = "z9hG4bK" + uuid.uuid4().hex[:16]
            s.sendto((f"OPTIONS sip:{addr[0]}:{addr[1]} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {LOOPBACK}:{port};branch={branch};rport\r\n"
                      "Max-Forwards: 70\r\n"
                      f"From: <sip:probe@{LOOPBACK}>;tag=probe\r\n"
                      f"To: <sip:{addr[0]}:{addr[1]}>\r\n"
                      f"Call-ID: {branch}@{LOOPBACK}\r\n"
                      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), addr)
            try:
                if s.recv(65535).startswith(b"SIP/2.0 "):
                    return
            except (TimeoutError, ConnectionRefusedError):
                time.sleep(0.05)
    raise AssertionError(f"{proc.args[0]} did not answer OPTIONS on {addr} in {timeout} s:\n"
                         + log.read_text(errors="replace")[-3000:])


@pytest.fixture
def kamailio(tmp_path):
    """kamailio running as registrar and proxy for the test: its address (host, port)."""
    if program("kamailio") is None:
        pytest.skip("kamailio is not installed: apt-get install -y kamailio")
    port = free_port()
    log = tmp_path / "kamailio.log"
    args = [program("kamailio"), "-f", str(KAMAILIO_CONFIG), "-DD", "-E",
            "-l", f"udp:{LOOPBACK}:{port}", "-Y", str(tmp_path), "-w", str(tmp_path),
            "-m", "32", "-M", "4", "-n", "2"]
    with child(args, log, tmp_path) as proc:
        wait_for_sip((LOOPBACK, port), proc, log)
        yield LOOPBACK, port
    print(log.read_text(errors="replace")[-2000:])      # shown when the test failed


# -- what the two ends say to each other, and how it is checked ------------------

def v21_train(frames: list[bytes], power_dbm0: float = -13.0) -> np.ndarray:
    """A V.21 channel 2 transmission of ``frames`` (HDLC, short preamble) as int16."""
    tx, hdlc = V21Tx(power_dbm0), HdlcTx(preamble_flags=8)
    bits = np.concatenate([hdlc.encode(frames), hdlc.finish()])
    return np.concatenate([tx.modulate(bits), tx.finish()])


def v21_frames(samples: np.ndarray) -> list[bytes]:
    """The frames with a good FCS that V21Rx + HdlcRx recover from ``samples``."""
    return [f.data for f in HdlcRx().decode(V21Rx().demodulate(samples)) if f.ok]


def tone(hz: float, power_dbm0: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE))
    return np.round(sine_amplitude(power_dbm0) * np.sin(2 * np.pi * hz * t / RATE)).astype(np.int16)


def tone_seen(samples: np.ndarray, threshold_dbm0: float = -40.0) -> tuple[float, float]:
    """(frequency in Hz, level in dBm0) of the last sound in ``samples``: the last run
    of 20 ms blocks above ``threshold_dbm0``, its edge blocks dropped, FFT peak
    interpolated."""
    blocks = samples[: len(samples) // 160 * 160].astype(np.float64).reshape(-1, 160)
    loud = np.flatnonzero([power_to_dbm0(np.mean(b * b)) > threshold_dbm0 for b in blocks])
    assert len(loud) > 4, "no sound above the threshold"
    run = np.split(loud, np.flatnonzero(np.diff(loud) > 1) + 1)[-1]
    assert len(run) > 4, f"the last sound lasts {len(run)} blocks: too short to measure"
    x = blocks[run[1]:run[-1]].ravel()
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1:k + 2])
    peak = k + 0.5 * (a - c) / (a - 2 * b + c)             # parabolic interpolation
    return peak * RATE / len(x), power_to_dbm0(np.mean(x * x))


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE), w.getparams()
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.int16)


def heard(endpoint) -> list[str]:
    """A list that fills with the start line of every datagram ``endpoint`` (a
    SipProtocol) receives from now on, so a test can assert what the peer sent."""
    lines: list[str] = []
    receive = endpoint.on_datagram      # each datagram, those drained with it too

    def spy(data: bytes, addr) -> None:
        lines.append(data.split(b"\r\n", 1)[0].decode(errors="replace"))
        receive(data, addr)
    endpoint.on_datagram = spy
    return lines
