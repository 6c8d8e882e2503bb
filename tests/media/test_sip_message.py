"""SIP messages: parsed as RFC 3261 writes them, encoded back, faults named exactly."""
from __future__ import annotations

import pytest

from faxengine.errors import FaxError
from faxengine.media.sip.message import (NameAddr, Request, Response, Uri, Via, make_response,
                                         parse, split_list)
from faxengine.media.sip import SipParseError

from sip_helpers import request

# RFC 4475 §3.1.1.1 in spirit: compact forms, folding, odd spacing, list headers
TORTURE = (b"INVITE sip:fax@example.com SIP/2.0\r\n"
           b"v:  SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKa,SIP/2.0/UDP  192.0.2.9 ;branch=z9hG4bKb\r\n"
           b"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKc\r\n"
           b"f: \"Fax, Machine\" <sip:fax@192.0.2.2>;tag=ab\r\n"
           b"t: sip:fax@example.com\r\n"
           b"i: 1@192.0.2.2\r\n"
           b"CSeq:   8\r\n  INVITE\r\n"
           b"X-Unknown: kept\r\n"
           b"l: 4\r\n\r\nbodytail")


def test_torture_message_parses():
    m = parse(TORTURE)
    assert isinstance(m, Request) and m.method == "INVITE" and m.uri == "sip:fax@example.com"
    assert [v.branch for v in m.vias] == ["z9hG4bKa", "z9hG4bKb", "z9hG4bKc"]
    assert m.vias[1].sent_by == ("192.0.2.9", 5060)
    assert m.from_.display == "Fax, Machine" and m.from_.tag == "ab"
    assert m.to.uri == Uri("example.com", "fax") and m.to.tag is None
    assert m.cseq == (8, "INVITE") and m.call_id == "1@192.0.2.2"
    assert m.get("x-unknown") == "kept" and m.body == b"body"       # Content-Length cuts


def test_encode_recomputes_content_length_and_round_trips():
    m = parse(TORTURE)
    again = parse(m.encode())
    assert again.headers[:-1] == [(n, v) for n, v in m.headers if n != "l"]
    assert again.get("Content-Length") == "4" and again.body == b"body"


def test_value_folded_onto_the_next_line_has_no_leading_space():
    """Found by fuzz/fuzz_sip.py: 'Subject:' + CRLF + ' a' parsed as ' a', which
    encoded as 'Subject:  a' and parsed back as 'a' (RFC 3261 §7.3.1: the fold is LWS)."""
    m = parse(request("OPTIONS", extra="Subject:\r\n  folded\r\n"))
    assert m.get("Subject") == "folded"
    assert parse(m.encode()).headers == m.headers


def test_response_parse_and_make_response():
    req = parse(request("INVITE"))
    resp = make_response(req, 180, to_tag="xyz")
    back = parse(resp.encode())
    assert isinstance(back, Response) and (back.status, back.reason) == (180, "Ringing")
    assert back.to.tag == "xyz" and back.get_all("Via") == req.get_all("Via")
    assert parse(make_response(req, 100, to_tag="xyz").encode()).to.tag is None


@pytest.mark.parametrize("data, message", [
    (b"INVITE sip:a@b SIP/2.0\r\nVia: x", "SIP message has no blank line after its headers"),
    (b"HELLO\r\n\r\n", "SIP start line 'HELLO' is neither a request nor a status line"),
    (b"SIP/2.0 700 Bad\r\n\r\n", "SIP start line 'SIP/2.0 700 Bad' is neither a request nor a status line"),
    (b"OPTIONS sip:a@b SIP/2.0\r\nno colon here\r\n\r\n", "SIP header line 'no colon here' is not name: value"),
    (b"OPTIONS sip:a@b SIP/2.0\r\n\xff: x\r\n\r\n", "SIP message headers are not UTF-8"),
    (request("OPTIONS").replace(b"Content-Length: 0", b"Content-Length: 10"),
     "SIP message body is 0 octets, shorter than its Content-Length 10"),
    (request("OPTIONS").replace(b"Call-ID: call-1@127.0.0.1\r\n", b""), "SIP message lacks Call-ID"),
    (request("OPTIONS").replace(b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS"),
     "SIP CSeq 'one OPTIONS' is not a number below 2**31 and a method"),
    (request("OPTIONS").replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE"),
     "SIP CSeq method INVITE differs from the request's OPTIONS"),
    (request("OPTIONS").replace(b"SIP/2.0/UDP 127.0.0.1:5070", b"SIP/2.0/UDP 127.0.0.1:99999"),
     "SIP Via 'SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bKtest1;rport' has port 99999, outside 1..65535"),
    (b"x" * 70000, "SIP datagram of 70000 octets exceeds 65507"),
])
def test_malformed_messages_say_what_is_wrong(data, message):
    with pytest.raises(SipParseError) as e:
        parse(data)
    assert str(e.value) == message
    assert isinstance(e.value, FaxError) and isinstance(e.value, ValueError)


def test_a_request_with_a_bad_value_is_kept_for_a_400():
    with pytest.raises(SipParseError) as e:
        parse(request("OPTIONS").replace(b"CSeq: 1 OPTIONS", b"CSeq: x"))
    assert isinstance(e.value.partial, Request) and e.value.partial.method == "OPTIONS"


def test_small_types():
    assert split_list('"a, b" <sip:x@y;p=1,2>, <sip:z@w>') == ['"a, b" <sip:x@y;p=1,2>', "<sip:z@w>"]
    assert str(Uri.parse("sip:fax@[::1]:5062;transport=udp")) == "sip:fax@[::1]:5062;transport=udp"
    assert Uri.parse("sip:[::1]:5062").address == ("::1", 5062)
    assert str(NameAddr.parse("sip:a@b;tag=1").with_tag("2")) == "<sip:a@b>;tag=2"
    assert Via.parse("SIP/2.0/UDP h;rport").with_params(rport="5", received="1.2.3.4").param("rport") == "5"
    with pytest.raises(SipParseError, match="is not sip:user@host"):
        Uri.parse("http://x")
