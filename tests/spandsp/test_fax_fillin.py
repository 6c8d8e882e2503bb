"""Calls with lost 20 ms blocks (lost RTP packets), ours against spandsp both ways.

1 % of the blocks are lost each way at random (``media.pump.Leg``); each
end is told of each hole: ours with ``FaxTerminal.rx_fillin``, spandsp with
its own ``fax_rx_fillin`` (``sp_fax_rx_fillin`` in the harness).  With ECM
the page (CCITT chart 1, fine, MMR, V.17 14400) must arrive pixel for pixel:
frames hit by a hole fail their FCS and come again after PPR.  Without ECM
the receiver counts the lines hit as bad and judges the page with them.

1 % of 20 ms blocks is one hole every 2 s on average, so a V.21 command or
response of about 2 s is hit about half the time, and a call lives on its
retries.  Measured over seeds 1-12 (chart 1, ECM): ours to ours 12/12
completed; spandsp to ours 7/12; ours to spandsp 12 of seeds 1-40;
spandsp to spandsp 1/12.  Why spandsp's calls fail more, found with
single holes placed by hand: spandsp 0.0.6 does not answer a TCF whose
long training lost a block (20 ms lost 0.4 to 1.0 s into it, with its own
fill-in or with zeros alike), and then calls the repeated DCS an
"Unexpected message" and hangs up (``test_spandsp_hangs_up_when_tcf_training_loses_a_block``);
and it tries a PPS only three times, each of whose PPR answers is hit
about half the time.  The seeds below are ones where the peer's weaknesses
are not hit; our side is not tuned to them (ours to ours completes them all).
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

import spandsp
from faxengine import tiff
from faxengine.media.pump import Leg, Pump
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page

pytestmark = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)

LOSS = 0.01


@pytest.fixture(scope="module")
def chart1(tmp_path_factory):
    from charts import load_chart
    page = Page(load_chart(1), 204, 196)
    path = tmp_path_factory.mktemp("fillin") / "chart1.tif"
    tiff.write(path, [page], coding="mmr")
    return page, path


def call(a, b, seed):
    """Pump a call with LOSS of the blocks lost each way; returns the two legs."""
    legs = Leg(None, LOSS, seed), Leg(None, LOSS, seed + 1)
    Pump(a, b, *legs, max_seconds=300).run()
    assert a.finished and b.finished
    return legs


@pytest.mark.parametrize("ours_send, seed", [(True, 14), (True, 16), (False, 2), (False, 5)],
                         ids=["ours-to-spandsp-14", "ours-to-spandsp-16", "spandsp-to-ours-2",
                              "spandsp-to-ours-5"])
def test_ecm_call_with_lost_blocks_arrives_pixel_for_pixel(chart1, tmp_path, ours_send, seed):
    page, path = chart1
    out = tmp_path / "rx.tif"
    if ours_send:
        a, b = FaxTerminal(True, send=[page], ecm=True), spandsp.FaxTerminal(False, receive=out)
    else:
        a, b = spandsp.FaxTerminal(True, send=path), FaxTerminal(False, receive=out, ecm=True)
    legs = call(a, b, seed)
    assert all(leg.lost > 0 for leg in legs)            # holes both ways
    assert a.result.ok and b.result.ok, (a.result, b.result)
    got = tiff.read(out)
    assert len(got) == 1 and np.array_equal(got[0].image, page.image)


def test_non_ecm_page_with_lost_blocks_counts_the_damaged_lines(chart1, tmp_path, caplog):
    page, path = chart1
    a = spandsp.FaxTerminal(True, send=path, ecm=False)
    b = FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=False)
    with caplog.at_level(logging.INFO, logger="faxengine.t30"):
        call(a, b, 3)
    judged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rx page:")]
    assert judged, "the page was never judged"
    bad = [int(m.split(", ")[1].split(" ")[0]) for m in judged]
    assert max(bad) > 0                                 # the holes cost lines, counted
    assert b.result.ok and b.result.pages == 1          # judged good enough: MCF (or RTP)


def test_spandsp_hangs_up_when_tcf_training_loses_a_block(chart1, tmp_path):
    """The peer's weakness the seeds above avoid: one block lost 6.0 s into a
    spandsp-to-spandsp call (0.6 s into the long training before TCF)."""
    _, path = chart1

    class OneHole:
        def __init__(self, block):
            self.block, self.seen = block, 0

        def carry(self, samples):
            self.seen += 1
            return None if self.seen == self.block else samples

    a = spandsp.FaxTerminal(True, send=path)
    b = spandsp.FaxTerminal(False, receive=tmp_path / "rx.tif")
    Pump(a, b, OneHole(300), None, max_seconds=120).run()
    assert not b.result.ok and b.result.message == "Unexpected message received"
    assert [f[3] for f in b.frames()] == ["DIS", "DCS", "DCS", "DCN"]
