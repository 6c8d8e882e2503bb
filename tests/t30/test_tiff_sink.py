"""The receiver's TIFF file (``files.TiffSink``): an ECM page that arrived in
the file's coding (MMR) and decoded cleanly up to its EOFB is stored as it
arrived, not coded again; anything else is coded from the kept page.  Either
way libtiff (through Pillow) reads back exactly the page kept.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import spandsp
from spandsp import run_call as pump
from faxengine import t4, tiff
from faxengine.t30 import files
from faxengine.t30.events import EcmStats, PageReceived
from faxengine.t30.terminal import FaxTerminal

from test_terminal import text_page


def libtiff_pages(path) -> list[np.ndarray]:
    """The pages as libtiff decodes them (True = black)."""
    pages = []
    with Image.open(path) as im:
        for i in range(im.n_frames):
            im.seek(i)
            pages.append(~np.asarray(im.convert("1"), dtype=bool))
    return pages


@pytest.fixture
def coded(monkeypatch):
    """The pages the sink codes itself (``PageCoder``s it makes), counted."""
    made = []
    real = files.PageCoder

    def counting(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(files, "PageCoder", counting)
    return made


@pytest.mark.parametrize("ecm,codings,file_coding,stored", [
    (True, ("mmr", "mr", "mh"), "mmr", True),       # arrived as the file holds it
    (True, ("mmr", "mr", "mh"), "mh", False),       # the file wants another coding
    (True, ("mh",), "mmr", False),                  # it arrived in another coding
    (False, ("mr", "mh"), "mmr", False),            # no ECM: lines may have been repaired
], ids=["ecm-mmr", "ecm-mmr-to-mh-file", "ecm-mh", "non-ecm"])
def test_a_page_stored_as_it_arrived_or_coded_again(tmp_path, coded, ecm, codings, file_coding,
                                                    stored):
    pages = [text_page(1, rows=500), text_page(2, rows=300)]
    out = tmp_path / "rx.tif"
    tx = FaxTerminal(True, send=pages, ecm=ecm, codings=codings)
    rx = FaxTerminal(False, receive=out, ecm=ecm, receive_coding=file_coding)
    pump(tx, rx, max_seconds=120)
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert len(coded) == (0 if stored else 2)
    got = libtiff_pages(out)
    assert len(got) == 2 and all(np.array_equal(g, p.image) for g, p in zip(got, pages))
    if stored:      # our sender's MMR is what the file layer would have coded
        with open(out, "rb") as f:
            body = f.read()
        for p in pages:
            assert t4.encode(p.image, "mmr") in body


def test_spandsps_mmr_pages_stored_as_they_arrived_read_back_by_libtiff(tmp_path, coded):
    if not spandsp.spandsp_available():
        pytest.skip(spandsp.REASON)
    pages = [text_page(3, rows=700, resolution="standard")]
    src, out = tmp_path / "tx.tif", tmp_path / "rx.tif"
    tiff.write(src, pages, coding="mh")
    tx = spandsp.FaxTerminal(True, send=src, ecm=True)
    rx = FaxTerminal(False, receive=out, ecm=True)
    pump(tx, rx, max_seconds=120)
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert rx.result.coding == "mmr" and coded == []
    [got] = libtiff_pages(out)
    assert np.array_equal(got, pages[0].image)
    assert np.array_equal(tiff.read(out)[0].image, pages[0].image)


ECM = EcmStats(blocks=1, frames=10, ppr=0, incomplete=False)


def test_an_offer_is_for_the_next_page_only_and_in_mmr_only(tmp_path, coded):
    image = text_page(4, rows=200).image
    data = t4.encode(image, "mmr")
    sink = files.TiffSink(tmp_path / "rx.tif", "mmr")
    sink.offer("mmr", data + b"\0" * 40)        # ECM fill after EOFB is left out
    sink(PageReceived(0.0, 1, image, 204, 196, ecm=ECM))
    sink(PageReceived(0.0, 2, image, 204, 196, ecm=ECM))     # nothing offered: coded
    mh = files.TiffSink(tmp_path / "mh.tif", "mh")
    mh.offer("mh", t4.encode(image, "mh"))      # MH data end with RTC, a TIFF strip does not
    mh(PageReceived(0.0, 1, image, 204, 196, ecm=ECM))
    sink.close()
    mh.close()
    assert len(coded) == 2
    assert all(np.array_equal(g, image) for g in libtiff_pages(tmp_path / "rx.tif")
               + libtiff_pages(tmp_path / "mh.tif"))
    with open(tmp_path / "rx.tif", "rb") as f:
        assert data + b"\0" * 40 not in f.read()


def test_the_decoder_tells_a_page_that_ended_at_its_eofb_from_cut_data():
    image = text_page(5, rows=100).image
    data = t4.encode(image, "mmr")
    whole = t4.StreamDecoder(1728, "mmr")
    whole.feed(data + b"\0\0")
    assert not whole.end_mark
    got, bad = whole.finish()
    assert whole.end_mark and bad.count == 0 and np.array_equal(got, image)
    cut = t4.StreamDecoder(1728, "mmr")
    cut.feed(data[:-3])                         # EOFB cut off: the lines still decode
    got, bad = cut.finish()
    assert not cut.end_mark and bad.count == 0
