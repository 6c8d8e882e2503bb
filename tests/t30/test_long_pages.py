"""Pages longer than the decoder's old 20 000-line bound (hardening item 1).

A 1728 x 25 000 page (3.2 m at fine resolution) must arrive whole, with ECM
and without; the receiver's limit is ``max_page_lines``, its DIS offers the
length that setting allows (T.30 Table 2 bits 19-20), and a page over the
limit ends the call with a message that says so, never a cut page.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

from faxengine import tiff
from faxengine.loopback import Loopback
from faxengine.media.pump import Pump
from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page


@pytest.fixture(scope="module")
def long_page() -> Page:
    """1728 x 25 000 at fine resolution: a short mark every 50 lines."""
    rng = np.random.default_rng(1)
    image = np.zeros((25000, 1728), dtype=bool)
    for y in range(0, 25000, 50):
        x = int(rng.integers(0, 1600))
        image[y:y + 3, x:x + 100] = True
    return Page(image, 204, 196)


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
def test_a_page_of_25000_lines_arrives_whole(tmp_path, long_page, ecm):
    result = Loopback([long_page], tmp_path / "rx.tif", ecm=ecm).run()
    assert result.ok, (result.sender, result.receiver)
    got = tiff.read(tmp_path / "rx.tif")
    assert got[0].image.shape == (25000, 1728)
    assert np.array_equal(got[0].image, long_page.image)


def test_a_page_over_the_receivers_limit_ends_the_call_and_says_why(tmp_path, long_page):
    a = FaxTerminal(True, send=[long_page], ecm=True)
    b = FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=True, max_page_lines=20000)
    Pump(a, b, max_seconds=300).run()
    assert b.result.code == "LOCAL_ABORT"
    assert b.result.message == (
        "the call was cancelled here: page 1 is longer than 20000 scan lines, the most this "
        "terminal takes; pass a larger max_page_lines to receive it")
    assert not a.result.ok and b.result.pages == 0


def _dis_words(tmp_path, caplog, **kw) -> str:
    with caplog.at_level(logging.INFO, logger="faxengine.t30"):
        FaxTerminal(False, receive=tmp_path / "rx.tif", **kw)      # the DIS is queued at once
    return next(r.getMessage() for r in caplog.records if r.getMessage().startswith("tx DIS"))


def test_the_dis_offers_the_length_the_setting_allows(tmp_path, caplog):
    assert "unlimited length" in _dis_words(tmp_path, caplog)
    caplog.clear()
    assert "length up to A4" in _dis_words(tmp_path, caplog, max_page_lines=5000)


def test_a_sender_whose_page_the_receiver_cannot_take_fails_incompatible(tmp_path):
    image = np.zeros((6000, 1728), dtype=bool)          # 778 mm at fine: longer than B4
    image[::100, 100:200] = True
    a = FaxTerminal(True, send=[Page(image, 204, 196)])
    b = FaxTerminal(False, receive=tmp_path / "rx.tif", max_page_lines=5000)
    Pump(a, b, max_seconds=120).run()
    assert a.result.code == "INCOMPATIBLE"
    assert a.result.message.endswith(
        "the remote terminal takes pages up to A4 long, the document needs unlimited")


@pytest.mark.parametrize("bad", [4000, 4677, 5000.0, True])
def test_a_limit_below_an_a4_page_is_refused(bad):
    with pytest.raises(LocalProtocolError, match=r"max_page_lines must be an int of at least 4678 "
                                                 r"\(an A4 page at 400 lines/inch"):
        FaxTerminal(False, receive="unused.tif", max_page_lines=bad)
