"""T38Gateway between libspandsp's audio fax terminal and its T.38 terminal.

spandsp's ``fax_state`` (``tests/spandsp``'s ``FaxTerminal``, its T.30 over
its own modems) on the audio side, its ``t38_terminal`` (the ctypes shim
``spandsp_t38_terminal.py``) on the IFP side, our gateway between: both
directions, ECM and not, V.17 14400 and V.29 9600, 1 and 3 pages.  Both
spandsp ends report OK and the pages arrive pixel for pixel.  And our two
terminals through spandsp's ``t38_gateway`` (the benchmark's reference).
"""
from __future__ import annotations

import numpy as np
import pytest

import spandsp
import spandsp_t38_gateway as spgw
import spandsp_t38_terminal as sp38
from faxengine import FaxTerminal, tiff
from faxengine.t38.gateway import T38Gateway
from faxengine.t38.terminal import T38Terminal
from gateway_pump import Bursty, pump_gateway
from t38_pump import received_images, text_page

pytestmark = pytest.mark.skipif(not (spandsp.spandsp_available() and sp38.available()),
                                reason=sp38.REASON)

MODEMS = {"V.17": ("v27ter", "v29", "v17"), "V.29": ("v29",)}
RATE = {"V.17": 14400, "V.29": 9600}


@pytest.mark.parametrize("modem,npages", [("V.17", 1), ("V.29", 3)])
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-calls-sends", "t38-calls-sends"])
def test_spandsp_through_our_gateway(tmp_path, audio_sends, ecm, modem, npages):
    pages = [text_page(30 + i) for i in range(npages)]
    doc, out = tmp_path / "doc.tif", tmp_path / "rx.tif"
    tiff.write(doc, pages, coding="mmr")
    kw = dict(ecm=ecm, modems=MODEMS[modem])
    if audio_sends:
        audio = spandsp.FaxTerminal(True, send=doc, **kw)
        t38 = sp38.SpandspT38Terminal(False, receive=out, **kw)
    else:
        t38 = sp38.SpandspT38Terminal(True, send=doc, **kw)
        audio = spandsp.FaxTerminal(False, receive=out, **kw)
    gw = T38Gateway()
    pump_gateway(audio, gw, t38)
    assert audio.result.ok and t38.result.ok, (audio.result, t38.result)
    assert (audio.result.bit_rate, audio.result.ecm) == (RATE[modem], ecm)
    assert gw.result.ok and gw.result.pages == npages, gw.result
    got = [p.image for p in tiff.read(out)]
    assert len(got) == npages
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages))


@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
def test_late_ifp_filled_for_spandsp(tmp_path, ecm):
    """IFP from spandsp's T.38 sender stalling 200 ms every 0.5 s: spandsp's
    audio receiver gets T.4 fill (or flags) where data is late, pixel-equal."""
    pages = [text_page(37), text_page(38)]
    doc, out = tmp_path / "doc.tif", tmp_path / "rx.tif"
    tiff.write(doc, pages, coding="mmr")
    t38 = sp38.SpandspT38Terminal(True, send=doc, ecm=ecm)
    audio = spandsp.FaxTerminal(False, receive=out, ecm=ecm)
    gw = T38Gateway()
    pump_gateway(audio, gw, t38, to_gw=Bursty())
    assert audio.result.ok and t38.result.ok and gw.result.ok, (audio.result, t38.result)
    assert all(np.array_equal(g.image, p.image) for g, p in zip(tiff.read(out), pages, strict=True))
    assert (gw.fill_bits > 1000) != ecm


@pytest.mark.skipif(not spgw.available(), reason=spgw.REASON)
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-calls-sends", "t38-calls-sends"])
def test_our_terminals_through_spandsp_gateway(audio_sends, ecm):
    """The reference the benchmark measures against: spandsp's t38_gateway
    (``spandsp_t38_gateway.py``) carries a call between our audio terminal
    and our T.38 terminal in the same pump, pages pixel-equal."""
    pages = [text_page(35), text_page(36)]
    if audio_sends:
        audio, t38 = FaxTerminal(True, send=pages, ecm=ecm), T38Terminal(False, ecm=ecm)
    else:
        t38, audio = T38Terminal(True, send=pages, ecm=ecm), FaxTerminal(False, ecm=ecm)
    pump_gateway(audio, spgw.SpandspT38Gateway(), t38)
    assert audio.result.ok and t38.result.ok, (audio.result, t38.result)
    got = received_images((t38 if audio_sends else audio).events())
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("version", [0, 3])
@pytest.mark.parametrize("modem,npages", [("V.17", 3), ("V.29", 1), ("V.27ter", 1), ("V.27ter", 3)])
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-calls-sends", "t38-calls-sends"])
def test_spandsp_through_our_gateway_matrix(tmp_path, audio_sends, ecm, modem, npages, version):
    """The rest of the matrix (slow): V.27ter 4800 too, T.38 versions 0 and 3."""
    pages = [text_page(80 + i) for i in range(npages)]
    doc, out = tmp_path / "doc.tif", tmp_path / "rx.tif"
    tiff.write(doc, pages, coding="mmr")
    kw = dict(ecm=ecm, modems={"V.27ter": ("v27ter",)}.get(modem, MODEMS.get(modem)))
    if audio_sends:
        audio = spandsp.FaxTerminal(True, send=doc, **kw)
        t38 = sp38.SpandspT38Terminal(False, receive=out, version=version, **kw)
    else:
        t38 = sp38.SpandspT38Terminal(True, send=doc, version=version, **kw)
        audio = spandsp.FaxTerminal(False, receive=out, **kw)
    pump_gateway(audio, T38Gateway(version=version), t38)
    assert audio.result.ok and t38.result.ok, (audio.result, t38.result)
    got = [p.image for p in tiff.read(out)]
    assert len(got) == npages and all(np.array_equal(g, p.image) for g, p in zip(got, pages))
