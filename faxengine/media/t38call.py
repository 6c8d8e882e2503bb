"""T.38 in a SIP fax call: the UDPTL port on the loop's pacer, and the switch from audio.

``pace_t38(port)`` runs a ``faxengine.t38.transport.UdptlPort`` on the
loop's one ``Pacer`` (``faxengine.media.rtpport``), beside the audio calls:
its future is done when the port's ``until()`` says so or its line time is
up.
"""
from __future__ import annotations

import asyncio

from faxengine.media.rtpport import Pacer
from faxengine.t38.transport import UdptlPort

__all__ = ["pace_t38"]


def pace_t38(port: UdptlPort) -> asyncio.Future:
    """Start running ``port`` in real time (block 0 now); the future is done
    when the call is over (``until()``, or ``max_seconds`` of line time).
    Cancelling it stops the pacing."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    port.start(loop.time(), done)
    Pacer.of(loop).add(port)        # type: ignore[arg-type]  # a paced call's shape
    return done
