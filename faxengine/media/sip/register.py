"""Registration (RFC 3261 §10): binding our Contact at a registrar, kept fresh.

``Registration`` holds one binding's state: the registrar, one Call-ID for
all its REGISTERs and their rising CSeq (§10.2), the expiry asked for and
the one granted.  The registrar may shorten the expiry: the ``expires``
parameter of our Contact in the 200 wins, then its ``Expires`` header, then
what we asked (§10.2.4).  The binding is refreshed before it lapses:
half-way through, and never later than 32 s before the end (64*T1, the time
a REGISTER may take to time out), so a lost REGISTER is retried in time.
The user agent builds, sends and authenticates the requests.
"""
from __future__ import annotations

from dataclasses import dataclass

from faxengine.media.sip.message import NameAddr, Response, Uri

Address = tuple[str, int]
REFRESH_MARGIN = 32.0            # seconds before expiry at the latest (64*T1)


@dataclass(slots=True)
class Registration:
    """One binding at one registrar."""

    uri: Uri
    dest: Address
    call_id: str
    expires: int
    cseq: int = 0
    refresh_at: float | None = None
    auth_tries: int = 0

    @property
    def request_uri(self) -> str:
        """The registrar's domain, no user part (§10.2)."""
        return str(Uri(self.uri.host, port=self.uri.port))

    def granted(self, response: Response, contact: Address, now: float) -> int:
        """The expiry a 2xx granted our ``contact``; schedules the refresh."""
        expires = self.expires
        for value in response.get_all("Contact"):
            na = NameAddr.parse(value)
            param = dict(na.params).get("expires")
            if (na.uri.host, na.uri.port) == contact and param:
                expires = int(param) if param.isdigit() else expires
                break
        else:
            header = response.get("Expires")
            expires = int(header) if header and header.isdigit() else expires
        self.auth_tries = 0
        self.refresh_at = now + expires - min(expires / 2, REFRESH_MARGIN) if expires > 0 else None
        return expires
