"""faxengine.media.rtp: RTP (RFC 3550) for G.711 audio, sans-I/O with an asyncio adapter.

* ``packet``: the RTP fixed header, CSRC list, header extension and padding
  as octets; ``RtpPacket.parse`` / ``RtpPacket.encode``.
* ``jitter``: a fixed-delay jitter buffer that reorders, reports lost
  20 ms blocks and fills them with silence, and survives sequence wrap,
  SSRC changes and talkspurts (marker bit).
* ``session``: one call's RTP stream both ways: G.711 payloads, pacing from
  the caller's monotonic clock, symmetric RTP, statistics.  Takes ``now``,
  returns datagrams and its next timer.
* ``protocol``: the thin asyncio ``DatagramProtocol`` that owns the socket
  and the clock.
"""
from faxengine.media.rtp.errors import RtpError, RtpLocalError, RtpPacketError
from faxengine.media.rtp.jitter import Block, JitterBuffer
from faxengine.media.rtp.packet import RtpPacket
from faxengine.media.rtp.session import PCMA, PCMU, Codec, RtpSession, RtpStats, codec

__all__ = ["PCMA", "PCMU", "Block", "Codec", "JitterBuffer", "RtpError", "RtpLocalError",
           "RtpPacket", "RtpPacketError", "RtpSession", "RtpStats", "codec"]
