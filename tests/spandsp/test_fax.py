"""spandsp's fax terminal through the harness, spandsp to spandsp: the
reference calls that the T.30 interop tests compare ours against.

A page sent by one spandsp terminal arrives pixel for pixel at the other,
with and without ECM, on a clean line and through the line model; the result
reports what was negotiated; the frame log shows the T.30 exchange.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import spandsp
from faxengine import line

pytestmark = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A 1728-pel standard-resolution page with text and a frame, as a G4 TIFF."""
    img = Image.new("1", (1728, 800), 1)
    draw = ImageDraw.Draw(img)
    for y in range(40, 760, 36):
        draw.text((80 + y % 200, y), f"faxengine harness page, line {y}: 0123456789 ABCDEF", fill=0)
    draw.rectangle((500, 200, 1200, 600), outline=0, width=4)
    path = tmp_path_factory.mktemp("fax") / "page.tif"
    img.save(path, compression="group4", dpi=(204, 98))
    return path, ~np.asarray(img)        # True = black


def received_image(path):
    with Image.open(path) as im:
        return ~np.asarray(im.convert("1"))


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
@pytest.mark.parametrize("law", [None, "alaw"], ids=["clean", "alaw"])
def test_spandsp_sends_a_page_to_spandsp(page, tmp_path, ecm, law):
    sent_path, sent = page
    out = tmp_path / "rx.tif"
    caller = spandsp.FaxTerminal(True, send=sent_path, ecm=ecm, ident="CALLER")
    answerer = spandsp.FaxTerminal(False, receive=out, ecm=ecm, ident="ANSWERER")
    lines = (line.Line(g711=law), line.Line(g711=law)) if law else (None, None)
    seconds = spandsp.run_call(caller, answerer, *lines, max_seconds=90)
    assert caller.finished and answerer.finished, f"no phase E after {seconds} s"
    tx, rx = caller.result, answerer.result
    assert tx.ok and rx.ok, (tx.message, rx.message)
    assert (tx.pages_tx, rx.pages_rx) == (1, 1)
    assert tx.bit_rate == rx.bit_rate == 14400            # V.17 offered by both
    assert tx.ecm == rx.ecm == ecm
    assert tx.remote_ident == "ANSWERER" and rx.remote_ident == "CALLER"
    # MMR needs ECM (T.30 Table 2 note); without it spandsp picks MR
    assert rx.coding == ("mmr" if ecm else "mr")
    assert np.array_equal(received_image(out), sent)
    assert 10 < tx.duration_s < 40


def test_capabilities_limit_what_is_negotiated(page, tmp_path):
    sent_path, sent = page
    out = tmp_path / "rx.tif"
    caller = spandsp.FaxTerminal(True, send=sent_path, ecm=False, modems=("v27ter",), codings=("mh",))
    answerer = spandsp.FaxTerminal(False, receive=out, ecm=True)
    spandsp.run_call(caller, answerer, max_seconds=120)
    assert caller.result.ok and answerer.result.ok
    assert answerer.result.bit_rate == 4800 and answerer.result.coding == "mh"
    assert not answerer.result.ecm
    assert np.array_equal(received_image(out), sent)


def test_frame_log_shows_the_t30_exchange(page, tmp_path):
    sent_path, _ = page
    caller = spandsp.FaxTerminal(True, send=sent_path, ecm=False)
    answerer = spandsp.FaxTerminal(False, receive=tmp_path / "rx.tif", ecm=False)
    spandsp.run_call(caller, answerer, max_seconds=90)
    names = [(d, name) for d, _, _, name in caller.frames()]
    assert names == [("rx", "DIS"), ("tx", "DCS"), ("rx", "CFR"), ("tx", "EOP"), ("rx", "MCF"),
                     ("tx", "DCN")]
    # every frame starts with the address 0xFF and a control field 0x03/0x13
    assert all(f[:1] == b"\xff" and f[1] in (0x03, 0x13) for _, _, f, _ in caller.frames())


def test_silent_peer_ends_in_a_timeout(page):
    sent_path, _ = page
    caller = spandsp.FaxTerminal(True, send=sent_path)
    spandsp.run_call(caller, spandsp.Silent(), max_seconds=75)
    # spandsp gives up after its T0 of 60 s (waiting for initial communication)
    assert caller.finished and not caller.result.ok
    assert caller.result.message.startswith("Timed out")
    assert caller.result.duration_s == pytest.approx(60.0, abs=1.0)


def test_bad_capability_names_are_refused():
    with pytest.raises(ValueError, match="modem must be among"):
        spandsp.FaxTerminal(True, modems=("v34",))
    with pytest.raises(ValueError, match="coding must be among"):
        spandsp.FaxTerminal(True, codings=("jbig",))


def _noisy_call(page, tmp_path, loss_db):
    """spandsp to spandsp, ECM, A-law, noise 30 dB below its -14 dBm0 signal as heard."""
    sent_path, _ = page
    caller = spandsp.FaxTerminal(True, send=sent_path)
    answerer = spandsp.FaxTerminal(False, receive=tmp_path / "rx.tif")
    noise = -14.0 - loss_db - 30.0
    lines = [line.Line(gain_db=-loss_db, g711="alaw", noise_dbm0=noise, seed=s) for s in (1, 2)]
    spandsp.run_call(caller, answerer, *lines, max_seconds=60)
    return caller, answerer


def test_spandsp_does_not_transmit_while_noise_holds_its_carrier_detector(page, tmp_path):
    """At -44 dBm0 of noise (30 dB below its own -14 dBm0) spandsp's V.21
    carrier detector is on from the first sample and never drops, and its
    T.30 queues every transmission until it does: the caller logs DCS as
    sent (frames are logged when queued) but nothing leaves it, so the
    answerer never hears it.  Through 9 dB of line loss, the same 30 dB SNR
    with the noise at -53 dBm0, the call goes through (see
    tests/t30/test_terminal_spandsp.py)."""
    caller, answerer = _noisy_call(page, tmp_path, loss_db=0.0)
    assert ("tx", "DCS") in [(d, name) for d, _, _, name in caller.frames()]
    assert "DCS" not in [name for d, _, _, name in answerer.frames() if d == "rx"]
    assert not (caller.result and caller.result.ok)
    caller, answerer = _noisy_call(page, tmp_path, loss_db=9.0)
    assert caller.result.ok and answerer.result.ok



def test_a_receiver_that_misses_the_dcn_has_the_page_once_the_line_drops(page, tmp_path):
    """T.30 never repeats DCN, so a receiver that confirmed the last page (MCF) and
    missed the DCN is not in phase E until it is told the line dropped: spandsp's
    ``t30_terminate`` (what a telephony stack calls at hang-up) then says OK.  The
    pjsua2 interop peer reads the result that way (tests/media/test_pjsua.py)."""
    sent_path, sent = page
    out = tmp_path / "rx.tif"
    caller = spandsp.FaxTerminal(True, send=sent_path, ident="CALLER")
    answerer = spandsp.FaxTerminal(False, receive=out, ident="ANSWERER")
    for _ in range(90 * 50):            # 20 ms blocks until the caller hangs up
        if caller.finished:
            break
        a, b = caller.tx(160), answerer.tx(160)
        # once it has confirmed the page it hears silence: the DCN never reaches it
        answerer.rx(np.zeros(160, np.int16) if answerer.pages_rx else a)
        caller.rx(b)
    assert caller.result.ok and answerer.result is None              # DCN sent, not heard
    assert [(d, name) for d, _, _, name in answerer.frames()][-1] == ("tx", "MCF")
    answerer.terminate()
    rx = answerer.result
    assert (rx.ok, rx.message, rx.pages_rx) == (True, "OK", 1)
    assert np.array_equal(received_image(out), sent)
    answerer.terminate()                                             # a second time: no change
    assert answerer.result == rx
