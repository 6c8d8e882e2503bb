"""The user agent driven with explicit ``now`` over a fake link: calls, retransmissions
after losses, CANCEL, rejections, re-INVITE, OPTIONS, 420, 400, rport, digest, REGISTER."""
from __future__ import annotations

import pytest

from faxengine.media.sip import (CallEnded, CallEstablished, CallProgress, CallUpdated,
                                 Registered, SipLocalError, UserAgent)
from faxengine.media.sip.message import make_response, parse

from sip_helpers import A, B, T38_SDP, Link, offer_sdp, request


def pair(**b_options):
    a, b = UserAgent(A, user="alice", seed=1), UserAgent(B, user="fax", seed=2, **b_options)
    return a, b, Link(a, b)


def up(a, b, link):
    """Alice calls fax, fax answers: the call id."""
    call_id = a.invite("sip:fax@127.0.0.1:5080", link.now, 4000)
    link.deliver()
    (incoming,) = b.events()
    b.answer(incoming.call_id, link.now, 5000)
    link.deliver()
    assert [type(e) for e in a.events()] == [CallProgress, CallEstablished]
    assert [type(e) for e in b.events()] == [CallEstablished]
    return call_id


def test_call_and_hangup_ladder():
    a, b, link = pair()
    call_id = up(a, b, link)
    a.hangup(call_id, 1.0)
    link.run(60)
    assert a.events() == [CallEnded(call_id, 200, "local hangup")]
    assert b.events() == [CallEnded(call_id, 200, "BYE from the far end")]
    assert [line.split()[0 if not line.startswith("SIP") else 1] for _, _, line in link.log] == [
        "INVITE", "100", "180", "200", "ACK", "BYE", "200"]
    assert a.next_timer() is None and b.next_timer() is None      # everything ended


def test_invite_is_retransmitted_on_timer_a_then_times_out_on_b():
    a, _, link = pair()
    link.drop = lambda data: True                                  # nothing arrives
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    link.run(40)
    assert link.sent("INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert a.events() == [CallEnded(call_id, 408, "INVITE timed out")]


def test_lost_200_is_retransmitted_until_the_ack_and_lost_ack_is_resent():
    a, b, link = pair()
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    link.deliver()
    (incoming,) = b.events()
    lost = {"200": 2, "ACK": 1}

    def drop(data):
        word = data.split(b" ")[1 if data.startswith(b"SIP") else 0].decode()
        if lost.get(word):
            lost[word] -= 1
            return True
        return False
    link.drop = drop
    b.answer(incoming.call_id, 0.0, 5000)
    link.run(10)
    # two 200s lost: sent again after T1, 2*T1; the ACK to the third lost: the
    # fourth 200 (4*T1 later) reaches the UAC outside its transaction: ACK again
    assert link.sent("SIP/2.0 200") == [0.0, 0.5, 1.5, 3.5]
    assert link.sent("ACK") == [1.5, 3.5]
    assert isinstance(a.events()[-1], CallEstablished) and b.calls[call_id].state == "established"


def test_no_ack_ends_the_call_with_bye_after_64_t1():
    a, b, link = pair()
    a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    link.deliver()
    (incoming,) = b.events()
    link.drop = lambda data: data.startswith(b"ACK")
    b.answer(incoming.call_id, 0.0, 5000)
    link.run(40)
    assert link.sent("SIP/2.0 200")[:4] == [0.0, 0.5, 1.5, 3.5]
    assert b.events()[-1] == CallEnded(incoming.call_id, 408, "no ACK for our 2xx")
    assert link.sent("BYE") == [32.0]


def test_hanging_up_before_the_ack_of_our_200_holds_the_bye_until_it_comes():
    # RFC 3261 §15: the callee sends no BYE on a confirmed dialog before the ACK
    # of its 2xx (or 64*T1): a BYE overtaking the ACK may find no dialog there.
    a, b, link = pair()
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    link.deliver()
    (incoming,) = b.events()
    acks = []
    link.drop = lambda data: data.startswith(b"ACK") and len(acks) == 0 and not acks.append(data)
    b.answer(incoming.call_id, 0.0, 5000)
    link.deliver()                              # the 200 arrives, its ACK is lost
    link.now = 0.1
    b.hangup(call_id, 0.1)
    assert b.events() == [CallEstablished(call_id, b.calls[call_id].audio),
                          CallEnded(call_id, 200, "local hangup")]
    link.run(60)
    assert link.sent("BYE") == [0.5]            # once the ACK came, not at 0.1
    assert link.sent("SIP/2.0 200 OK")[:2] == [0.0, 0.5] and link.sent("ACK") == [0.0, 0.5]
    assert a.events()[-1] == CallEnded(call_id, 200, "BYE from the far end")


def test_cancel_while_ringing_and_cancel_held_until_a_provisional():
    a, b, link = pair()
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    a.hangup(call_id, 0.0)                   # nothing heard yet: CANCEL waits (§9.1)
    assert [d[:6] for d, _ in a.datagrams_to_send()] == [b"INVITE"]      # that INVITE is lost
    link.run(5)                              # timer A sends it again, 100 Trying comes
    assert link.sent("INVITE") == [0.5] and link.sent("CANCEL") == [0.5]
    assert link.sent("SIP/2.0 487") == [0.5] and link.sent("ACK") == [0.5]   # ACK by the ICT
    assert a.events()[-1] == CallEnded(call_id, 487, "Request Terminated")
    assert b.events()[-1] == CallEnded(call_id, 487, "cancelled by the caller")


def test_reject_486_busy():
    a, b, link = pair()
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    link.deliver()
    b.reject(b.events()[0].call_id, 0.0)
    link.run(40)
    assert a.events()[-1] == CallEnded(call_id, 486, "Busy Here")
    assert link.sent("ACK") == [0.0]             # absorbed by the server transaction
    with pytest.raises(SipLocalError, match="nothing to hang up"):
        a.hangup(call_id, 50.0)


def test_reinvite_to_t38_is_declined_and_audio_goes_on_and_audio_reinvite_is_taken():
    _, b, link = pair()
    b.datagram_received(request("INVITE", body=offer_sdp(6000, "0")), A, 0.0)
    (incoming,) = b.events()
    b.answer(incoming.call_id, 0.0, 5000)
    assert [type(e) for e in b.events()] == [CallEstablished]
    b.datagram_received(request("ACK", cseq=1, branch="z9hG4bKack"), A, 0.1)
    assert b.next_timer() is None or b.next_timer() > 0.5          # the ACK stopped the 200s
    tag = parse(b.datagrams_to_send()[-1][0]).to.tag
    b.datagram_received(request("INVITE", body=T38_SDP, to_tag=tag, cseq=2, branch="z9hG4bK2"), A, 1.0)
    out = [parse(d) for d, _ in b.datagrams_to_send()]
    assert [r.status for r in out] == [100, 488]
    assert b.calls[incoming.call_id].state == "established"
    b.datagram_received(request("INVITE", body=offer_sdp(6004, "8"), to_tag=tag, cseq=3,
                                branch="z9hG4bK3"), A, 2.0)
    out = [parse(d) for d, _ in b.datagrams_to_send()]
    assert [r.status for r in out] == [100, 200] and b"m=audio 5000 RTP/AVP 8" in out[1].body
    (updated,) = b.events()
    assert isinstance(updated, CallUpdated) and updated.audio.remote == ("127.0.0.1", 6004)


def responses(ua, data, now=0.0, source=A):
    ua.datagram_received(data, source, now)
    return [(parse(d), addr) for d, addr in ua.datagrams_to_send()]


def test_options_unknown_methods_and_require():
    b = UserAgent(B, seed=2)
    ((ok, _),) = responses(b, request("OPTIONS"))
    assert ok.status == 200 and "INVITE" in ok.get_all("Allow") and ok.get("Accept") == "application/sdp"
    ((r, _),) = responses(b, request("REGISTER", branch="z9hG4bK2"))
    assert r.status == 405
    ((r, _),) = responses(b, request("FROB", branch="z9hG4bK3"))
    assert r.status == 501
    ((r, _),) = responses(b, request("OPTIONS", branch="z9hG4bK4", extra="Require: 100rel, timer\r\n"))
    assert (r.status, r.get_all("Unsupported")) == (420, ["100rel", "timer"])
    ((r, _),) = responses(b, request("BYE", branch="z9hG4bK5", to_tag="nope"))
    assert r.status == 481


def test_rport_and_received_send_the_response_where_the_request_came_from():
    b = UserAgent(B, seed=2)
    ((r, addr),) = responses(b, request("OPTIONS"), source=("198.51.100.7", 31000))
    via = r.vias[0]
    assert (via.param("received"), via.param("rport")) == ("198.51.100.7", "31000")
    assert addr == ("198.51.100.7", 31000)


def test_a_request_that_does_not_parse_gets_400_and_the_stack_goes_on():
    b = UserAgent(B, seed=2)
    b.datagram_received(request("OPTIONS").replace(b"CSeq: 1 OPTIONS", b"CSeq: x"), A, 0.0)
    ((data, addr),) = b.datagrams_to_send()        # CSeq copied as it came: read it raw
    assert data.startswith(b"SIP/2.0 400 Bad Request\r\n") and addr == A
    assert b"Warning: 399 127.0.0.1 \"SIP CSeq 'x' is not a number" in data
    assert responses(b, b"garbage\r\n\r\n") == [] and b.malformed == 2 and b.bad_requests == 1
    out = responses(b, request("INVITE", body="v=1\r\n", branch="z9hG4bKsdp"))
    assert [r.status for r, _ in out] == [100, 400] and b.bad_requests == 2
    assert "SDP does not start with v=0" in out[1][0].get("Warning")
    ((r, _),) = responses(b, request("OPTIONS", branch="z9hG4bKafter"))
    assert r.status == 200


def challenge(status: int, realm: str = "example.org") -> str:
    name = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    return f'{name}: Digest realm="{realm}", nonce="abc", qop="auth", algorithm=MD5\r\n'


class Registrar:
    """Answers REGISTER: 401 first, then 200 with a short expiry."""

    def __init__(self, expires: int) -> None:
        self.expires, self.seen = expires, []

    def __call__(self, data: bytes) -> bytes:
        req = parse(data)
        self.seen.append(req)
        if req.get("Authorization") is None:
            resp = make_response(req, 401, to_tag="r")
            resp.headers.append(("WWW-Authenticate", challenge(401).split(": ", 1)[1].strip()))
        else:
            resp = make_response(req, 200, to_tag="r")
            resp.headers.append(("Contact", f"<sip:fax@127.0.0.1:5080>;expires={self.expires}"))
        return resp.encode()


def test_register_answers_the_challenge_and_refreshes_before_expiry():
    ua = UserAgent(B, user="fax", password="secret", seed=2)
    registrar = Registrar(expires=60)
    ua.register("sip:example.org", 0.0, expires=60, dest=("127.0.0.1", 5999))
    events = []
    now = 0.0
    for _ in range(6):
        while out := ua.datagrams_to_send():
            for data, addr in out:
                assert addr == ("127.0.0.1", 5999)
                ua.datagram_received(registrar(data), ("127.0.0.1", 5999), now)
        events += ua.events()
        now = ua.next_timer() if ua.next_timer() is not None else now
        ua.handle_timer(now)
    assert events[:2] == [Registered(60), Registered(60)]
    sent = registrar.seen
    # 401, then 200; refreshed at 30 s (half of 60): 401 again, 200 again
    assert [r.cseq[0] for r in sent[:4]] == [1, 2, 3, 4]
    assert len({r.call_id for r in sent}) == 1
    assert 'username="fax"' in sent[1].get("Authorization") and "qop=auth" in sent[1].get("Authorization")


def test_invite_answers_407_once_then_gives_up():
    a = UserAgent(A, user="alice", password="pw", seed=1)
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    for attempt in range(2):
        (data, _), = [x for x in a.datagrams_to_send() if x[0].startswith(b"INVITE")]
        inv = parse(data)
        assert (inv.get("Proxy-Authorization") is not None) == (attempt == 1)
        resp = make_response(inv, 407, to_tag="p")
        resp.headers.append(("Proxy-Authenticate", challenge(407).split(": ", 1)[1].strip()))
        a.datagram_received(resp.encode(), B, 0.1)
    assert a.events() == [CallEnded(call_id, 407, "Proxy Authentication Required")]
    assert inv.cseq[0] == 2                       # the retry is a new request: CSeq + 1


def test_a_second_invite_for_a_live_call_id_is_a_merged_request():
    b = UserAgent(B, seed=2)
    assert [r.status for r, _ in responses(b, request("INVITE", body=offer_sdp()))] == [100, 180]
    out = responses(b, request("INVITE", body=offer_sdp(), branch="z9hG4bKother"))
    assert [r.status for r, _ in out] == [100, 482]          # §8.2.2.2 Loop Detected
    assert b.calls["call-1@127.0.0.1"].state == "incoming"


def test_an_invite_repeated_after_our_2xx_gets_the_2xx_again_not_a_new_call():
    b = UserAgent(B, seed=2)
    b.datagram_received(request("INVITE", body=offer_sdp()), A, 0.0)
    (incoming,) = b.events()
    b.answer(incoming.call_id, 0.0, 5000)
    first = b.datagrams_to_send()[-1][0]
    assert [parse(d).status for d, _ in responses_raw(b, request("INVITE", body=offer_sdp()))] == [200]
    assert b.datagrams_to_send() == [] and first.startswith(b"SIP/2.0 200")
    b.datagram_received(request("ACK", branch="z9hG4bKack"), A, 0.2)
    assert responses_raw(b, request("INVITE", body=offer_sdp())) == []          # absorbed
    assert b.calls[incoming.call_id].state == "established"


def responses_raw(ua, data, now=0.1):
    ua.datagram_received(data, A, now)
    return ua.datagrams_to_send()


def test_a_wildcard_address_is_refused():
    with pytest.raises(SipLocalError, match="not '0.0.0.0': it goes into Via, Contact and SDP"):
        UserAgent(("0.0.0.0", 5060))


def test_a_wildcard_address_is_refused_before_any_socket_is_bound(monkeypatch, capsys):
    """``faxengine receive --listen 0.0.0.0:5060`` printed asyncio's traceback from
    ``connection_made`` and then an internal error; now one line, exit 2, no socket."""
    import asyncio

    from faxengine.media import commands
    from faxengine.media.sip import protocol

    async def no_bind(*args, **kwargs):
        raise AssertionError("a socket was opened for a wildcard address")
    monkeypatch.setattr(protocol, "open_endpoint", no_bind)
    with pytest.raises(SipLocalError, match="not '::'"):
        asyncio.run(protocol.open_sip(("::", 0)))
    assert commands.receive_main(["--listen", "0.0.0.0:5060", "--out", ".", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "faxengine receive: bind the user agent to the address peers reach, not '0.0.0.0': "
        "it goes into Via, Contact and SDP"], err


def test_the_answering_side_hangs_up_with_bye_in_its_dialog():
    a, b, link = pair()
    call_id = up(a, b, link)
    b.hangup(call_id, 2.0)
    link.run(60)
    assert b.events() == [CallEnded(call_id, 200, "local hangup")]
    assert a.events() == [CallEnded(call_id, 200, "BYE from the far end")]
    assert len(link.sent("BYE sip:alice@127.0.0.1:5070")) == 1    # to the caller's Contact
