"""FaxTerminal back to back: two of our terminals, each one's tx fed to the other's rx.

Every call is pumped in blocks of 160 samples (20 ms) through optional line
models, as a media adapter would (``spandsp.run_call``, the harness's pump,
which is plain Python).  Pages must arrive pixel for pixel, both
results must say what was negotiated, and the T.30 trace must show the
exchange.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

from faxengine import tiff
from spandsp import run_call as pump    # the pump loop; needs no libspandsp
from faxengine.t30.terminal import V21_HOLD_FLAGS, FaxTerminal
from faxengine.t4 import Page


def text_page(seed: int, rows: int = 600, resolution: str = "fine", width: int = 1728) -> Page:
    """A page with black blocks and short runs like text, different per seed."""
    rng = np.random.default_rng(seed)
    image = np.zeros((rows, width), dtype=bool)
    for _ in range(120):
        y, x = rng.integers(0, rows - 12), rng.integers(0, width - 80)
        image[y:y + rng.integers(2, 12), x:x + rng.integers(3, 80)] = True
    image[rows // 2, :] = True
    from faxengine.t4.page import RESOLUTIONS
    return Page(image, *RESOLUTIONS[resolution])


def received(path):
    return [p.image for p in tiff.read(path)]


def call(tmp_path, pages, sender=None, receiver=None, calling_sends=True, **lines):
    out = tmp_path / "rx.tif"
    sender = dict(sender or {})
    receiver = dict(receiver or {})
    tx = FaxTerminal(calling_sends, send=pages, **sender)
    rx = FaxTerminal(not calling_sends, receive=out, **receiver)
    seconds = pump(tx, rx, **lines) if calling_sends else pump(rx, tx, **lines)
    return tx, rx, out, seconds


@pytest.mark.parametrize("ecm,codings,rate,expect", [
    (False, ("mh",), 9600, ("V.29", "mh")),
    (False, ("mr", "mh"), 14400, ("V.17", "mr")),
    (True, ("mmr", "mr", "mh"), 14400, ("V.17", "mmr")),
    (True, ("mh",), 4800, ("V.27ter", "mh")),
], ids=["v29-mh", "v17-mr", "v17-ecm-mmr", "v27ter-ecm-mh"])
def test_one_page_arrives_pixel_for_pixel(tmp_path, ecm, codings, rate, expect):
    page = text_page(1)
    modems = ("V.29",) if expect[0] == "V.29" else ("V.27ter", "V.29", "V.17")
    tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=ecm, codings=codings, max_rate=rate,
                                                          modems=modems))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert tx.result.pages == rx.result.pages == 1
    assert tx.result.bit_rate == rx.result.bit_rate == rate
    assert tx.result.ecm == rx.result.ecm == ecm
    assert rx.result.coding == expect[1]
    assert rx.result.resolution == "fine"
    [got] = received(out)
    assert np.array_equal(got, page.image)


def test_three_pages_with_mps_and_identities(tmp_path, caplog):
    pages = [text_page(s, rows=300) for s in (1, 2, 3)]
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    tx, rx, out, _ = call(tmp_path, pages, sender=dict(ecm=False, ident="+1 555 0100"),
                          receiver=dict(ident="+44 20 7946"))
    assert tx.result.ok and rx.result.ok
    assert rx.result.pages == 3
    assert tx.result.remote_ident == "+44 20 7946" and rx.result.remote_ident == "+1 555 0100"
    assert all(np.array_equal(a, p.image) for a, p in zip(received(out), pages, strict=True))
    trace = [r.getMessage() for r in caplog.records]
    assert trace.count("tx MPS") == trace.count("rx MPS") == 2
    assert trace.count("tx MCF") == 3 and trace.count("tx EOP") == 1
    assert 'tx CSI "+44 20 7946"' in trace and 'rx TSI "+1 555 0100"' in trace
    assert any(t.startswith("rx DCS: V.17 14400, fine, MR, no ECM") for t in trace)


def test_ecm_multipage_and_64_octet_frames(tmp_path):
    pages = [text_page(s, rows=400) for s in (4, 5)]
    tx, rx, out, _ = call(tmp_path, pages, sender=dict(ecm=True, frame_size=64))
    assert tx.result.ok and rx.result.ok and rx.result.pages == 2
    assert all(np.array_equal(a, p.image) for a, p in zip(received(out), pages, strict=True))


def test_answering_terminal_sends(tmp_path):
    """Polling: the caller receives after DTC, the answering terminal sends."""
    page = text_page(6)
    tx, rx, out, _ = call(tmp_path, [page], calling_sends=False, sender=dict(ecm=True))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    [got] = received(out)
    assert np.array_equal(got, page.image)


def test_line_time_of_ccitt_chart_1(tmp_path, ccitt_dir):
    from charts import load_chart
    page = Page(load_chart(1), 204, 196)
    for ecm, limit in ((True, 26.8), (False, 30.3)):
        tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=ecm))
        assert tx.result.ok and rx.result.ok
        assert tx.result.bit_rate == 14400
        # the bound: no longer than spandsp to spandsp (and with spandsp:
        # test_terminal_spandsp.py pins the figures)
        assert tx.result.duration_s <= limit
        assert np.array_equal(received(out)[0], page.image)


@pytest.mark.parametrize("resolution,width,ecm,coding", [
    ("superfine", 1728, True, "mmr"),
    ("standard", 2048, False, "mh"),          # B4
    ("fine", 2432, True, "mr"),               # A3
    ("300", 2592, True, "mmr"),
    ("400", 3456, False, "mr"),
], ids=["superfine", "b4-standard", "a3-fine", "300dpi", "400dpi"])
def test_resolutions_and_widths(tmp_path, resolution, width, ecm, coding):
    page = text_page(7, rows=500, resolution=resolution, width=width)
    codings = {"mh": ("mh",), "mr": ("mr", "mh"), "mmr": ("mmr", "mr", "mh")}[coding]
    tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=ecm, codings=codings))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert rx.result.resolution == resolution and rx.result.coding == coding
    [got] = tiff.read(out)
    assert np.array_equal(got.image, page.image)
    assert got.resolution == resolution


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
def test_ten_charts_and_pages_through_g711_at_30db_snr(tmp_path, ccitt_dir, law, ecm):
    from charts import load_chart
    from faxengine import line
    pages = [Page(load_chart(k), 204, 196) for k in range(1, 9)]
    pages += [text_page(20 + k) for k in range(2)]
    lines = dict(line_ab=line.Line(g711=law, noise_dbm0=-43.0, seed=5),
                 line_ba=line.Line(g711=law, noise_dbm0=-43.0, seed=6))
    tx, rx, out, _ = call(tmp_path, pages, sender=dict(ecm=ecm), max_seconds=900, **lines)
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert rx.result.pages == 10 and tx.result.bit_rate == 14400
    got = received(out)
    assert len(got) == 10
    if ecm:
        assert all(np.array_equal(a, p.image) for a, p in zip(got, pages))
    else:   # without ECM a line hit by noise may be repaired, never more than 1 %
        for a, p in zip(got, pages):
            rows = min(a.shape[0], p.image.shape[0])
            differ = np.any(a[:rows] != p.image[:rows], axis=1).sum()
            assert abs(a.shape[0] - p.image.shape[0]) + differ <= p.image.shape[0] // 100


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
def test_a_change_of_resolution_goes_through_eom_and_phase_b_again(tmp_path, caplog, ecm):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    pages = [text_page(1, rows=300), text_page(2, rows=300),
             text_page(3, rows=300, resolution="standard"), text_page(4, rows=300)]
    tx, rx, out, _ = call(tmp_path, pages, sender=dict(ecm=ecm))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    got = tiff.read(out)
    assert [p.resolution for p in got] == ["fine", "fine", "standard", "fine"]
    assert all(np.array_equal(a.image, p.image) for a, p in zip(got, pages, strict=True))
    log = trace(caplog)
    dcs = [m.split(", ")[1] for m in log if m.startswith("tx DCS")]
    assert dcs == ["fine", "standard", "fine"]
    eom = "tx PPS-EOM" if ecm else "tx EOM"
    assert sum(m.startswith(eom) for m in log) == 2


def trace(caplog):
    return [r.getMessage() for r in caplog.records]


def test_receiver_max_rate_limits_the_modems_its_dis_offers(tmp_path):
    page = text_page(8, rows=300)
    tx, rx, out, _ = call(tmp_path, [page], receiver=dict(max_rate=4800))
    assert tx.result.ok and rx.result.ok
    assert tx.result.bit_rate == rx.result.bit_rate == 4800
    assert np.array_equal(received(out)[0], page.image)


def _recorded_call(tmp_path, block, name):
    import hashlib
    a = FaxTerminal(True, send=[text_page(11, rows=400)], ecm=True)
    b = FaxTerminal(False, receive=tmp_path / name)
    digest = hashlib.sha256()
    while not (a.finished and b.finished):
        sa, sb = a.tx(block), b.tx(block)
        digest.update(sa.tobytes())
        digest.update(sb.tobytes())
        b.rx(sa)
        a.rx(sb)
    return a.result, b.result, digest.hexdigest()


def test_the_same_call_gives_the_same_samples(tmp_path):
    first = _recorded_call(tmp_path, 160, "1.tif")
    again = _recorded_call(tmp_path, 160, "2.tif")
    assert first == again and first[0].ok


@pytest.mark.parametrize("block", [80, 400, 1000])
def test_any_block_size_works(tmp_path, block):
    tx, rx, _ = _recorded_call(tmp_path, block, "rx.tif")
    assert tx.ok and rx.ok


@pytest.mark.parametrize("ecm", [False, True])
def test_progress_follows_the_pages_as_they_go_out(tmp_path, ecm):
    tx = FaxTerminal(True, send=[text_page(1), text_page(2)], ecm=ecm)
    rx = FaxTerminal(False, receive=tmp_path / "rx.tif")
    seen = []
    while not (tx.finished and rx.finished):
        sa, sb = tx.tx(160), rx.tx(160)
        rx.rx(sa)
        tx.rx(sb)
        seen.append(tx.progress)
    assert tx.result.ok and rx.progress == (3, 0, 0.0)
    assert {total for _, total, _ in seen} == {2} and seen[-1] == (2, 2, 1.0)
    for page in (1, 2):
        fracs = [f for p, _, f in seen if p == page]
        assert fracs[0] == 0.0 and fracs == sorted(fracs)        # it only goes up
        assert any(0.2 < f < 0.8 for f in fracs)                 # ... in steps, while sending
    assert seen[[p for p, _, _ in seen].index(2) - 1][2] == 1.0  # page 1 done before page 2


class _CountingV21:
    """Stands in front of a terminal's compiled V.21 receiver core and counts
    the samples it is given while ``busy`` says the line is held (the real
    core still does the work)."""

    def __init__(self, core):
        self._core = core
        self.busy = False
        self.samples = self.samples_held = 0

    def demodulate(self, samples):
        self._count(samples.size)
        return self._core.demodulate(samples)

    def fillin(self, n):
        self._count(n)
        return self._core.fillin(n)

    def _count(self, n):
        self.samples += n
        self.samples_held += n if self.busy else 0

    def __getattr__(self, name):
        return getattr(self._core, name)


@pytest.mark.parametrize("ecm,loss", [(True, 0.0), (False, 0.0), (True, 0.01)],
                         ids=["ecm", "non-ecm", "ecm-1%-lost"])
def test_v21_rests_while_a_v17_page_holds_the_line(tmp_path, ecm, loss):
    """Half duplex: while a trained V.17 signal with good decisions comes in
    (heard or filled in), no V.21 frame can; the receiver's V.21 does not
    listen then, and still hears every frame after it (the call completes
    pixel for pixel)."""
    page = text_page(7, rows=1200)
    tx = FaxTerminal(True, send=[page], ecm=ecm)
    rx = FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=ecm)
    counting = _CountingV21(rx._v21._core)
    rx._v21._core = counting
    held = 0
    original, original_fillin = rx._rx, rx.rx_fillin

    def holding(n):
        nonlocal held
        counting.busy = rx._hs is not None and rx._hs.holds_line
        held += n if counting.busy else 0

    def listening(samples):
        holding(samples.size)
        original(samples)

    def filling(n):
        if not rx.finished and not rx.transmitting:
            holding(n)
        original_fillin(n)

    rx._rx, rx.rx_fillin = listening, filling
    pump(tx, rx, loss=loss, seed=3)
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert np.array_equal(received(tmp_path / "rx.tif")[0], page.image)
    assert rx._v21._core is counting
    assert held > 2 * 8000                          # the page: seconds of V.17
    assert counting.samples > 8000 and counting.samples_held == 0


@pytest.mark.parametrize("ecm,loss", [(True, 0.0), (False, 0.0), (True, 0.01)],
                         ids=["ecm", "non-ecm", "ecm-1%-lost"])
def test_the_high_speed_receiver_rests_while_a_v21_preamble_holds_the_line(tmp_path, ecm, loss):
    """The mirror of V.21 resting: while V.21 flags come in (DCS, post-page
    commands, DCN), the receiver's V.17 demodulator is not run, and still
    hears every TCF and page after them (the call completes pixel for pixel)."""
    from faxengine.t30 import link
    page = text_page(8, rows=800)
    tx = FaxTerminal(True, send=[page], ecm=ecm)
    rx = FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=ecm)
    fed = {"preamble": 0, "other": 0}
    feed, fillin = link.HsReceiver.feed, link.HsReceiver.fillin

    def counted(n):
        preamble = (rx._hdlc._core.flag_run >= V21_HOLD_FLAGS and rx._v21.carrier_present
                    and not rx._hs.receiving)       # (a signal in progress is heard out)
        fed["preamble" if preamble else "other"] += n

    def counting_feed(hs, samples):
        counted(samples.size)
        return feed(hs, samples)

    def counting_fillin(hs, n):
        counted(n)
        return fillin(hs, n)

    link.HsReceiver.feed, link.HsReceiver.fillin = counting_feed, counting_fillin
    try:
        pump(tx, rx, loss=loss, seed=5)
    finally:
        link.HsReceiver.feed, link.HsReceiver.fillin = feed, fillin
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert np.array_equal(received(tmp_path / "rx.tif")[0], page.image)
    assert fed["preamble"] == 0 and fed["other"] > 2 * 8000


@pytest.mark.parametrize("modem,rate", [("V.29", 9600), ("V.27ter", 4800)])
def test_v21_listens_through_v29_and_v27ter_signals(modem, rate):
    """Their receivers go on deciding whatever follows their signal, so they
    never say they hold the line."""
    from faxengine.modem import V27terTx, V29Tx
    from faxengine.t30 import link
    tx = V29Tx(rate=rate) if modem == "V.29" else V27terTx(rate=rate)
    bits = np.random.default_rng(1).integers(0, 2, rate * 2, dtype=np.uint8)
    signal = np.concatenate([tx.modulate(bits), tx.finish()])
    hs = link.HsReceiver(modem, rate)
    receiving = False
    for i in range(0, signal.size - 160, 160):
        hs.feed(signal[i:i + 160])
        receiving |= hs.receiving
        assert not hs.holds_line
    assert receiving


def test_a_call_ended_is_freed_without_the_cycle_collector():
    """Its received pages go back to the decoder's pool for the next call as
    soon as the terminals are let go (nothing but the modems' own closures
    waits for the cycle collector)."""
    import gc
    import weakref
    gc.collect()
    gc.disable()
    try:
        tx = FaxTerminal(True, send=[text_page(3, rows=200)], ecm=True)
        rx = FaxTerminal(False, ecm=True)
        pump(tx, rx, max_seconds=120)
        assert tx.result.ok and rx.result.ok
        refs = [weakref.ref(tx), weakref.ref(rx)]
        del tx, rx
        assert [r() for r in refs] == [None, None]
    finally:
        gc.enable()


def test_silence_is_a_new_block_each_time(tmp_path):
    tx, rx, _, _ = call(tmp_path, [text_page(1, rows=100)])
    assert tx.finished and rx.finished
    heard = rx.tx(160)
    heard[:] = 2            # what takes it may write into it (spandsp's fax_rx restores DC in place)
    again = rx.tx(160)
    assert not np.shares_memory(heard, again) and not again.any()
