"""WAV files (faxengine.media.wav): formats, rates, hostile files, the WAV port."""
from __future__ import annotations

import io
import struct
import wave

import numpy as np
import pytest
from scipy.signal import resample_poly

from faxengine import FaxError, g711
from faxengine.media.wav import WavError, WavPort, WavReader, WavWriter, read_wav, write_wav
from faxengine.t30.terminal import FaxTerminal
from faxengine import tiff
from recordings import page, record_call


def _noise(n: int, channels: int = 1, seed: int = 1) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0, 6000, (n, channels))
    return np.clip(x, -32768, 32767).astype(np.int16)


def _riff(fmt: bytes, data: bytes, data_size: int | None = None, extra: bytes = b"") -> bytes:
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra \
        + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt(tag=1, channels=1, rate=8000, bits=16) -> bytes:
    block = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)


@pytest.mark.parametrize("channels", [1, 2])
def test_pcm16_round_trip_and_stdlib_reads_it(tmp_path, channels):
    x = _noise(12345, channels)
    path = tmp_path / "a.wav"
    write_wav(path, x if channels == 2 else x[:, 0])
    assert np.array_equal(read_wav(path), x)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (channels, 8000, 2)
        assert np.array_equal(np.frombuffer(w.readframes(99999), "<i2").reshape(-1, channels), x)


@pytest.mark.parametrize("law,tag", [("alaw", 6), ("ulaw", 7)])
def test_g711_files_hold_the_g711_characters(tmp_path, law, tag):
    x = _noise(8001, 2)
    path = tmp_path / "g.wav"
    write_wav(path, x, format=law)
    raw = path.read_bytes()
    assert struct.unpack_from("<HHIIHH", raw, 20) == (tag, 2, 8000, 16000, 2, 8)
    encode = g711.alaw_encode if law == "alaw" else g711.ulaw_encode
    data = raw[raw.index(b"data") + 8:][:x.size]
    assert data == encode(x.ravel()).tobytes()
    assert len(raw) % 2 == 0                            # odd data padded to an even chunk
    assert np.array_equal(read_wav(path), g711.g711_roundtrip(x, law))


def test_pcm8_and_extensible(tmp_path):
    codes = np.arange(256, dtype=np.uint8)
    (tmp_path / "8.wav").write_bytes(_riff(_fmt(bits=8), codes.tobytes()))
    assert np.array_equal(read_wav(tmp_path / "8.wav")[:, 0], (codes.astype(np.int16) - 128) * 256)
    ext = _fmt(tag=0xFFFE, bits=8) + struct.pack("<HHI", 22, 8, 0) + struct.pack("<H", 7) + bytes(14)
    (tmp_path / "x.wav").write_bytes(_riff(ext, codes.tobytes()))
    assert np.array_equal(read_wav(tmp_path / "x.wav")[:, 0], g711.ulaw_decode(codes))


@pytest.mark.parametrize("rate", [16000, 11025, 44100, 48000, 6000])
def test_any_rate_is_resampled_block_by_block_as_in_one_go(tmp_path, rate):
    n = rate * 3 + 17
    x = _noise(n, 2, seed=rate)
    path = tmp_path / "r.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    with WavReader(path) as r:
        blocks = list(r.blocks(block=1000))            # small blocks: many edges
    got = np.concatenate(blocks)
    g = np.gcd(8000, rate)
    want = resample_poly(x.astype(np.float64), 8000 // g, rate // g, axis=0)
    assert got.shape == want.shape
    assert np.max(np.abs(got - np.clip(np.rint(want), -32768, 32767))) <= 1


def test_a_tone_keeps_its_frequency_through_resampling(tmp_path):
    t = np.arange(44100 * 2) / 44100
    x = (8000 * np.sin(2 * np.pi * 1100 * t)).astype(np.int16)
    path = tmp_path / "t.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(x.tobytes())
    y = read_wav(path)[:, 0].astype(np.float64)
    assert y.size == 16000
    spectrum = np.abs(np.fft.rfft(y[2000:10000]))
    assert np.argmax(spectrum) * 8000 / 8000 == 1100


@pytest.mark.parametrize("content,message", [
    (b"hello, this is not a recording at all", "not a WAV file: it does not start with RIFF....WAVE"),
    (b"", "not a WAV file"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "cut short inside its fmt chunk"),
    (_riff(_fmt(channels=6, bits=16), b""), "WAV has 6 channels"),
    (_riff(_fmt(rate=0), b""), "WAV sample rate 0 Hz is absurd"),
    (_riff(_fmt(rate=10**9), b""), "WAV sample rate 1000000000 Hz is absurd"),
    (_riff(_fmt(tag=3, bits=32), b""), "WAV format tag 3 is not supported"),
    (_riff(_fmt(bits=24), b""), "WAV PCM with 24 bits per sample is not supported"),
    (_riff(_fmt(tag=6, bits=16), b""), "G.711 WAV must have 8 bits per sample"),
    (b"RIFF\x04\x00\x00\x00WAVE", "WAV file has no fmt chunk"),
    (b"RIFF\x04\x00\x00\x00WAVEjunk\xff\xff\xff\x7f", "of 2147483647 octets before the data is absurd"),
    (b"RIFF\x04\x00\x00\x00WAVEdata\x00\x00\x00\x00", "data chunk before the fmt chunk"),
    (b"RIFF\x04\x00\x00\x00WAVEfmt \xff\xff\x00\x00", "fmt chunk has 65535 octets"),
])
def test_hostile_headers_raise_wav_error_saying_what(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(WavError, match=message.replace(".", r"\.").replace("(", r"\(")):
        WavReader(path)
    assert issubclass(WavError, FaxError) and issubclass(WavError, ValueError)


def test_a_data_chunk_longer_than_the_file_reads_what_is_there(tmp_path):
    x = _noise(1000)
    path = tmp_path / "cut.wav"
    path.write_bytes(_riff(_fmt(), x.tobytes() + b"\x01", data_size=10**6))
    with WavReader(path) as r:
        assert r.truncated and r.frames == 1000
        assert np.array_equal(r.read(), x)


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_a_streaming_writers_unknown_size_reads_to_the_end(tmp_path, size):
    x = _noise(999)
    path = tmp_path / "s.wav"
    path.write_bytes(_riff(_fmt(), x.tobytes(), data_size=size))
    with WavReader(path) as r:
        assert not r.truncated
        assert np.array_equal(r.read(), x)


def test_reading_is_bounded_by_the_block_not_the_file(tmp_path):
    path = tmp_path / "long.wav"
    with WavWriter(path) as w:
        for i in range(60):
            w.write(_noise(8000, seed=i)[:, 0])
    with WavReader(path) as r:
        sizes = {b.shape[0] for b in r.blocks(block=4000)}
        assert sizes == {4000}
    assert read_wav(path, max_seconds=2.5).shape == (20000, 1)


def test_writer_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(WavError, match="WAV format 'mp3' is not one of pcm, alaw, ulaw"):
        WavWriter(tmp_path / "a.wav", "mp3")
    with WavWriter(io.BytesIO(), channels=2) as w:
        with pytest.raises(WavError, match=r"this WAV has 2 channel\(s\)"):
            w.write(np.zeros(10, np.int16))
        with pytest.raises(WavError, match="WAV samples must be int16, not float64"):
            w.write(np.zeros((10, 2)))


def test_port_plays_records_and_fills_in(tmp_path):
    x = _noise(500)[:, 0]
    write_wav(tmp_path / "in.wav", x)
    with WavPort(tmp_path / "in.wav", tmp_path / "out.wav", format="alaw") as port:
        assert not port.finished
        assert np.array_equal(port.tx(160), x[:160])
        got = np.concatenate([port.tx(160) for _ in range(3)])
        assert port.finished
        assert np.array_equal(got[:340], x[160:]) and not got[340:].any()
        port.rx(x[:100])
        port.rx_fillin(60)
    back = read_wav(tmp_path / "out.wav")[:, 0]
    sent = np.concatenate([x[:100], np.zeros(60, np.int16)])
    assert np.array_equal(back, g711.g711_roundtrip(sent, "alaw"))   # (A-law has no zero)
    assert WavPort(wav_out=tmp_path / "o2.wav").finished        # nothing to play


def test_receive_from_a_recording_of_the_sending_side(tmp_path):
    """A recording of what a caller sent, played to a new answering
    terminal through the port, delivers the page: the answerer answers as
    the one in the recording did, sample for sample."""
    doc = [page(5)]
    call = record_call(FaxTerminal(True, send=doc, ecm=True),
                       FaxTerminal(False, receive=tmp_path / "first.tif", ecm=True))
    write_wav(tmp_path / "caller.wav", call[:, 0])
    term = FaxTerminal(False, receive=tmp_path / "again.tif", ecm=True)
    with WavPort(tmp_path / "caller.wav", tmp_path / "answer.wav") as port:
        while not (port.finished and term.finished):
            sent = term.tx(160)                 # (in the order record_call keeps)
            term.rx(port.tx(160))
            port.rx(sent)
    assert term.result.ok
    assert np.array_equal(tiff.read(tmp_path / "again.tif")[0].image, doc[0].image)
    assert np.array_equal(read_wav(tmp_path / "answer.wav")[:call.shape[0], 0], call[:, 1])
