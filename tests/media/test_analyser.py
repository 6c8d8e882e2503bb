"""The call analyser (faxengine.media.analyser) on recordings of whole calls.

spandsp to spandsp (libspandsp's fax terminals, through tests/spandsp),
mono and stereo, ECM and not, V.17 14400 and V.29 9600: every frame both
sides sent (as spandsp logs them: V.21 frames and ECM frames), in order and
octet for octet, and the pages pixel-equal to what spandsp sent.  Ours to
ours through G.711 and resampled WAVs, the JSON and plots of the command,
and hostile recordings: it reports, it never raises.
"""
from __future__ import annotations

import json
import subprocess
import sys
import wave

import numpy as np
import pytest
from scipy.signal import resample_poly

import spandsp
from faxengine import line, tiff
from faxengine.media.analyser import analyse, analyse_samples, main
from faxengine.media.wav import write_wav
from faxengine.t30.terminal import FaxTerminal
from recordings import mono, page, record_call

DOC = [page(1), page(2)]


@pytest.fixture(scope="module")
def spandsp_calls(tmp_path_factory):
    """spandsp to spandsp, two pages, per (ecm, modem): the stereo recording
    and every frame each side logged as sent: (channel, octets), in order."""
    if not spandsp.spandsp_available():
        pytest.skip(spandsp.REASON)
    doc = tmp_path_factory.mktemp("sp") / "doc.tif"
    tiff.write(doc, DOC, coding="mmr")
    calls = {}
    for ecm in (True, False):
        for modem in ("v17", "v29"):
            a = spandsp.FaxTerminal(True, send=doc, ecm=ecm, modems=(modem,))
            b = spandsp.FaxTerminal(False, receive=doc.parent / "rx.tif", ecm=ecm, modems=(modem,))
            x = record_call(a, b)
            assert a.result.ok and b.result.ok
            sent = sorted([(s, 0, d) for way, s, d, _ in a.frames() if way == "tx"]
                          + [(s, 1, d) for way, s, d, _ in b.frames() if way == "tx"],
                          key=lambda f: f[0])
            calls[ecm, modem] = x, [(ch, d) for _, ch, d in sent]
    return calls


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
@pytest.mark.parametrize("modem,rate", [("v17", 14400), ("v29", 9600)])
@pytest.mark.parametrize("layout", ["stereo-pcm", "mono-alaw", "mono-ulaw"])
def test_spandsp_calls_every_frame_in_order_and_the_pages(spandsp_calls, tmp_path, ecm, modem,
                                                          rate, layout):
    x, sent = spandsp_calls[ecm, modem]
    path = tmp_path / "call.wav"
    if layout == "stereo-pcm":
        write_wav(path, x)
    else:
        write_wav(path, mono(x), format=layout.split("-")[1])
    report = analyse(path, tmp_path / "out")
    assert [f.data for f in report.frames] == [d for _, d in sent]
    if layout == "stereo-pcm":
        assert [f.channel for f in report.frames] == [ch for ch, _ in sent]
    assert len(report.pages) == 2
    for got, want in zip(report.pages, DOC):
        assert np.array_equal(got.image, want.image)
        assert np.array_equal(tiff.read(got.path)[0].image, want.image)
    name = {"v17": "V.17", "v29": "V.29"}[modem]
    assert {(b.modem, b.rate) for b in report.bursts} == {(name, rate)}
    assert [b.kind for b in report.bursts] == ["TCF"] + ["ECM" if ecm else "page"] * 2
    assert report.bursts[0].tcf == "good"
    assert all(b.trained and b.eq_snr_db > 30 for b in report.bursts)
    assert all(-16 < b.level_dbm0 < -12 for b in report.bursts)     # spandsp sends -14 dBm0
    assert report.result.endswith("the call ended normally (EOP, MCF, DCN)")
    assert report.result.startswith(f"2 pages decoded at {name} {rate}")
    assert report.notes == []                           # a clean call: nothing failed


def _ours(tmp_path, ecm, **kw):
    return record_call(FaxTerminal(True, send=DOC, ecm=ecm, **kw),
                       FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=ecm))


def test_ours_to_ours_resampled_to_44100_hz(tmp_path):
    x = mono(_ours(tmp_path, ecm=True, modems=("V.27ter",)))
    y = np.clip(np.rint(resample_poly(x.astype(np.float64), 441, 80)), -32768, 32767)
    with wave.open(str(tmp_path / "hi.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(y.astype("<i2").tobytes())
    at_8k = analyse_samples(x)
    report = analyse(tmp_path / "hi.wav")
    assert [f.data for f in report.frames] == [f.data for f in at_8k.frames]
    assert [f.name for f in report.frames if f.modem == "V.21"][:2] == ["DIS", "DCS"]
    assert {(b.modem, b.rate) for b in report.bursts} == {("V.27ter", 4800)}
    assert [p.image.tolist() for p in report.pages] == [p.image.tolist() for p in DOC]


def test_tones_levels_and_a_silent_floor(tmp_path):
    report = analyse_samples(_ours(tmp_path, ecm=False))
    assert [(t.kind, t.channel) for t in report.tones] == [("CNG", 0), ("CED", 1)]
    assert report.tones[0].start == 0.0 and 0.45 <= report.tones[0].end <= 0.55
    assert 2.5 <= report.tones[1].end - report.tones[1].start <= 3.1     # T.30 §4.2: 2.6-4 s
    assert report.notes == []
    for b in report.bursts:
        assert -13.5 < b.level_dbm0 < -12.5                 # our terminals send -13 dBm0
        assert b.snr_db is None                             # digital silence between signals
        assert b.eq_error is not None and b.eq_error < 1e-3


def test_a_noisy_g711_line_snr_and_level(tmp_path):
    """Both ways 9 dB of loss, A-law, white noise 30 dB below the signal
    (the project's SNR: modem power while on over noise across 0-4000 Hz),
    recorded where each end hears it."""
    lines = tuple(line.Line(gain_db=-9.0, g711="alaw", noise_dbm0=-13.0 - 9.0 - 30.0, seed=s)
                  for s in (1, 2))
    x = record_call(FaxTerminal(True, send=DOC, ecm=False),
                    FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=False), lines=lines)
    for rec in (x, mono(x)):
        report = analyse_samples(rec)
        assert [p.image.tolist() for p in report.pages] == [p.image.tolist() for p in DOC]
        assert [b.kind for b in report.bursts] == ["TCF", "page", "page"]
        for b in report.bursts:
            assert abs(b.level_dbm0 + 22.0) < 0.5
            assert abs(b.snr_db - 30.0) < 1.5 if rec.ndim == 2 else abs(b.snr_db - 27.0) < 1.5
            assert 20 < b.eq_snr_db < 32


def test_a_recording_cut_mid_call_reports_what_it_heard(tmp_path):
    x = _ours(tmp_path, ecm=True)
    full = analyse_samples(x)
    cut_at = int(full.bursts[2].start * 8000)               # before the second page
    report = analyse_samples(x[:cut_at])
    assert len(report.pages) == 1 and np.array_equal(report.pages[0].image, DOC[0].image)
    assert report.result == "1 page decoded at V.17 14400, ECM; the recording ends before " \
                            "the call does"
    assert not any(n.startswith("analysis stopped") for n in report.notes)


def test_the_command_json_and_pages(tmp_path, capsys):
    write_wav(tmp_path / "call.wav", _ours(tmp_path, ecm=True))
    out = tmp_path / "out"
    assert main([str(tmp_path / "call.wav"), "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"frames", "bursts", "pages", "result"}
    first = doc["frames"][0]
    assert set(first) >= {"time", "name", "hex", "text"}
    assert first["name"] == "DIS" and first["hex"].startswith("ff1380")
    assert doc["pages"] == [str(out / "page-001.tif"), str(out / "page-002.tif")]
    assert [p.image.tolist() for p in tiff.read(doc["pages"][1])] == [DOC[1].image.tolist()]
    assert [b["kind"] for b in doc["bursts"]] == ["TCF", "ECM", "ECM"]
    assert main([str(tmp_path / "call.wav")]) == 0
    text = capsys.readouterr().out
    assert "DCS: V.17 14400, fine, MMR, ECM 256, A4" in text
    assert "result: 2 pages decoded at V.17 14400, ECM; the call ended normally" in text


def test_the_command_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib is absent: pip install matplotlib")
    write_wav(tmp_path / "call.wav", _ours(tmp_path, ecm=False))
    out = tmp_path / "plots"
    assert main([str(tmp_path / "call.wav"), "--out", str(out), "--plot"]) == 0
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["burst-01.png", "burst-02.png", "burst-03.png", "timeline.png"]
    assert all((out / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert f"note: plot: {out / 'timeline.png'}" in capsys.readouterr().out


def test_a_file_that_is_no_wav_is_reported_not_raised(tmp_path, capsys):
    (tmp_path / "x.wav").write_text("not audio")
    report = analyse(tmp_path / "x.wav")
    assert report.result.startswith("could not read the recording: not a WAV file")
    assert main([str(tmp_path / "x.wav")]) == 2
    assert main([str(tmp_path / "missing.wav")]) == 2
    assert "could not read the recording" in capsys.readouterr().out
    run = subprocess.run([sys.executable, "-m", "faxengine.media.analyser", str(tmp_path / "x.wav")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "result: could not read the recording: not a WAV" in run.stdout
    run = subprocess.run([sys.executable, "-m", "faxengine", "decode", str(tmp_path / "x.wav")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "result: could not read the recording: not a WAV" in run.stdout


def test_faxengine_decode_is_the_analyser(tmp_path, capsys):
    from faxengine.cli import main as faxengine_main
    write_wav(tmp_path / "call.wav", _ours(tmp_path, ecm=True))
    assert faxengine_main(["decode", str(tmp_path / "call.wav"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in doc["frames"]][:3] == ["DIS", "DCS", "CFR"]
    assert faxengine_main(["decode", "--help"]) == 0
    assert "usage: faxengine decode" in capsys.readouterr().out


def _hostile(seed: int) -> np.ndarray:
    """Garbage of several kinds, some with pieces of a real call in it."""
    rng = np.random.default_rng(seed)
    kind = seed % 5
    if kind == 0:
        return rng.integers(-32768, 32767, 8000 * 5, dtype=np.int16)          # full-scale noise
    if kind == 1:
        return np.zeros(8000 * 3, np.int16)                                   # silence
    if kind == 2:
        return np.full(8000 * 2, 32767, np.int16)                             # DC at the rail
    t = np.arange(8000 * 4) / 8000
    if kind == 3:                                                             # tones of all sorts
        f = rng.uniform(300, 3400, 5)
        return (3000 * np.sin(2 * np.pi * f[:, None] * t).sum(0)).astype(np.int16)
    return np.zeros(0, np.int16)                                              # nothing at all


@pytest.mark.parametrize("seed", range(10))
def test_garbage_recordings_never_raise(seed):
    x = _hostile(seed)
    for rec in (x, np.column_stack([x, x[::-1]])):
        report = analyse_samples(rec)
        assert not any(n.startswith("analysis stopped") for n in report.notes), report.notes
        assert report.result
        json.dumps(report.to_json())


def test_a_real_call_chopped_and_shuffled_never_raises(tmp_path):
    x = mono(_ours(tmp_path, ecm=True))
    rng = np.random.default_rng(7)
    for _ in range(6):
        cuts = np.sort(rng.integers(0, x.size, 12))
        pieces = np.split(x, cuts)
        rng.shuffle(pieces)
        report = analyse_samples(np.concatenate(pieces))
        assert not any(n.startswith("analysis stopped") for n in report.notes), report.notes
        json.dumps(report.to_json())


def test_hostile_wav_files_are_reported(tmp_path):
    good = tmp_path / "good.wav"
    write_wav(good, mono(_ours(tmp_path, ecm=False))[:8000 * 8])
    raw = good.read_bytes()
    rng = np.random.default_rng(3)
    cases = {
        "truncated.wav": raw[:len(raw) // 3],
        "header-only.wav": raw[:44],
        "cut-in-header.wav": raw[:30],
        "random.wav": raw[:44] + rng.integers(0, 256, 50000, dtype=np.uint8).tobytes(),
        "flipped.wav": bytes(b ^ 0xFF if i % 97 == 0 and i > 44 else b for i, b in enumerate(raw)),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        report = analyse(tmp_path / name)
        assert report.result, name
        assert not any(n.startswith("analysis stopped") for n in report.notes), (name, report.notes)
    assert analyse(tmp_path / "cut-in-header.wav").result.startswith("could not read the recording")
    assert "data chunk claims more" in analyse(tmp_path / "truncated.wav").notes[0]


@pytest.mark.parametrize("modem,rate", [("V.17", 14400), ("V.29", 9600), ("V.27ter", 4800)])
def test_a_recording_that_starts_after_the_dcs_finds_the_modem(tmp_path, modem, rate):
    x = _ours(tmp_path, ecm=False, modems={"V.17": ("V.27ter", "V.29", "V.17")}.get(modem, (modem,)))
    start = int((analyse_samples(x).bursts[0].start - 0.05) * 8000)
    report = analyse_samples(x[start:])
    assert [(b.kind, b.modem, b.rate, b.trained) for b in report.bursts] == \
        [("unknown", modem, rate, True)] * 3
    assert report.notes == [f"no DCS before the burst at 0.05 s: {modem} {rate} trains on it"]
    assert report.pages == []


@pytest.mark.parametrize("seed,pprs,modes", [(4, 2, "V.17 14400"),
                                             (5, 1, "V.17 7200")])
def test_clicks_on_the_line_ppr_and_fall_back(tmp_path, seed, pprs, modes):
    """Impulse noise on the caller's line: ECM frames lost and sent again
    after PPR, TCFs failed and the rate stepped down (T.30 §5.3.2.2); the
    analyser, hearing what the receiver heard, judges each TCF as it did
    and reassembles the blocks from first sendings and repeats."""
    lines = (line.Line(impulse_rate_hz=1.0, seed=seed), None)
    x = record_call(FaxTerminal(True, send=DOC, ecm=True),
                    FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=True), lines=lines)
    report = analyse_samples(x)
    v21 = [f for f in report.frames if f.modem == "V.21"]
    assert [f.name for f in v21].count("PPR") == pprs
    for b in (b for b in report.bursts if b.kind == "TCF"):
        answer = next(f.name for f in v21 if f.time > b.end and f.channel == 1)
        assert answer == ("CFR" if b.tcf == "good" else "FTT")
    assert [p.image.tolist() for p in report.pages] == [p.image.tolist() for p in DOC]
    assert report.result == f"2 pages decoded at {modes}, ECM; the call ended normally (EOP, MCF, DCN)"


def test_ansam_counts_as_ced_and_silence_as_nothing():
    """V.8 ANSam: 2100 Hz with 20 % amplitude modulation at 15 Hz and a
    phase reversal every 450 ms."""
    t = np.arange(8000 * 3) / 8000
    ansam = 6000 * (1 + 0.2 * np.sin(2 * np.pi * 15 * t)) \
        * np.sin(2 * np.pi * 2100 * t + np.pi * (np.floor(t / 0.45) % 2))
    x = np.concatenate([np.zeros(4000), ansam, np.zeros(4000)]).astype(np.int16)
    report = analyse_samples(x)
    assert [(t.kind, t.start, t.end) for t in report.tones] == [("CED", 0.5, 3.5)]
    assert report.result == "no T.30 frames found (heard: CED)"
    assert analyse_samples(np.zeros(8000, np.int16)).result == "no fax signals found"


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
def test_stereo_with_crosstalk_keeps_each_signal_on_its_channel(tmp_path, ecm):
    """Each channel also carries the other direction 20 dB down and 30 ms
    late (a hybrid's echo, a recorder's crosstalk): every tone, frame and
    burst is reported once, on the channel that sent it."""
    x = _ours(tmp_path, ecm=ecm)
    clean = analyse_samples(x)

    def leak(s):
        return np.concatenate([np.zeros(240), s[:-240]]) * 0.1

    y = np.column_stack([x[:, 0] + leak(x[:, 1]), x[:, 1] + leak(x[:, 0])]).astype(np.int16)
    report = analyse_samples(y)
    assert [(f.channel, f.data) for f in report.frames] == [(f.channel, f.data) for f in clean.frames]
    assert [(b.channel, b.kind) for b in report.bursts] == [(b.channel, b.kind) for b in clean.bursts]
    assert [(t.kind, t.channel) for t in report.tones] == [("CNG", 0), ("CED", 1)]
    assert any("heard on both channels" in n for n in report.notes)
    assert [p.image.tolist() for p in report.pages] == [p.image.tolist() for p in DOC]
