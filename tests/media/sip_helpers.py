"""A fake UDP link between sans-I/O user agents, and canned requests (for tests/media)."""
from __future__ import annotations

from collections.abc import Callable

from faxengine.media.sip.ua import UserAgent

A = ("127.0.0.1", 5070)
B = ("127.0.0.1", 5080)


class Link:
    """Carries datagrams between user agents at explicit times; ``drop`` loses some."""

    def __init__(self, *uas: UserAgent) -> None:
        self.uas = {ua.local: ua for ua in uas}
        self.now = 0.0
        self.log: list[tuple[float, tuple[str, int], str]] = []   # (time, to, first line)
        self.drop: Callable[[bytes], bool] = lambda data: False
        self.outside: list[tuple[bytes, tuple[str, int]]] = []    # sent to nobody we know

    def deliver(self) -> None:
        for _ in range(100):
            moved = False
            for src, ua in self.uas.items():
                for data, addr in ua.datagrams_to_send():
                    moved = True
                    self.log.append((self.now, addr, data.split(b"\r\n", 1)[0].decode()))
                    if self.drop(data):
                        continue
                    if addr in self.uas:
                        self.uas[addr].datagram_received(data, src, self.now)
                    else:
                        self.outside.append((data, addr))
            if not moved:
                return

    def run(self, until: float) -> None:
        """Deliver, fire timers and deliver again until ``until`` (or nothing is left)."""
        self.deliver()
        while True:
            times = [t for t in (ua.next_timer() for ua in self.uas.values()) if t is not None]
            if not times or min(times) > until:
                self.now = until
                return
            self.now = max(self.now, min(times))
            for ua in self.uas.values():
                ua.handle_timer(self.now)
            self.deliver()

    def sent(self, first_line: str) -> list[float]:
        """When datagrams starting with ``first_line`` were sent."""
        return [t for t, _, line in self.log if line.startswith(first_line)]


def request(method: str = "OPTIONS", *, extra: str = "", body: str = "", uri: str = "sip:fax@127.0.0.1:5080",
            branch: str = "z9hG4bKtest1", to_tag: str = "", cseq: int = 1) -> bytes:
    """A request from sipp-like 127.0.0.1:5070 to B."""
    to = f"<sip:fax@127.0.0.1:5080>{';tag=' + to_tag if to_tag else ''}"
    text = (f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:peer@127.0.0.1:5070>;tag=peer1\r\n"
            f"To: {to}\r\n"
            "Call-ID: call-1@127.0.0.1\r\n"
            f"CSeq: {cseq} {method}\r\n"
            "Contact: <sip:peer@127.0.0.1:5070>\r\n"
            f"{extra}"
            f"{'Content-Type: application/sdp' + chr(13) + chr(10) if body else ''}"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
    return text.encode()


def offer_sdp(port: int = 6000, formats: str = "8 0 101", extra: str = "") -> str:
    return ("v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {formats}\r\na=rtpmap:101 telephone-event/8000\r\n{extra}")


T38_SDP = ("v=0\r\no=peer 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=image 6002 udptl t38\r\na=T38FaxVersion:0\r\n")
