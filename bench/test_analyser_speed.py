"""Call analyser speed: a 60 s recording of a fax call, decoded.

The recording: ours to ours, 30 pages at V.17 14400 without ECM or with
ECM (MMR), each call cut to its first 60 s (phase B, TCF and the pages so
far; the analyser takes a cut recording as any other), as one stereo file
(a direction per channel) and as one mono file (both mixed), 16-bit PCM WAV
at 8000 samples/s.  One round is ``analyse(path, out_dir)``: reading the
WAV, the V.21 and tone passes over every channel, the high-speed receivers
over each burst, the pages decoded and written as TIFF.  The rate is
seconds of recording per second of wall clock (best round); issue 10 asks
for at least 100x.  Measured here on the shared 2-core machine, best of 5:
mono 419-556x (non-ECM, 11 pages) and 422-543x (ECM, 15 pages), stereo
326-401x and 298-417x, over three runs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from faxengine.media.analyser import analyse
from faxengine.media.wav import write_wav
from faxengine.t30.terminal import FaxTerminal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "media"))
from recordings import mono, page, record_call  # noqa: E402

REQUIRED_X = 100
SECONDS = 60


@pytest.fixture(scope="module", params=[False, True], ids=["non-ecm", "ecm"])
def recording(request, tmp_path_factory):
    ecm = request.param
    tmp = tmp_path_factory.mktemp("analyser")
    doc = [page(i, rows=1100) for i in range(30)]
    x = record_call(FaxTerminal(True, send=doc, ecm=ecm),
                    FaxTerminal(False, receive=tmp / "rx.tif", ecm=ecm), max_seconds=SECONDS)
    assert x.shape[0] == SECONDS * 8000
    write_wav(tmp / "stereo.wav", x)
    write_wav(tmp / "mono.wav", mono(x))
    return ecm, tmp


@pytest.mark.parametrize("layout", ["mono", "stereo"])
def test_analyse_a_60_s_recording(benchmark, speed, recording, layout):
    ecm, tmp = recording
    group = f"analyse 60 s {'ecm' if ecm else 'non-ecm'} {layout}"
    benchmark.group = group
    seen = {}

    def run():
        seen["report"] = analyse(tmp / f"{layout}.wav", tmp / f"out-{layout}")

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    report = seen["report"]
    assert len(report.pages) >= 3 and report.bursts[0].tcf == "good"
    stats = getattr(benchmark, "stats", None)
    if stats:
        best = stats.stats.min
        speed.record(group, "ours", SECONDS, best, stats.stats.rounds, unit="x real time")
        verdict = "PASS" if SECONDS / best >= REQUIRED_X else "FAIL"
        print(f"\n{group}: {len(report.pages)} pages, {len(report.frames)} frames, "
              f"{SECONDS / best:.0f}x real time (required {REQUIRED_X}x: {verdict})")
        assert SECONDS / best >= REQUIRED_X
