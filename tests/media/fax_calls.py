"""One fax call over SIP on 127.0.0.1, ours to ours, in real time (for tests/media and tests/t38).

``run_call(pages, out, ...)``: a ``send_fax`` calls a ``FaxReceiver`` through
two of our user agents, optionally through a ``relay.Relay`` in front of
the RTP or UDPTL sockets; both ``CallResult``s and the relay come back.
``assert_went_through`` checks what every good call must show.  Every wait
is bounded.
"""
from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from faxengine import tiff
from faxengine.media.call import FaxReceiver, SipEndpoint, send_fax
from relay import Relay

LOCAL = ("127.0.0.1", 0)
CALL_TIMEOUT = 240.0


async def fax_call(pages, out, *, ecm: bool = True, relay: dict | None = None,
                   relayed: str = "rtp", user: str = "fax", endpoint: dict | None = None,
                   send: dict | None = None, receive: dict | None = None):
    """One call, sender to receiver; both results and the relay.

    ``relayed``: which stream goes through the relay (``"rtp"`` or
    ``"udptl"``); ``endpoint``, ``send``, ``receive``: more keywords for the
    receiver's ``SipEndpoint.open``, ``send_fax`` and ``FaxReceiver``.
    """
    rx = await SipEndpoint.open(LOCAL, user="fax", **(endpoint or {}))
    link = await Relay(**relay).start() if relay is not None else None
    advertise = f"{relayed}_advertise"
    try:
        receiver = FaxReceiver(rx, out, ecm=ecm, **(receive or {}),
                               **({advertise: link.port_for_a} if link else {}))
        serving = asyncio.ensure_future(receiver.serve(once=True))
        host, port = rx.sip.local
        sent = await send_fax(pages, f"sip:{user}@{host}:{port}", ecm=ecm, **(send or {}),
                              **({advertise: link.port_for_b} if link else {}))
        (received,) = await asyncio.wait_for(serving, 30)
        return sent, received, link
    finally:
        if link is not None:
            link.close()
        rx.close()


def run_call(pages, out, **options: Any):
    """``fax_call`` on a loop of its own, at most ``CALL_TIMEOUT`` seconds."""
    return asyncio.run(asyncio.wait_for(fax_call(pages, out, **options), CALL_TIMEOUT))


def assert_went_through(sent, received, pages):
    assert sent.ok and received.ok, (sent.fax, received.fax)
    assert sent.fax.pages == received.fax.pages == len(pages)
    got = tiff.read(received.path)
    assert [np.array_equal(p.image, q.image) for p, q in zip(got, pages)] == [True] * len(pages)
    assert sent.call_id == received.call_id
    assert sent.sip_reason == "local hangup" and received.sip_reason == "BYE from the far end"
