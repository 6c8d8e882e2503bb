"""T38Terminal against libspandsp's T.38 terminal (``t38_terminal``), both directions.

spandsp 0.0.6 through the ctypes shim in ``spandsp_t38_terminal.py``: its
IFP octets are decoded with ``faxengine.t38.ifp.decode`` and ours encoded
with ``ifp.encode`` before its T.38 core takes them, so the wire format is
spandsp's.  ECM and not, V.17 14400, V.29 9600 and V.27ter 4800 (forced by
offering only that modem), 1 and 3 pages, T.38 versions 0 and 3, fill-bit
removal: both ends report success and the pages arrive pixel for pixel.
(spandsp's terminal has no localTCF: its T30_IAF_MODE_NO_TCF skips the CFR
too and sends the page straight after DCS, which is not T.38 §8.1; localTCF
is tested ours to ours.)
"""
from __future__ import annotations

import numpy as np
import pytest

import spandsp_t38_terminal as sp38
from faxengine import tiff
from faxengine.t38.ifp import Data, FieldType, T30Data
from faxengine.t38.terminal import T38Terminal
from t38_pump import pump, received_images, text_page

pytestmark = pytest.mark.skipif(not sp38.available(), reason=sp38.REASON)

RATE = {"V.17": 14400, "V.29": 9600, "V.27ter": 4800}
OURS = {"V.17": ("V.27ter", "V.29", "V.17"), "V.29": ("V.29",), "V.27ter": ("V.27ter",)}
THEIRS = {"V.17": ("v27ter", "v29", "v17"), "V.29": ("v29",), "V.27ter": ("v27ter",)}


def run(tmp_path, ours_send, ecm, modem, npages, version=0, link_ab=None, link_ba=None,
        record=None, fill_bit_removal=False):
    """One call: (our terminal, spandsp's, the pages sent, the pages received)."""
    pages = [text_page(10 + i) for i in range(npages)]
    out = tmp_path / "rx.tif"
    ours = dict(ecm=ecm, modems=OURS[modem], version=version, fill_bit_removal=fill_bit_removal)
    theirs = dict(ecm=ecm, modems=THEIRS[modem], version=version,
                  fill_bit_removal=fill_bit_removal)
    if ours_send:
        me = T38Terminal(True, send=pages, **ours)
        peer = sp38.SpandspT38Terminal(False, receive=out, **theirs)
        pump(me, peer, link_ab, link_ba, max_seconds=200, record=record)
        got = [p.image for p in tiff.read(out)] if out.exists() else []
    else:
        doc = tmp_path / "doc.tif"
        tiff.write(doc, pages, coding="mmr")
        peer = sp38.SpandspT38Terminal(True, send=doc, **theirs)
        me = T38Terminal(False, **ours)
        pump(peer, me, link_ab, link_ba, max_seconds=200, record=record)
        got = received_images(me.events())
    assert me.finished and peer.finished
    return me, peer, pages, got


@pytest.mark.parametrize("npages", [1, 3])
@pytest.mark.parametrize("modem", list(RATE))
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("ours_send", [True, False], ids=["ours-sends", "spandsp-sends"])
def test_interop(tmp_path, ours_send, ecm, modem, npages):
    me, peer, pages, got = run(tmp_path, ours_send, ecm, modem, npages)
    assert me.result.ok, me.result
    assert peer.result.ok, peer.result
    assert me.result.pages == npages
    assert (peer.result.pages_rx if ours_send else peer.result.pages_tx) == npages
    assert me.result.bit_rate == peer.result.bit_rate == RATE[modem]
    assert me.result.ecm == peer.result.ecm == ecm
    assert len(got) == npages
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages))


@pytest.mark.parametrize("ours_send", [True, False], ids=["ours-sends", "spandsp-sends"])
def test_version_3(tmp_path, ours_send):
    me, peer, pages, got = run(tmp_path, ours_send, True, "V.17", 1, version=3)
    assert me.result.ok and peer.result.ok, (me.result, peer.result)
    assert np.array_equal(got[0], pages[0].image)


def test_spandsp_sends_tcf_and_pages_as_we_do(tmp_path):
    """spandsp's own packets: TCF as t4-non-ecm-data zeros at the DCS rate
    (transferredTCF), V.21 frames as HDLC fields with the address 0xFF first."""
    record = []
    run(tmp_path, False, False, "V.29", 1, record=record)
    theirs = [p for t, d, p in record if d == "ab" and isinstance(p, Data)]
    v21 = [p for p in theirs if p.kind is T30Data.V21]
    assert v21[0].fields[0].kind is FieldType.HDLC_DATA and v21[0].fields[0].data[:1] == b"\xff"
    tcf = [f.data for p in theirs if p.kind is T30Data.V29_9600 for f in p.fields
           if f.kind is FieldType.T4_NON_ECM_DATA]
    assert sum(map(len, tcf)) >= 9600 * 1.5 / 8 and not any(tcf[0])



@pytest.mark.parametrize("ours_send", [True, False], ids=["ours-sends", "spandsp-sends"])
def test_fill_bit_removal(tmp_path, ours_send):
    me, peer, pages, got = run(tmp_path, ours_send, False, "V.29", 3, fill_bit_removal=True)
    assert me.result.ok and peer.result.ok, (me.result, peer.result)
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages, strict=True))
