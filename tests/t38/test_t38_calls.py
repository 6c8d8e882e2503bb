"""T.38 calls through UDPTL (``faxengine.t38.udptl``) with packet loss, and with latency.

Each way, every IFP packet goes in a UDPTL datagram with 3 redundant
secondaries (the packets before it), indicators and signal ends in three
copies (``terminal.copies``), and 5 % of the datagrams are dropped at
random: the receiving terminal gets what UDPTL rebuilds, and ``rx_lost``
for what it could not.  Ours to ours and ours with libspandsp's
``t38_terminal``, ECM and not: both ends report success, pages pixel-equal.
"""
from __future__ import annotations

import numpy as np
import pytest

import spandsp_t38_terminal as sp38
from faxengine import tiff
from faxengine.t38.terminal import T38Terminal
from t38_pump import Delay, UdptlWire, pump, received_images, text_page

LOSS = 0.05


def wires(seed, version=0):
    return UdptlWire(LOSS, version, seed=seed), UdptlWire(LOSS, version, seed=seed + 1)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("modem,rate", [("V.17", 14400), ("V.29", 9600), ("V.27ter", 4800)])
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
def test_ours_to_ours_with_loss(ecm, modem, rate, seed):
    pages = [text_page(s) for s in (1, 2, 3)]
    modems = {"V.17": ("V.17", "V.29", "V.27ter")}.get(modem, (modem,))
    tx = T38Terminal(True, send=pages, ecm=ecm, modems=modems)
    rx = T38Terminal(False, ecm=ecm)
    ab, ba = wires(seed * 10)
    pump(tx, rx, ab, ba)
    assert ab.dropped > 0 and ba.dropped > 0
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert tx.result.bit_rate == rate
    got = received_images(rx.events())
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages, strict=True))


@pytest.mark.skipif(not sp38.available(), reason=sp38.REASON)
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("ours_send", [True, False], ids=["ours-sends", "spandsp-sends"])
def test_with_spandsp_and_loss(tmp_path, ours_send, ecm, seed):
    pages = [text_page(s) for s in (5, 6, 7)]
    out = tmp_path / "rx.tif"
    ab, ba = wires(seed * 10)
    if ours_send:
        me = T38Terminal(True, send=pages, ecm=ecm)
        peer = sp38.SpandspT38Terminal(False, receive=out, ecm=ecm)
        pump(me, peer, ab, ba)
        got = [p.image for p in tiff.read(out)] if out.exists() else []
    else:
        doc = tmp_path / "doc.tif"
        tiff.write(doc, pages, coding="mmr")
        peer = sp38.SpandspT38Terminal(True, send=doc, ecm=ecm)
        me = T38Terminal(False, ecm=ecm)
        pump(peer, me, ab, ba)
        got = received_images(me.events())
    assert ab.dropped > 0 and ba.dropped > 0
    assert me.result.ok and peer.result.ok, (me.result, peer.result)
    assert len(got) == 3
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages))


@pytest.mark.skipif(not sp38.available(), reason=sp38.REASON)
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
def test_600_ms_each_way(tmp_path, ecm):
    """A long network path (0.6 s one way): the T.30 timers and the waits for
    the remote signal's end still fit, ours to ours and with spandsp both ways
    (0.1 and 0.3 s were tried too)."""
    pages = [text_page(5), text_page(6)]
    a, b = T38Terminal(True, send=pages, ecm=ecm), T38Terminal(False, ecm=ecm)
    pump(a, b, Delay(30), Delay(30))
    assert a.result.ok and b.result.ok, (a.result, b.result)
    assert all(np.array_equal(g, p.image) for g, p in zip(received_images(b.events()), pages))
    doc = tmp_path / "doc.tif"
    tiff.write(doc, pages, coding="mmr")
    peer, me = sp38.SpandspT38Terminal(True, send=doc, ecm=ecm), T38Terminal(False, ecm=ecm)
    pump(peer, me, Delay(30), Delay(30))
    assert peer.result.ok and me.result.ok, (peer.result, me.result)
    assert all(np.array_equal(g, p.image) for g, p in zip(received_images(me.events()), pages))
    me = T38Terminal(True, send=pages, ecm=ecm)
    peer = sp38.SpandspT38Terminal(False, receive=tmp_path / "rx.tif", ecm=ecm)
    pump(me, peer, Delay(30), Delay(30))
    assert me.result.ok and peer.result.ok, (me.result, peer.result)
    assert all(np.array_equal(g.image, p.image)
               for g, p in zip(tiff.read(tmp_path / "rx.tif"), pages, strict=True))


@pytest.mark.slow
@pytest.mark.skipif(not sp38.available(), reason=sp38.REASON)
@pytest.mark.parametrize("seed", range(3, 23))
def test_sweep_of_loss_patterns(tmp_path, seed):
    """20 more loss patterns, each ECM and not, ours to ours and with spandsp
    both ways (120 calls; all succeeded when this was written)."""
    for ecm in (False, True):
        pages = [text_page(s) for s in (5, 6, 7)]
        ab, ba = wires(seed * 10)
        a, b = T38Terminal(True, send=pages, ecm=ecm), T38Terminal(False, ecm=ecm)
        pump(a, b, ab, ba)
        assert a.result.ok and b.result.ok, (seed, ecm, a.result, b.result)
        for ours_send in (True, False):
            where = tmp_path / f"{ecm}-{ours_send}"
            where.mkdir()
            test_with_spandsp_and_loss(where, ours_send, ecm, seed)
