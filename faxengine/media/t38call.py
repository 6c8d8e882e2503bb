"""T.38 in a SIP fax call: the UDPTL port on the loop's pacer, and the switch from audio.

``pace_t38(port)`` runs a ``faxengine.t38.transport.UdptlPort`` on the
loop's one ``Pacer`` (``faxengine.media.rtpport``), beside the audio calls:
its future is done when the port's ``until()`` says so or its line time is
up.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from faxengine.media.rtpport import Pacer
from faxengine.media.sip.sdp import Image
from faxengine.t38.sdp import T38Params
from faxengine.t38.terminal import DEFAULT_MAX_DATAGRAM, MIN_MAX_DATAGRAM, T38Terminal
from faxengine.t38.transport import UdptlPort, UdptlSocket

__all__ = ["DEFAULT_PARAMS", "T38Options", "largest_packet", "pace_t38", "t38_terminal",
           "udptl_port"]


def pace_t38(port: UdptlPort) -> asyncio.Future:
    """Start running ``port`` in real time (block 0 now); the future is done
    when the call is over (``until()``, or ``max_seconds`` of line time).
    Cancelling it stops the pacing."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    port.start(loop.time(), done)
    Pacer.of(loop).add(port)        # type: ignore[arg-type]  # a paced call's shape
    return done


#: our T.38 parameters (SDP, T.38 Annex D): version 0 and transferred TCF,
#: what spandsp's users (Asterisk, FreeSWITCH) and most trunks offer; 400
#: octets per datagram at most (Asterisk's T38FaxMaxDatagram)
DEFAULT_PARAMS = T38Params(version=0, max_bit_rate=14400, rate_management="transferredTCF",
                           max_buffer=2000, max_datagram=400, udp_ec="t38UDPRedundancy")
MAX_UDP_PAYLOAD = 65507     # octets in one UDP datagram over IPv4
UDPTL_OVERHEAD = 8          # octets UDPTL adds to the primary IFP packet (seq, lengths, counts)


@dataclass(frozen=True, slots=True)
class T38Options:
    """How a SIP fax call uses T.38.

    Args:
        offer: re-INVITE to T.38 ourselves: an answering (receiving) call as
            soon as it is up, a calling one when its terminal hears a fax
            answer (CED or V.21) -- unless the peer's re-INVITE came first.
            False: take T.38 only when the peer offers it.
        redundancy_control, redundancy_image: UDPTL secondaries per datagram
            (3 for control, 1 for image data: the common practice).
        t38_only: a calling side's INVITE offers only ``m=image udptl t38``
            (no audio at all, as some trunks call).
    """

    offer: bool = False
    t38_only: bool = False
    redundancy_control: int = 3
    redundancy_image: int = 1


def t38_terminal(image: Image, calling: bool, send: Any, receive: Any, ecm: bool,
                 **options: Any) -> T38Terminal:
    """A fresh T.38 terminal for the T.38 stream the SDP agreed on."""
    params = image.params
    return T38Terminal(calling, send=send, receive=receive, ecm=ecm, version=params.version,
                       rate_management=params.rate_management,
                       max_datagram=largest_packet(image),
                       fill_bit_removal=params.fill_bit_removal, **options)


def largest_packet(image: Image) -> int:
    """The largest IFP packet (octets) to send to the peer of ``image``: what its
    SDP's ``T38FaxMaxDatagram`` leaves after the UDPTL header, at least
    ``MIN_MAX_DATAGRAM``; ``DEFAULT_MAX_DATAGRAM`` when it gave none."""
    peer = image.params.max_datagram
    return max(peer - UDPTL_OVERHEAD if peer else DEFAULT_MAX_DATAGRAM, MIN_MAX_DATAGRAM)


def udptl_port(terminal: T38Terminal, socket: UdptlSocket, image: Image, options: T38Options,
               until: Callable[[], bool], max_seconds: float) -> UdptlPort:
    """The UDPTL port of a T.38 call: to the peer's address, within its
    ``T38FaxMaxDatagram`` (one too small for a packet and its UDPTL header,
    or beyond UDP's, is taken as the least or most that works)."""
    largest = min(largest_packet(image) + UDPTL_OVERHEAD, MAX_UDP_PAYLOAD)
    return UdptlPort(terminal, socket, image.remote,
                     redundancy_control=options.redundancy_control,
                     redundancy_image=options.redundancy_image,
                     max_datagram=largest, until=until,
                     max_seconds=max_seconds)
