"""T38Gateway between our audio FaxTerminal and our T38Terminal.

The audio terminal's samples go straight into the gateway and back; the
gateway's IFP packets go to the T.38 terminal and back in memory
(``gateway_pump``).  Both directions (the audio side calling and sending,
and answering and receiving), ECM and not, V.17 14400 and V.29 9600, 1 and
3 pages: both terminals report OK, the gateway too, pages pixel-equal.
Then what the gateway snoops and edits, and its fill when IFP is late.
"""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import FaxTerminal, line
from faxengine.modem import HdlcRx, V21Rx
from faxengine.t30.frames import Fcf, Frame
from faxengine.t38.gateway import T38Gateway
from faxengine.t38.ifp import Data, Field, FieldType, Indicator, T30Data, T30Indicator
from faxengine.t38.signals import hdlc_octets
from faxengine.t38.terminal import T38Terminal
from gateway_pump import Bursty, pump_gateway
from t38_pump import received_images, text_page

MODEMS = {"V.17": ("V.17", "V.29", "V.27ter"), "V.29": ("V.29",)}
RATE = {"V.17": 14400, "V.29": 9600}


def call(audio_sends, ecm, modem="V.17", npages=1, gw=None, to_t38=None, to_gw=None,
         t38_ecm=None, audio_ecm=None, lines=(None, None)):
    """One call through a gateway: (audio terminal, gateway, T.38 terminal, sent, received)."""
    pages = [text_page(20 + i) for i in range(npages)]
    gw = gw if gw is not None else T38Gateway()
    a_ecm = ecm if audio_ecm is None else audio_ecm
    t_ecm = ecm if t38_ecm is None else t38_ecm
    if audio_sends:
        audio = FaxTerminal(True, send=pages, ecm=a_ecm, modems=MODEMS[modem])
        t38 = T38Terminal(False, ecm=t_ecm)
    else:
        t38 = T38Terminal(True, send=pages, ecm=t_ecm, modems=MODEMS[modem])
        audio = FaxTerminal(False, ecm=a_ecm)
    pump_gateway(audio, gw, t38, to_t38, to_gw, line_to_gw=lines[0], line_to_audio=lines[1])
    receiver = t38 if audio_sends else audio
    return audio, gw, t38, pages, received_images(receiver.events())


@pytest.mark.parametrize("npages", [1, 3])
@pytest.mark.parametrize("modem", ["V.17", "V.29"])
@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-calls-sends", "t38-calls-sends"])
def test_ours_through_the_gateway(audio_sends, ecm, modem, npages):
    audio, gw, t38, sent, got = call(audio_sends, ecm, modem, npages)
    assert audio.result.ok and t38.result.ok, (audio.result, t38.result)
    assert gw.finished and gw.result.ok, gw.result
    assert (audio.result.bit_rate, audio.result.ecm) == (RATE[modem], ecm)
    assert (gw.result.pages, gw.result.bit_rate, gw.result.ecm) == (npages, RATE[modem], ecm)
    assert len(got) == npages
    assert all(np.array_equal(g, p.image) for g, p in zip(got, sent))
    names = [f.name for _, f in gw.frames]
    assert names[0] == "DIS" and names[-1] == "DCN"
    assert ("PPS" in names) == ecm


def test_frames_relayed_each_way():
    """The gateway's trace names each control frame and the side it came from."""
    _, gw, _, _, _ = call(True, False)
    assert [(d, f.name) for d, f in gw.frames] == [
        ("t38->audio", "DIS"), ("audio->t38", "DCS"), ("t38->audio", "CFR"),
        ("audio->t38", "EOP"), ("t38->audio", "MCF"), ("audio->t38", "DCN")]


@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-sends", "t38-sends"])
def test_ecm_edited_out_of_dis(audio_sends):
    """ecm=False: both terminals can do ECM, the DIS passing the gateway says
    they cannot (bit 27, and MMR's bit 31), so the call goes without."""
    audio, gw, t38, sent, got = call(audio_sends, True, gw=T38Gateway(ecm=False))
    assert audio.result.ok and t38.result.ok and gw.result.ok
    assert not audio.result.ecm and not t38.result.ecm and audio.result.coding != "mmr"
    dis = next(f for _, f in gw.frames if f.fcf is Fcf.DIS)
    assert not dis.fif[3] & 0x04 and not dis.fif[3] & 0x40      # bits 27 and 31
    assert np.array_equal(got[0], sent[0].image)


def _v21_frames_heard(gw, seconds):
    rx, hdlc, out = V21Rx(), HdlcRx(), []
    for _ in range(int(seconds * 50)):
        out += hdlc.decode(rx.demodulate(gw.tx_audio(160)))
    return out


def test_v8_bit_edited_out_with_a_good_fcs():
    """A DIS offering V.8 (bit 6) from the T.38 side reaches the audio side
    without it, with a correct FCS (the frame is sent anew)."""
    gw = T38Gateway()
    fif = bytes([0x20, 0xEE, 0xFA, 0x80])                   # bit 6 set
    dis = Frame(Fcf.DIS, fif).to_bytes()
    gw.rx_ifp(Indicator(T30Indicator.V21_PREAMBLE))
    gw.rx_ifp(Data(T30Data.V21, (Field(FieldType.HDLC_DATA, hdlc_octets(dis)),
                                 Field(FieldType.HDLC_FCS_OK_SIG_END))))
    gw.rx_ifp(Indicator(T30Indicator.NO_SIGNAL))
    heard = _v21_frames_heard(gw, 1.5)
    assert [(f.data, f.ok) for f in heard] == [(Frame(Fcf.DIS, bytes([0x00, 0xEE, 0xFA, 0x80]))
                                               .to_bytes(), True)]


def test_bad_fcs_frame_not_played():
    """A frame the far side reports hdlc-fcs-BAD is not remodulated; the next one is."""
    gw = T38Gateway()
    cfr, mcf = Frame(Fcf.CFR).to_bytes(), Frame(Fcf.MCF).to_bytes()
    gw.rx_ifp(Indicator(T30Indicator.V21_PREAMBLE))
    gw.rx_ifp(Data(T30Data.V21, (Field(FieldType.HDLC_DATA, hdlc_octets(cfr)),
                                 Field(FieldType.HDLC_FCS_BAD))))
    gw.rx_ifp(Data(T30Data.V21, (Field(FieldType.HDLC_DATA, hdlc_octets(mcf)),
                                 Field(FieldType.HDLC_FCS_OK_SIG_END))))
    assert [f.data for f in _v21_frames_heard(gw, 1.5) if f.ok] == [mcf]


@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
def test_late_ifp_is_filled(ecm):
    """IFP stalling for 200 ms every 0.5 s: the audio side never underruns (the
    gateway sends T.4 fill, or flags) and the pages still arrive pixel-equal."""
    audio, gw, t38, sent, got = call(False, ecm, npages=2, to_gw=Bursty())
    assert audio.result.ok and t38.result.ok and gw.result.ok, (audio.result, t38.result)
    assert all(np.array_equal(g, p.image) for g, p in zip(got, sent, strict=True))
    if not ecm:
        assert gw.fill_bits > 1000


@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("audio_sends", [True, False], ids=["audio-sends", "t38-sends"])
def test_over_a_real_audio_leg(audio_sends, ecm):
    """The audio leg as a line: A-law both ways, 7 Hz carrier offset, -100 ppm
    of clock drift and noise at -50 dBm0 (37 dB below the signal)."""
    lines = tuple(line.Line(offset_hz=7, drift_ppm=-100, g711="alaw", noise_dbm0=-50, seed=s)
                  for s in (1, 2))
    audio, gw, t38, sent, got = call(audio_sends, ecm, npages=2, lines=lines)
    assert audio.result.ok and t38.result.ok and gw.result.ok, (audio.result, t38.result)
    assert audio.result.bit_rate == 14400
    if ecm:
        assert all(np.array_equal(g, p.image) for g, p in zip(got, sent, strict=True))
    else:       # (a line error may cost a scan line without ECM: the page still passes)
        assert len(got) == 2 and all(np.mean(g != p.image) < 0.01 for g, p in zip(got, sent))
