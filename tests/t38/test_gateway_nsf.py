"""NSF suppression in T38Gateway, with libspandsp's terminals on both sides.

spandsp's answering terminal sends NSF (a T.35 country and vendor code and
the vendor's octets) before CSI and DIS when told to (``t30_set_tx_nsf``).
Through our gateway, the other side sees that NSF with every FIF octet zero
(``nsx_suppression``, the default: no maker, so no proprietary mode), or as
it was with suppression off; the fax goes through either way.  Both
directions: the NSF heard in audio and read back from the IFP packets the
gateway sent, and the NSF sent in IFP and read back from what spandsp's audio
terminal decoded.
"""
from __future__ import annotations

import pytest

import spandsp
import spandsp_t38_terminal as sp38
from faxengine import tiff
from faxengine.t30.frames import Fcf, Frame
from faxengine.t38 import signals
from faxengine.t38.gateway import T38Gateway
from faxengine.t38.ifp import Data, FieldType, T30Data
from gateway_pump import pump_gateway
from t38_pump import assert_tiff_pages, text_page

pytestmark = pytest.mark.skipif(not (spandsp.spandsp_available() and sp38.available()),
                                reason=sp38.REASON)

NSF = b"\xb5\x00\x26" + b"proprietary mode 7"      # USA, a vendor, its own octets


def v21_frames(packets) -> list[Frame]:
    """The T.30 frames in a stream of IFP packets (V.21 hdlc-data up to each FCS field)."""
    frames, octets = [], bytearray()
    for p in packets:
        if not isinstance(p, Data) or p.kind is not T30Data.V21:
            continue
        for field in p.fields:
            if field.kind is FieldType.HDLC_DATA:
                octets += field.data
            elif field.kind in (FieldType.HDLC_FCS_OK, FieldType.HDLC_FCS_OK_SIG_END):
                frames.append(Frame.parse(signals.hdlc_octets(bytes(octets))))
                octets.clear()
    return frames


def _documents(tmp_path):
    pages = [text_page(50)]
    doc, out = tmp_path / "doc.tif", tmp_path / "rx.tif"
    tiff.write(doc, pages, coding="mmr")
    return pages, doc, out


@pytest.mark.parametrize("suppress", [True, False], ids=["suppressed", "passed"])
def test_nsf_from_the_audio_side(tmp_path, suppress):
    pages, doc, out = _documents(tmp_path)
    audio = spandsp.FaxTerminal(False, receive=out)
    audio.set_nsf(NSF)
    t38 = sp38.SpandspT38Terminal(True, send=doc)
    seen: list = []

    def to_t38(packets):
        seen.extend(packets)
        return packets

    gw = T38Gateway(nsx_suppression=suppress)
    pump_gateway(audio, gw, t38, to_t38=to_t38)
    assert audio.result.ok and t38.result.ok and gw.result.ok, (audio.result, t38.result)
    assert_tiff_pages(out, pages)
    nsf = [f for f in v21_frames(seen) if f.fcf is Fcf.NSF]
    assert nsf and all(f.fif == (bytes(len(NSF)) if suppress else NSF) for f in nsf)
    assert gw.nsx_suppressed == (len(nsf) if suppress else 0)


@pytest.mark.parametrize("suppress", [True, False], ids=["suppressed", "passed"])
def test_nsf_from_the_t38_side(tmp_path, suppress):
    pages, doc, out = _documents(tmp_path)
    t38 = sp38.SpandspT38Terminal(False, receive=out)
    t38.set_nsf(NSF)
    audio = spandsp.FaxTerminal(True, send=doc)
    gw = T38Gateway(nsx_suppression=suppress)
    pump_gateway(audio, gw, t38)
    assert audio.result.ok and t38.result.ok and gw.result.ok, (audio.result, t38.result)
    assert_tiff_pages(out, pages)
    heard = [data for way, _, data, name in audio.frames() if way == "rx" and name == "NSF"]
    assert heard and all(d[3:3 + len(NSF)] == (bytes(len(NSF)) if suppress else NSF)
                         for d in heard)
