"""SIP dialogs (RFC 3261 §12): one call's identity, route and sequence numbers.

A dialog is named by Call-ID, local tag and remote tag.  The UAC learns the
remote tag, the remote target (the peer's Contact) and the route set (the
Record-Route of the 2xx, reversed) from the 2xx to its INVITE (§12.1.2);
the UAS takes them from the INVITE (Record-Route in order, §12.1.1).
Requests inside the dialog (BYE, ACK for a 2xx, re-INVITE) go to the
remote target with the route set as Route headers (loose routing, §12.2.1.1),
and their CSeq numbers rise by one each, except ACK and CANCEL, which
repeat the INVITE's (§13.2.2.4, §9.1).

``Call`` also carries what the user agent needs across the call's life:
the INVITE in progress, the audio agreed on, and the state
(``calling`` -> ``ringing`` -> ``established`` -> ``ended`` for a UAC,
``incoming`` -> ``established`` -> ``ended`` for a UAS).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faxengine.media.sip.message import NameAddr, Uri

if TYPE_CHECKING:
    from faxengine.media.sip.message import Request
    from faxengine.media.sip.sdp import Audio, Image, SessionDescription
    from faxengine.media.sip.transaction import Transaction

Address = tuple[str, int]
STATES = ("calling", "ringing", "incoming", "established", "ended")


@dataclass(slots=True)
class Call:
    """One call: its dialog and where it stands."""

    call_id: str
    role: str                               # "uac" or "uas"
    local: NameAddr                         # our From (UAC) or To (UAS), with our tag
    remote: NameAddr                        # the peer's, with its tag once known
    remote_target: Uri
    dest: Address                           # where in-dialog requests go
    rtp_port: int
    state: str = "calling"
    local_cseq: int = 1
    remote_cseq: int | None = None
    route_set: list[str] = field(default_factory=list)
    audio: "Audio | None" = None
    offer: "SessionDescription | None" = None   # the peer's offer awaiting our answer
    invite: "Request | None" = None             # the INVITE in progress (ours or theirs)
    invite_tx: "Transaction | None" = None
    provisional: bool = False               # a 1xx came: CANCEL may be sent (§9.1)
    cancel_pending: bool = False            # hang up as soon as CANCEL may go
    hangup_requested: bool = False
    ack: bytes | None = None                # our ACK to the 2xx, sent again for its repeats
    auth_tries: int = 0
    sdp_version: int = 1
    udptl_port: int | None = None           # our UDPTL socket: T.38 may be taken
    image: "Image | None" = None            # the T.38 stream, once agreed
    t38_wanted: bool = False                # offer T.38 as soon as a re-INVITE may go
    t38_only: bool = False                  # our INVITE offers only m=image (T.38)

    @property
    def remote_tag(self) -> str | None:
        return self.remote.tag

    @property
    def local_tag(self) -> str | None:
        return self.local.tag

    def learn_route(self, record_route: list[str], contact: str | None, *, reverse: bool) -> None:
        """Remote target and route set from a 2xx (UAC, reversed) or the INVITE (UAS)."""
        self.route_set = list(reversed(record_route)) if reverse else list(record_route)
        if contact:
            self.remote_target = NameAddr.parse(contact).uri
        first = NameAddr.parse(self.route_set[0]).uri if self.route_set else self.remote_target
        self.dest = first.address

    def next_cseq(self) -> int:
        self.local_cseq += 1
        return self.local_cseq
