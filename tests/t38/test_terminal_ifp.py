"""T38Terminal back to back with itself at IFP level (packets handed over in memory).

Pages must arrive pixel for pixel, both results say OK with the mode
negotiated, and the packets must be what T.38 asks: the V.21 frames as HDLC
fields, TCF and pages as t4-non-ecm-data paced at the modem's bit rate, no
TCF at all with localTCF, every packet within max_datagram.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.events import FrameReceived, FrameSent
from faxengine.t30.terminal import FaxTerminal
from faxengine.t38 import ifp
from faxengine.t38.errors import T38Error
from faxengine.t38.ifp import Data, FieldType, Indicator, T30Data, T30Indicator
from faxengine.t38.terminal import T38Terminal
from t38_pump import Lost, LossyWire, pump, received_images, text_page
from spandsp import run_call as audio_pump

MODES = [("V.17", 14400, ("V.17", "V.29", "V.27ter")), ("V.29", 9600, ("V.29",)),
         ("V.27ter", 4800, ("V.27ter",))]


def call(pages, ecm=True, calling_sends=True, link_ab=None, link_ba=None, record=None,
         sender=None, receiver=None):
    tx = T38Terminal(calling_sends, send=pages, ecm=ecm, **(sender or {}))
    rx = T38Terminal(not calling_sends, ecm=ecm, **(receiver or {}))
    pair = (tx, rx) if calling_sends else (rx, tx)
    seconds = pump(*pair, link_ab=link_ab, link_ba=link_ba, record=record)
    return tx, rx, seconds


@pytest.mark.parametrize("npages", [1, 3])
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("modem,rate,modems", MODES, ids=[m[0] for m in MODES])
def test_pages_arrive_pixel_for_pixel(modem, rate, modems, ecm, npages):
    pages = [text_page(s) for s in range(1, npages + 1)]
    tx, rx, _ = call(pages, ecm, sender=dict(max_rate=rate, modems=modems))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert tx.result.pages == rx.result.pages == npages
    assert tx.result.bit_rate == rx.result.bit_rate == rate
    assert tx.result.ecm == rx.result.ecm == ecm
    got = received_images(rx.events())
    assert len(got) == npages
    assert all(np.array_equal(g, p.image) for g, p in zip(got, pages))


def test_answering_terminal_sends_and_ced_indicator_comes_first():
    record = []
    pages = [text_page(4)]
    tx, rx, _ = call(pages, calling_sends=False, record=record)
    assert tx.result.ok and rx.result.ok
    assert np.array_equal(received_images(rx.events())[0], pages[0].image)
    # (the record has the start of the 20 ms step in which each packet went)
    answering = [(t // 160 * 160, p) for t, d, p in record if d == "ba"]
    # T.30 §4.2: 0.2 s of silence, CED, then the DIS's V.21 preamble 2.6 s + 75 ms later
    assert answering[0] == (1600, Indicator(T30Indicator.CED))
    assert answering[1] == (1600 + 20800, Indicator(T30Indicator.NO_SIGNAL))
    assert answering[2] == ((1600 + 20800 + 600) // 160 * 160,
                            Indicator(T30Indicator.V21_PREAMBLE))
    calling = [p for t, d, p in record if d == "ab"]
    assert calling[0] == Indicator(T30Indicator.CNG)


def test_same_results_and_trace_as_the_audio_terminal(caplog):
    """The frames exchanged (as events) and the results are those of the same
    call between two FaxTerminals over audio."""
    pages = [text_page(1), text_page(2)]

    def frames(term):
        return [(type(e).__name__, e.name) for e in term.events()
                if isinstance(e, (FrameSent, FrameReceived))]

    ours = T38Terminal(True, send=pages, ident="+1 555"), T38Terminal(False, ident="+44 20")
    pump(*ours)
    audio = FaxTerminal(True, send=pages, ident="+1 555"), FaxTerminal(False, ident="+44 20")
    audio_pump(*audio)
    for t38, fax in zip(ours, audio):
        assert frames(t38) == frames(fax)
        r1, r2 = t38.result, fax.result
        assert (r1.code, r1.pages, r1.bit_rate, r1.ecm, r1.coding, r1.remote_ident) == \
            (r2.code, r2.pages, r2.bit_rate, r2.ecm, r2.coding, r2.remote_ident)


def _data_of(record, direction, kind):
    return [(t, p) for t, d, p in record if d == direction and isinstance(p, Data)
            and p.kind is kind]


@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
def test_v21_frames_are_hdlc_fields_and_tcf_is_non_ecm_data(ecm):
    record = []
    call([text_page(1)], ecm, record=record)
    v21 = _data_of(record, "ab", T30Data.V21)
    kinds = [f.kind for _, p in v21 for f in p.fields]
    assert set(kinds) <= {FieldType.HDLC_DATA, FieldType.HDLC_FCS_OK,
                          FieldType.HDLC_FCS_OK_SIG_END}
    # DCS: address 0xFF then control 0x13 -> on the wire bit-reversed 0xFF 0xC8
    first = b"".join(f.data for _, p in v21[:3] for f in p.fields)
    assert first[:2] == b"\xff\xc8"
    hs = _data_of(record, "ab", T30Data.V17_14400)
    tcf = [p for _, p in hs if p.fields[0].kind is FieldType.T4_NON_ECM_DATA]
    octets = b"".join(p.fields[0].data for p in tcf[:200])
    assert octets.startswith(bytes(14400 * 15 // 80))       # 1.5 s of zeros: 2700 octets


def test_data_goes_at_the_modem_bit_rate():
    """Non-ECM page data is paced: by any time, no more octets have gone than
    the modem could send since the first, plus one packet."""
    record = []
    call([text_page(1, rows=1200)], ecm=False, record=record,
         sender=dict(max_rate=9600, modems=("V.29",)))
    data = _data_of(record, "ab", T30Data.V29_9600)
    # TCF, then the page: they are split at the biggest gap (CFR came between)
    gaps = [b[0] - a[0] for a, b in zip(data, data[1:])]
    page = data[gaps.index(max(gaps)) + 1:]
    t0, sent = page[0][0], 0
    for t, p in page:
        sent += sum(len(f.data) for f in p.fields)
        assert sent * 8 <= 9600 * (t - t0 + 160) / 8000 + 8 * 36, (t - t0, sent)
    duration = (page[-1][0] - t0) / 8000
    assert duration == pytest.approx(sent * 8 / 9600, abs=0.05)


def test_local_tcf_sends_no_tcf():
    record = []
    tx, rx, _ = call([text_page(1)], ecm=False, record=record,
                     sender=dict(rate_management="localTCF"),
                     receiver=dict(rate_management="localTCF"))
    assert tx.result.ok and rx.result.ok
    hs = _data_of(record, "ab", T30Data.V17_14400)
    signals_ = [p for _, p in hs if p.fields and p.fields[-1].kind is FieldType.T4_NON_ECM_SIG_END]
    assert len(signals_) == 1                   # the page only: no TCF
    assert np.array_equal(received_images(rx.events())[0], text_page(1).image)
    # CFR when a TCF would have ended: 75 ms + V.17's long training + 1.5 s
    # after the DCS (T.38 §8.1: a gateway checked one locally)
    v21_ends = [t for t, d, p in record if isinstance(p, Data) and p.kind is T30Data.V21
                and p.fields[-1].kind is FieldType.HDLC_FCS_OK_SIG_END]
    dcs_end = [t for t in v21_ends if t > 0][1]          # DIS, then DCS
    cfr_start = next(t for t, d, p in record if d == "ba" and t > dcs_end
                     and p == Indicator(T30Indicator.V21_PREAMBLE))
    assert (cfr_start - dcs_end) / 8000 == pytest.approx(0.075 + 1.393 + 1.5 + 0.075, abs=0.05)


@pytest.mark.parametrize("max_datagram", [20, 72, 400])
def test_every_packet_fits_max_datagram(max_datagram):
    record = []
    tx, rx, _ = call([text_page(1)], ecm=True, record=record,
                     sender=dict(max_datagram=max_datagram))
    assert tx.result.ok and rx.result.ok
    sizes = [len(ifp.encode(p, 0)) for t, d, p in record if d == "ab"]
    assert max(sizes) <= max_datagram
    if max_datagram == 400:
        assert max(sizes) >= 14400 * 30 // 8000         # 30 ms of data a packet


class SlowPrinter(T38Terminal):
    """A receiver whose DIS asks for 20 ms scan lines (T.30 bits 21-23), so that
    a sender must pad short lines with fill bits (T.4 §4.1.3)."""

    def _send_capabilities(self, fcf):
        self._local = dataclasses.replace(self._local, min_scan_ms=20)
        super()._send_capabilities(fcf)


def test_fill_bit_removal_sends_pages_without_fill():
    page = text_page(1)
    sizes = {}
    for removal in (False, True):
        record = []
        tx = T38Terminal(True, send=[page], ecm=False, fill_bit_removal=removal,
                         max_rate=4800, modems=("V.27ter",))
        rx = SlowPrinter(False, ecm=False)
        pump(tx, rx, record=record)
        assert tx.result.ok and rx.result.ok
        assert np.array_equal(received_images(rx.events())[0], page.image)
        data = _data_of(record, "ab", T30Data.V27_4800)
        sizes[removal] = sum(len(f.data) for _, p in data for f in p.fields)
    tcf = 4800 * 3 // 2 // 8
    # 20 ms at 4800 bit/s: at least 96 bits a line with fill; far fewer without
    assert sizes[False] - tcf >= page.height * 96 // 8
    assert sizes[True] - tcf < (sizes[False] - tcf) // 2


def test_ecm_repairs_lost_packets():
    """5 % of the image data packets lost (each reported): PPR brings their
    frames again.  (V.21 frames need the transport's redundancy against loss:
    test_t38_calls.py.)"""
    wire = LossyWire(0.05, seed=3)

    def lose_image_data(packets):
        return [wire([p])[0] if isinstance(p, Data) and p.kind is not T30Data.V21 else p
                for p in packets]

    tx, rx, _ = call([text_page(1), text_page(2)], ecm=True, link_ab=lose_image_data)
    assert wire.dropped >= 3
    assert sum(e.ecm.ppr for e in rx.events() if type(e).__name__ == "PageReceived") >= 1
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    got = received_images(rx.events())
    assert all(np.array_equal(g, p.image) for g, p in zip(got, [text_page(1), text_page(2)]))


def test_lost_image_packets_without_ecm_count_as_bad_lines():
    lost = {"n": 0, "seen": 0}

    def lose_page_data(packets):
        out = []
        for p in packets:
            if (isinstance(p, Data) and p.fields[0].kind is FieldType.T4_NON_ECM_DATA
                    and any(p.fields[0].data)):
                lost["seen"] += 1
                if lost["seen"] in (20, 21, 40):        # in the page, not its first line
                    lost["n"] += 1
                    out.append(Lost(1))
                    continue
                out.append(p)
            else:
                out.append(p)
        return out

    page = text_page(1, rows=1000)
    tx, rx, _ = call([page], ecm=False, link_ab=lose_page_data)
    assert lost["n"] == 3
    assert rx.result.pages == 1 and tx.result.ok
    [event] = [e for e in rx.events() if type(e).__name__ == "PageReceived"]
    # 3 packets of 54 octets held ~40 lines: the lines lost are counted (an
    # estimate from the size of the packets around the holes) and the lines
    # broken by the holes too
    missing = page.height - event.image.shape[0]
    assert missing > 0
    assert missing // 2 <= event.bad_lines.count <= 2 * missing


def test_a_silent_peer_ends_with_a_timeout():
    term = T38Terminal(True, send=[text_page(1)])
    for _ in range(8000 * 40 // 160):
        term.tx(160)
        if term.finished:
            break
    assert term.result.code == "NO_ANSWER"


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(T38Error, match=r"version must be a T38FaxVersion, one of \(0, 1, 2, 3\), not 4"):
        T38Terminal(version=4)
    with pytest.raises(T38Error, match="rate_management must be one of transferredTCF, localTCF"):
        T38Terminal(rate_management="local")
    with pytest.raises(T38Error, match="max_datagram must be an int of at least 9 octets"):
        T38Terminal(max_datagram=8)
    term = T38Terminal(False)
    with pytest.raises(T38Error, match=r"rx takes an IFP packet .* not bytes"):
        term.rx(b"\x00")
    with pytest.raises(T38Error, match=r"rx_lost takes a count of IFP packets \(int >= 0\), not -1"):
        term.rx_lost(-1)
    with pytest.raises(LocalProtocolError):
        term.tx(-1)
    with pytest.raises(T38Error, match="rx_lost"):
        term.rx_fillin(160)


def test_garbage_packets_do_not_break_a_call():
    """Data of modes not expected, stray HDLC fields, repeated indicators: ignored."""
    junk = [Data(T30Data.V17_9600, (ifp.Field(FieldType.T4_NON_ECM_DATA, b"\x55" * 40),)),
            Data(T30Data.V21, (ifp.Field(FieldType.HDLC_FCS_OK),)),
            Data(T30Data.V21, (ifp.Field(FieldType.HDLC_DATA, b"\x12\x34"),
                               ifp.Field(FieldType.HDLC_FCS_OK))),
            Indicator(T30Indicator.V29_9600_TRAINING), Data(T30Data.V21, ()),
            Indicator(T30Indicator.NO_SIGNAL), Indicator(T30Indicator.NO_SIGNAL)]

    def add_junk(packets):       # after each signal of the sender
        out = list(packets)
        if out and out[-1] == Indicator(T30Indicator.NO_SIGNAL):
            out += junk
        return out

    tx, rx, _ = call([text_page(1)], ecm=True, link_ab=add_junk)
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("calling", [True, False], ids=["calling", "answering"])
def test_random_packets_never_raise_and_the_call_ends(seed, calling):
    """A peer that sends nonsense (random indicators, data types, fields and
    octets, holes): no exception escapes, and the terminal's timers end the call."""
    import random
    rng = random.Random(seed)
    term = T38Terminal(calling, send=[text_page(1)] if calling else None)
    for step in range(8000 * 90 // 160):
        term.tx(160)
        for _ in range(rng.randrange(4)):
            if rng.random() < 0.3:
                term.rx(Indicator(rng.choice(list(T30Indicator))))
            elif rng.random() < 0.1:
                term.rx_lost(rng.randrange(5))
            else:
                fields = tuple(ifp.Field(rng.choice(list(FieldType)),
                                         rng.randbytes(rng.choice([0, 1, 3, 40, 300])))
                               for _ in range(rng.randrange(3)))
                term.rx(Data(rng.choice(list(T30Data)), fields))
        if term.finished:
            break
    assert term.finished
    assert not term.result.ok


def test_receive_to_a_file_and_progress(tmp_path):
    from faxengine import tiff
    pages = [text_page(1), text_page(2)]
    tx = T38Terminal(True, send=pages, ecm=False)
    rx = T38Terminal(False, receive=tmp_path / "rx.tif", ecm=False)
    fractions = []
    while not (tx.finished and rx.finished):
        for p in tx.tx(160):
            rx.rx(p)
        for p in rx.tx(160):
            tx.rx(p)
        fractions.append(tx.progress)
    assert tx.result.ok and rx.result.ok and rx.pages_done == 2
    assert [p.image.tolist() for p in tiff.read(tmp_path / "rx.tif")] == \
        [p.image.tolist() for p in pages]
    assert (1, 2, pytest.approx(0.5, abs=0.5)) in fractions
    assert max(f for page, _, f in fractions if page == 1) > 0.9


def test_abort_sends_dcn():
    tx = T38Terminal(True, send=[text_page(1)])
    rx = T38Terminal(False)
    for _ in range(8000 * 8 // 160):            # into the TCF
        for p in tx.tx(160):
            rx.rx(p)
        for p in rx.tx(160):
            tx.rx(p)
    tx.abort()
    pump(tx, rx)
    assert tx.result.code == "LOCAL_ABORT"
    assert [e.name for e in tx.events() if isinstance(e, FrameSent)][-1] == "DCN"
    # the receiver judged the cut TCF and answered FTT over our DCN: its T2 ends it
    assert rx.finished and not rx.result.ok


def test_a_flood_of_image_data_ends_the_call_with_a_message():
    from faxengine.t38 import signals
    tx, rx = T38Terminal(True, send=[text_page(1)], ecm=False), T38Terminal(False, ecm=False)
    while rx._state != "C:RECEIVE_PAGE" or rx.transmitting:      # up to the CFR
        for p in tx.tx(160):
            rx.rx(p)
        for p in rx.tx(160):
            tx.rx(p)
    flood = Data(T30Data.V17_14400, (ifp.Field(FieldType.T4_NON_ECM_DATA, bytes(65535)),))
    rx.rx(Indicator(T30Indicator.V17_14400_SHORT_TRAINING))
    for _ in range(signals.MAX_SIGNAL_OCTETS // 65535 + 1):
        rx.rx(flood)
    sent = rx.tx(8000 * 2)                                  # its DCN
    assert Indicator(T30Indicator.V21_PREAMBLE) in sent
    assert rx.result.code == "LOCAL_ABORT"
    assert rx.result.message.endswith("the remote sent more than 2097152 octets of image data "
                                      "in one signal (V.17 14400), over 19 minutes of line "
                                      "time: it is not sending a fax page")


def test_an_overlong_hdlc_frame_is_not_taken():
    term = T38Terminal(False)
    for _ in range(8000 * 5 // 160):                        # CED and DIS sent
        term.tx(160)
    dcn = bytes([0xFF, 0x13, 0xFA])                          # DCN, in t30.frames' order
    from faxengine.t38.signals import hdlc_octets
    long_dcn = Data(T30Data.V21, (ifp.Field(FieldType.HDLC_DATA, hdlc_octets(dcn) + bytes(300)),
                                  ifp.Field(FieldType.HDLC_FCS_OK_SIG_END)))
    term.rx(Indicator(T30Indicator.V21_PREAMBLE))
    term.rx(long_dcn)
    assert not term.finished
    term.rx(Indicator(T30Indicator.NO_SIGNAL))
    term.rx(Indicator(T30Indicator.V21_PREAMBLE))
    term.rx(Data(T30Data.V21, (ifp.Field(FieldType.HDLC_DATA, hdlc_octets(dcn)),
                               ifp.Field(FieldType.HDLC_FCS_OK_SIG_END))))
    assert term.finished and term.result.code == "REMOTE_DISCONNECT"


def test_fill_bit_removal_must_be_a_bool():
    with pytest.raises(T38Error, match="fill_bit_removal must be True or False .*, not 'no'"):
        T38Terminal(fill_bit_removal="no")


@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
def test_repeats_with_their_own_sequence_numbers_are_harmless(ecm):
    """Some gateways send an indicator's or a signal end's copies as packets of
    their own (new sequence numbers), so UDPTL hands all of them up."""
    from faxengine.t38.terminal import copies

    def repeat(packets):
        return [p for p in packets for _ in range(copies(p))]

    pages = [text_page(1), text_page(2)]
    tx, rx, _ = call(pages, ecm, link_ab=repeat, link_ba=repeat)
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert all(np.array_equal(g, p.image) for g, p in zip(received_images(rx.events()), pages))
