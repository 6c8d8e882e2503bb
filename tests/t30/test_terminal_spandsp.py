"""FaxTerminal against libspandsp's fax terminal, both directions.

spandsp 0.0.6 (through the ctypes harness in tests/spandsp) is the reference
peer.  Across ECM and non-ECM, V.17 14400, V.29 9600 and V.27ter 4800
(forced by offering only that modem), MH, MR and MMR, clean and G.711 lines
with noise, and documents of 1, 3 and 10 pages including the CCITT charts,
both ends must report success and the pages must arrive pixel for pixel.

Noise: spandsp's own terminals, spandsp to spandsp, cannot take 30 dB SNR
through this line model: its receivers hold their carrier on in the noise,
and it waits for that carrier to drop before it transmits (measured: as the
caller, after CNG it sends nothing at all although its frame log says it
sent TSI and DCS; no call gets through with -44 dBm0 of noise against its
-14 dBm0 signal; with A-law and chart 1 without ECM, one or two noise
seeds in six still fail at -52, -56, -60 and -64 dBm0).  Its *receiver* is
the weak end.  Spandsp sending to ours got through with all six seeds at
-52 dBm0 (38 dB SNR).  The other way its V.17 receiver misses a short
training now and then: at the modem level (long training, restart with
short_train, short training, A-law, -60 dBm0 of noise) it missed 3 of 12 of
its own short trainings and 2 of 12 of ours, none at -70 dBm0; in calls
with A-law and -65 or -70 dBm0 of noise, a page after an MCF still went
unseen and spandsp ended by T2 (at -80 none did).  So the noisy calls run
at -52 dBm0 with spandsp sending and -80 dBm0 with spandsp receiving;
ours to ours runs at 30 dB SNR and below (test_terminal.py,
test_terminal_failures.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import spandsp
from faxengine import line, tiff
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page
from test_terminal import text_page

pytestmark = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)

# noise with spandsp as the receiver / as the sender (see the module docstring)
NOISE_DBM0 = {True: -80.0, False: -52.0}
SP_MODEM = {"V.17": "v17", "V.29": "v29", "V.27ter": "v27ter"}
RATE = {"V.17": 14400, "V.29": 9600, "V.27ter": 4800}
OUR_MODEMS = {"V.17": ("V.27ter", "V.29", "V.17"), "V.29": ("V.29",), "V.27ter": ("V.27ter",)}


def document(n: int, charts: bool) -> list[Page]:
    pages = []
    if charts:
        from charts import load_chart
        pages = [Page(load_chart(k), 204, 196) for k in range(1, 9)][:n]
    return pages + [text_page(100 + i, rows=700) for i in range(n - len(pages))]


def lines(law, noise):
    if law is None and noise is None:
        return None, None
    return (line.Line(g711=law, noise_dbm0=noise, seed=11),
            line.Line(g711=law, noise_dbm0=noise, seed=12))


def _noise(ours_send, noise):
    return NOISE_DBM0[ours_send] if noise else None


def run(tmp_path, pages, ours_send, ecm, modem, coding, law=None, noise=None, **ours):
    """One call; returns (our result, spandsp's result, pages received)."""
    out = tmp_path / "rx.tif"
    codings = {"mh": ("mh",), "mr": ("mr", "mh"), "mmr": ("mmr", "mr", "mh")}[coding]
    sp_args = dict(ecm=ecm, modems=(SP_MODEM[modem],), codings=codings, ident="5551234")
    if ours_send:
        me = FaxTerminal(True, send=pages, ecm=ecm, codings=codings, modems=OUR_MODEMS[modem],
                         ident="+1 555 0100", **ours)
        peer = spandsp.FaxTerminal(False, receive=out, **sp_args)
        spandsp.run_call(me, peer, *lines(law, _noise(True, noise)), max_seconds=600)
    else:
        doc = tmp_path / "doc.tif"
        tiff.write(doc, pages, coding="mmr")
        peer = spandsp.FaxTerminal(True, send=doc, **sp_args)
        me = FaxTerminal(False, receive=out, ecm=ecm, codings=codings, modems=OUR_MODEMS[modem],
                         ident="+1 555 0100", **ours)
        spandsp.run_call(peer, me, *lines(law, _noise(False, noise)), max_seconds=600)
    assert me.finished and peer.finished
    got = [p.image for p in tiff.read(out)] if out.exists() and out.stat().st_size > 8 else []
    return me.result, peer.result, got


CASES = [
    # direction, ecm, modem, coding, law, noise, pages, charts
    ("ours", True, "V.17", "mmr", None, None, 1, True),
    ("spandsp", True, "V.17", "mmr", None, None, 1, True),
    ("ours", False, "V.17", "mr", None, None, 1, True),
    ("spandsp", False, "V.17", "mr", None, None, 1, True),
    ("ours", False, "V.29", "mh", "alaw", None, 3, False),
    ("spandsp", False, "V.29", "mh", "ulaw", None, 3, False),
    ("ours", True, "V.29", "mr", "ulaw", True, 3, False),
    ("spandsp", True, "V.29", "mh", "alaw", True, 3, False),
    ("ours", True, "V.27ter", "mr", None, None, 1, False),
    ("spandsp", True, "V.27ter", "mh", None, None, 1, False),
    ("ours", False, "V.27ter", "mh", None, None, 1, False),
    ("spandsp", False, "V.27ter", "mr", None, None, 1, False),
    ("ours", True, "V.17", "mmr", "alaw", True, 10, True),
    ("spandsp", True, "V.17", "mmr", "ulaw", True, 10, True),
    ("ours", False, "V.17", "mh", "ulaw", True, 3, True),
    ("spandsp", False, "V.17", "mr", "alaw", True, 3, True),
]


def _id(case):
    direction, ecm, modem, coding, law, noise, n, charts = case
    return "-".join([f"{direction}-sends", "ecm" if ecm else "non-ecm", modem, coding,
                     (law or "clean") + ("-noise" if noise else ""), f"{n}p"])


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_interop_with_spandsp(tmp_path, case):
    direction, ecm, modem, coding, law, noise, n, charts = case
    if charts:
        from charts import CCITT_DIR, ABSENT
        if not CCITT_DIR.is_dir():
            pytest.skip(ABSENT)
    pages = document(n, charts)
    ours_send = direction == "ours"
    mine, theirs, got = run(tmp_path, pages, ours_send, ecm, modem, coding, law, noise)
    assert mine.ok and theirs.ok, (mine, theirs)
    assert mine.pages == n
    assert (theirs.pages_rx if ours_send else theirs.pages_tx) == n
    assert mine.bit_rate == theirs.bit_rate == RATE[modem]
    assert mine.ecm == theirs.ecm == ecm
    assert mine.coding == theirs.coding == coding
    assert mine.remote_ident == "5551234" and theirs.remote_ident == "+1 555 0100"
    assert len(got) == n
    if charts and n == 1 and modem == "V.17" and ours_send:
        # issue 5: no longer than spandsp to spandsp (26.8 s with ECM, 30.3 s without)
        assert mine.duration_s <= (26.8 if ecm else 30.3)
    if ecm or not noise:
        for k, (a, p) in enumerate(zip(got, pages)):
            assert np.array_equal(a, p.image), f"page {k + 1} differs"


def test_our_64_octet_ecm_frames_to_spandsp(tmp_path):
    pages = document(2, False)
    mine, theirs, got = run(tmp_path, pages, True, True, "V.17", "mmr", frame_size=64)
    assert mine.ok and theirs.ok
    assert all(np.array_equal(a, p.image) for a, p in zip(got, pages, strict=True))


@pytest.mark.parametrize("ours_send", [True, False], ids=["ours-sends", "spandsp-sends"])
@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
def test_resolution_change_by_eom_with_spandsp(tmp_path, ours_send, ecm):
    pages = [text_page(1, rows=300), text_page(2, rows=300, resolution="standard"),
             text_page(3, rows=300)]
    mine, theirs, got = run(tmp_path, pages, ours_send, ecm, "V.17", "mr")
    assert mine.ok and theirs.ok, (mine, theirs)
    assert len(got) == 3
    assert all(np.array_equal(a, p.image) for a, p in zip(got, pages))
    assert [p.resolution for p in tiff.read(tmp_path / "rx.tif")] == ["fine", "standard", "fine"]


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
@pytest.mark.parametrize("ours_polls", [True, False], ids=["ours-polls", "spandsp-polls"])
def test_polling_with_spandsp(tmp_path, ecm, ours_polls):
    """The calling terminal receives: DIS offers a document, the caller answers DTC."""
    page = text_page(9)
    out, doc = tmp_path / "rx.tif", tmp_path / "doc.tif"
    tiff.write(doc, [page])
    if ours_polls:
        caller = FaxTerminal(True, receive=out, ecm=ecm)
        answerer = spandsp.FaxTerminal(False, send=doc, ecm=ecm)
    else:
        caller = spandsp.FaxTerminal(True, receive=out, ecm=ecm)
        answerer = FaxTerminal(False, send=[page], ecm=ecm)
    spandsp.run_call(caller, answerer, max_seconds=120)
    assert caller.result.ok and answerer.result.ok, (caller.result, answerer.result)
    assert caller.result.ecm == answerer.result.ecm == ecm
    [got] = tiff.read(out)
    assert np.array_equal(got.image, page.image)
    if not ours_polls:
        names = [name for _, _, _, name in caller.frames()]
        assert names[:2] == ["DIS", "DTC"]
