"""The T.38 terminal: a T.30 fax terminal whose line is a stream of IFP packets.

``T38Terminal`` is ``faxengine.FaxTerminal`` -- the same transition table,
timers, ECM, page judgement, events, results and trace -- with the modems
replaced by IFP packets (T.38 §7), as an internet-aware fax device (T.38
§3 "IAF") or spandsp's ``t38_terminal`` is.  It stays sans-I/O: ``tx(n)``
gives the IFP packets to send in the next ``n`` samples of time (8000/s;
the terminal's clock runs on these calls), ``rx(packet)`` takes one that
arrived, ``rx_lost(n)`` says that ``n`` never will (UDPTL reports the hole),
``events()``, ``finished`` and ``result`` as on ``FaxTerminal``.  A UDPTL
adapter (``faxengine.t38.udptl``) encodes the packets with
``faxengine.t38.ifp.encode`` for the negotiated ``version``, and sends each
datagram ``copies(packet)`` times (indicators and signal ends three times,
as spandsp does); redundancy is the transport's too.

How T.30 maps onto IFP (``faxengine.t38.signals`` has the timings):

* Phase A: the calling terminal sends the ``cng`` indicator, the answering
  one ``ced`` (after 0.2 s) and its DIS 2.6 s later.  A ``ced`` or
  ``v21-preamble`` heard marks a fax answer (phase A's tone detector).
* V.21 frames: ``v21-preamble``, then each frame's octets as ``hdlc-data``
  and ``hdlc-fcs-OK`` (the last ``hdlc-fcs-OK-sig-end``), then
  ``no-signal``.  A frame is taken when its FCS is reported OK and none of
  its packets was lost (T.38 §7.4: a gateway reports the FCS it checked).
* TCF with ``rate_management="transferredTCF"`` (T.38 §8.2, data rate
  management method 2; SDP ``T38FaxRateManagement``): the sender sends the
  1.5 s of zeros as ``t4-non-ecm-data`` at the DCS's rate and the receiver
  judges them as it judges a TCF from a modem (``t30.quality.judge_tcf``).
  With ``"localTCF"`` (§8.1, method 1) no TCF goes on the wire, but its
  time passes as on a line: the sender sends nothing for as long as a TCF
  takes (its T4 then runs from there), the receiver takes the DCS as
  trained (the link has no modem to fail) and answers CFR when a TCF would
  have ended, as a gateway that checked one locally does; a TCF that comes
  anyway is not judged.
* Pages without ECM: ``t4-non-ecm-data`` at the image rate, decoded as they
  come (``t30.link.PageDecoder``) and judged as any (MCF, RTP, RTN);
  octets lost count their lines as bad.  With ``fill_bit_removal`` (SDP
  ``T38FaxFillBitRemoval``) pages go without fill bits (T.4 §4.1.3 fill
  only paces a printing receiver; a T.38 receiver prints nothing in real
  time); fill that comes is accepted as always.
* ECM (T.30 Annex A): each FCD and RCP frame as HDLC fields of the image
  modem's data type; a frame with a lost packet is missing, and PPR asks
  for it again.
* The half-duplex link: while the terminal has a signal to send it hears
  nothing, as on a line; a transmission that follows reception waits for
  the remote signal's end (its sig-end or ``no-signal``; at most
  ``t30.terminal.HOLD_MAX``).  A remote signal whose packets stop for
  ``RX_SILENCE_S`` without an end is taken as ended.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from faxengine.errors import FaxError
from faxengine.t30.events import Event
from faxengine.t30.frames import Frame
from faxengine.t30.options import sample_count
from faxengine.t30.quality import TCF_SECONDS, tcf_bits
from faxengine.t30.states import END
from faxengine.t30.terminal import HOLD_MAX, FaxTerminal
from faxengine.t30 import link
from faxengine.t38 import signals
from faxengine.t38.errors import T38Error
from faxengine.t38.ifp import VERSIONS, Data, FieldType, IfpPacket, Indicator, T30Data, T30Indicator

__all__ = ["T38Terminal", "RATE_MANAGEMENT", "copies"]

RATE_MANAGEMENT = ("transferredTCF", "localTCF")     # T.38 Annex D T38FaxRateManagement
DEFAULT_MAX_DATAGRAM = 400      # octets: Asterisk's and many gateways' T38FaxMaxDatagram
MIN_MAX_DATAGRAM = signals.IFP_OVERHEAD + 1
RX_SILENCE_S = 3.0              # a remote signal without a packet this long has ended
_HDLC_ENDS = frozenset({FieldType.HDLC_FCS_OK_SIG_END, FieldType.HDLC_FCS_BAD_SIG_END,
                        FieldType.HDLC_SIG_END})
_SIG_ENDS = _HDLC_ENDS | {FieldType.T4_NON_ECM_SIG_END}
END_COPIES = 3                  # datagrams of an indicator or a signal's end (spandsp's count)


def copies(packet: IfpPacket) -> int:
    """How many times the transport should send the datagram of ``packet``:
    ``END_COPIES`` for an indicator or a packet that ends a signal (a lost
    one would leave the peer waiting for a signal's end, or miss a frame
    that no later packet repeats), 1 for the rest.  spandsp's T.38 terminal
    does the same (its INDICATOR_TX_COUNT and DATA_END_TX_COUNT); the copies
    carry the same UDPTL sequence number, so a receiver drops all but one.
    """
    if isinstance(packet, Indicator):
        return END_COPIES
    return END_COPIES if any(f.kind in _SIG_ENDS for f in packet.fields) else 1


class T38Terminal(FaxTerminal):
    """A Group 3 fax terminal (T.30) on a T.38 IFP link (see the module's docstring).

    Args:
        calling, send, receive, ecm: as ``FaxTerminal``.
        version: the ``T38FaxVersion`` negotiated (0 to 3); kept for the
            transport's encoder (the packets a terminal sends are the same
            in every version).
        rate_management: ``"transferredTCF"`` (TCF on the wire, judged by
            the receiver) or ``"localTCF"`` (none; the SDP
            ``T38FaxRateManagement``).
        max_datagram: the most octets an IFP packet may have (the peer's
            ``T38FaxMaxDatagram`` less what UDPTL adds); data is cut into
            packets that fit.
        fill_bit_removal: send non-ECM pages without fill bits (SDP
            ``T38FaxFillBitRemoval``).
        **options: every other keyword of ``FaxTerminal`` (``max_rate``,
            ``modems``, ``codings``, ``ident``, ``logger``, ``on_event`` ...;
            ``power_dbm0`` has no meaning here).

    Raises:
        T38Error: a bad ``version``, ``rate_management``, ``max_datagram``
            or ``fill_bit_removal``.
        LocalProtocolError: as ``FaxTerminal``.
    """

    def __init__(self, calling: bool = True, send=None, receive=None, ecm: bool = True, *,
                 version: int = 0, rate_management: str = "transferredTCF",
                 max_datagram: int = DEFAULT_MAX_DATAGRAM, fill_bit_removal: bool = False,
                 logger: logging.Logger | logging.LoggerAdapter | None = None,
                 on_event: Callable[[Event], None] | None = None, **options) -> None:
        if isinstance(version, bool) or version not in VERSIONS:
            raise T38Error(f"version must be a T38FaxVersion, one of {VERSIONS}, "
                           f"not {version!r}")
        if rate_management not in RATE_MANAGEMENT:
            raise T38Error(f"rate_management must be one of {', '.join(RATE_MANAGEMENT)} "
                           f"(the SDP T38FaxRateManagement), not {rate_management!r}")
        if isinstance(max_datagram, bool) or not isinstance(max_datagram, int) \
                or max_datagram < MIN_MAX_DATAGRAM:
            raise T38Error(f"max_datagram must be an int of at least {MIN_MAX_DATAGRAM} "
                           f"octets (the peer's T38FaxMaxDatagram), not {max_datagram!r}")
        self.version = version
        self.rate_management = rate_management
        self.max_datagram = max_datagram
        if not isinstance(fill_bit_removal, (bool, np.bool_)):
            raise T38Error(f"fill_bit_removal must be True or False (the SDP "
                           f"T38FaxFillBitRemoval), not {fill_bit_removal!r}")
        self.fill_bit_removal = bool(fill_bit_removal)
        super().__init__(calling, send, receive, ecm, logger=logger, on_event=on_event,
                         **options)

    # ------------------------------------------------------- the link's ends
    def _init_link(self) -> None:
        self._cng = None                # (FaxTerminal's audio generators and detectors)
        self._tones = None
        self._tx_indicator = signals.NO_SIGNAL.kind     # the last indicator sent
        self._rx_indicator: T30Indicator | None = None  # ... and received
        self._rx_signal: str | None = None      # "v21" or "hs" while one comes in
        self._rx_last = 0                       # when its last packet came
        self._frame = bytearray()               # the V.21 frame coming in
        self._frame_missing = False
        self._local_tcf_at: int | None = None   # localTCF: when the TCF would have ended
        self.packets_lost = 0
        self.packets_deaf = 0                   # packets that came while we were sending

    def _phase_a_signal(self) -> signals.IfpSignal:
        if self.calling:
            return signals.tone_signal(T30Indicator.CNG, 0)
        return signals.tone_signal(T30Indicator.CED, signals.CED_SAMPLES)

    def _listen(self) -> None:
        self._rx_indicator = None
        self._rx_signal = None
        self._frame.clear()
        self._frame_missing = False

    def _signal_coming(self) -> bool:
        return self._rx_signal is not None

    def _prepare_receiver(self) -> None:
        """(Nothing to build ahead: an IFP receiver costs nothing.)"""

    def _hs_receiver(self, modem: str, rate: int) -> signals.IfpHsReceiver:
        return signals.IfpHsReceiver(modem, rate)

    def _send_frames(self, *frames: Frame) -> None:
        for f in frames:
            self._trace("tx", f)
        self._queue(signals.v21_signal([f.to_bytes() for f in frames], self.max_datagram))

    def _tcf_signal_of(self) -> signals.IfpSignal:
        dcs = self._dcs
        if self.rate_management == "localTCF":
            # T.38 §8.1: none on the wire, but its time passes (T4 runs from
            # its end, as the receiver's CFR comes when a TCF would have ended)
            return signals.quiet_signal(self._tcf_samples())
        nbits = tcf_bits(dcs.rate)
        return signals.non_ecm_signal(dcs.modem, dcs.rate, [bytes(nbits // 8)], nbits,
                                      False, self.max_datagram)

    def _tcf_samples(self) -> int:
        """The line time of a TCF at the DCS's mode: 75 ms, the long training, 1.5 s."""
        dcs = self._dcs
        return int((0.075 + link.TRAINING_S[dcs.modem, dcs.rate] + TCF_SECONDS) * 8000)

    def _page_signal_of(self, page) -> signals.IfpSignal:
        dcs = self._dcs
        fill = 0 if self.fill_bit_removal else dcs.min_bits_per_line
        pieces = signals.octet_pieces(link.page_bits(page.image, dcs.coding, dcs.k, fill))
        nbits = page.height * max(fill, page.width // 16)
        return signals.non_ecm_signal(dcs.modem, dcs.rate, pieces, nbits, self._trained,
                                      self.max_datagram)

    def _block_signal_of(self, frames: list[Frame]) -> signals.IfpSignal:
        dcs = self._dcs
        return signals.ecm_signal(dcs.modem, dcs.rate, [f.to_bytes() for f in frames],
                                  self._trained, self.max_datagram)

    def _queue(self, signal) -> None:
        if isinstance(signal, signals.IfpSignal):
            if not self._txq:
                self._holding, self._hold = True, 0
            self._txq.append(signal)

    # ------------------------------------------------------------------ public
    def tx(self, n: int) -> list[IfpPacket]:
        """The IFP packets to send in the next ``n`` samples of time (8000/s),
        oldest first; [] while the terminal listens.  Time passes only here:
        call it on a steady clock (every 20 ms, say) even when ``rx`` gets
        nothing.

        Raises:
            LocalProtocolError: ``n`` is not a whole number of samples >= 0.
        """
        n = sample_count(n)
        end = self._tx_time + n
        out: list[IfpPacket] = []
        at = self._tx_time                      # where the next signal may start
        while self._txq:
            if self._holding:                   # for the remote signal's end, HOLD_MAX at most
                wait = HOLD_MAX - self._hold if self._rx_signal is not None else 0
                if wait >= end - at:
                    self._hold += end - at
                    break
                at += max(wait, 0)
                self._holding = False
            signal = self._txq[0]
            if signal.start is None:
                signal.start = at
                if self._tx_indicator is not T30Indicator.NO_SIGNAL:
                    out.append(signals.NO_SIGNAL)       # the line goes quiet first
                    self._tx_indicator = T30Indicator.NO_SIGNAL
            packets = signal.take(end)
            for p in packets:
                if isinstance(p, Indicator):
                    self._tx_indicator = p.kind
            out.extend(packets)
            if signal is self._hs_chunk:
                self._hs_sent = signal.fraction * signal.size
            if not signal.done:
                break
            at = signal.end
            self._txq.pop(0)
            if not self._txq:
                self._now = max(self._now, at)
                self._drained()
        self._now = self._tx_time = end
        self._step_work()
        if not self._finished and not self.transmitting:
            try:
                self._idle()
            except (FaxError, OSError) as exc:
                self._failed(exc)
        for p in out:
            self.log.debug("tx IFP %s", p)
        return out

    def rx(self, packet: IfpPacket) -> None:
        """Take one IFP packet that arrived (``Indicator`` or ``Data``), in order.

        Raises:
            T38Error: ``packet`` is not an IFP packet (decode the octets
                with ``faxengine.t38.ifp.decode`` first).
        """
        if not isinstance(packet, (Indicator, Data)):
            raise T38Error(f"rx takes an IFP packet (Indicator or Data, see "
                           f"faxengine.t38.ifp.decode), not {type(packet).__name__}")
        if self._finished:
            return
        if self._txq and not self._holding:
            self.packets_deaf += 1
            return                          # half duplex: deaf while sending
        self.log.debug("rx IFP %s", packet)
        self._rx_last = self._now
        try:
            if isinstance(packet, Indicator):
                self._indicator_in(packet.kind)
            else:
                self._data_in(packet)
        except (FaxError, OSError) as exc:  # e.g. the TIFF file cannot be written
            self._failed(exc)

    def rx_lost(self, n: int) -> None:
        """``n`` IFP packets that never came (the transport saw their sequence
        numbers missing and could not recover them): an HDLC frame in progress
        is spoilt (not taken; ECM asks for it again), a non-ECM page has a
        hole whose lines count as bad.

        Raises:
            T38Error: ``n`` is not an int >= 0.
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise T38Error(f"rx_lost takes a count of IFP packets (int >= 0), not {n!r}")
        self.packets_lost += int(n)
        if n == 0 or self._finished or (self._txq and not self._holding):
            return
        self._frame_missing = True
        if self._hs is not None and self._hs.receiving:
            self._hs.lost(int(n))

    # ------------------------------------------------------------- receiving
    def _indicator_in(self, kind: T30Indicator) -> None:
        if kind is self._rx_indicator:
            return                          # a repeat (sent in copies, as ours are)
        self._rx_indicator = kind
        self._signal_over()
        if kind in (T30Indicator.CED, T30Indicator.V21_PREAMBLE):
            self._heard_fax = True          # phase A: a fax answered
        if kind is T30Indicator.V21_PREAMBLE:
            self._rx_signal = "v21"
        elif kind in signals.TRAINING_INDICATORS:
            self._rx_signal = "hs"
            if self._hs is not None:
                self._hs_heard(None)        # (a page's decoder is set up before it comes)
                self._hs.start()

    def _signal_over(self) -> None:
        """The remote signal in progress ended (or gave way to another)."""
        was, self._rx_signal = self._rx_signal, None
        self._frame.clear()
        self._frame_missing = False
        if was == "hs" and self._hs is not None and self._hs.receiving:
            self._hs_heard(self._hs.end())
        self._after_rx()

    def _data_in(self, packet: Data) -> None:
        kind = packet.kind
        if kind is T30Data.V21:
            self._rx_signal = "v21"
            self._heard_fax = True
            for field in packet.fields:
                self._v21_field(field)
                if self._state == END:
                    return
            self._after_rx()
            return
        mode = signals.MODE_OF_DATA.get(kind)
        hs = self._hs
        if hs is None or mode != (hs.modem, hs.rate):
            self.log.debug("rx IFP data %s: not the mode expected, ignored", kind)
            return
        self._rx_signal = "hs"
        if not hs.receiving:
            self._hs_heard(None)
            hs.start()
        ended = None
        for field in packet.fields:
            if field.kind in (FieldType.T4_NON_ECM_DATA, FieldType.T4_NON_ECM_SIG_END):
                hs.octets(field.data)
            else:
                hs.hdlc(field)
            if field.kind is FieldType.T4_NON_ECM_SIG_END or field.kind in _HDLC_ENDS:
                ended = hs.end()
                self._rx_signal = None
        self._hs_heard(ended)
        self._after_rx()

    def _v21_field(self, field) -> None:
        """One field of V.21 data: HDLC octets, or the end of a frame (T.38 §7.4)."""
        kind = field.kind
        if kind is FieldType.HDLC_DATA:
            if not self._frame and field.data[:1] != b"\xff":
                self._frame_missing = True  # a frame starts with its address, 0xFF
            signals.add_octets(self._frame, field.data)
            return
        frame = bytes(self._frame)
        ok = kind in (FieldType.HDLC_FCS_OK, FieldType.HDLC_FCS_OK_SIG_END)
        self._frame.clear()
        missing, self._frame_missing = self._frame_missing, False
        if kind in _HDLC_ENDS:
            self._rx_signal = None
        if ok and frame and not missing and len(frame) <= signals.MAX_FRAME:
            self._frame_in(signals.hdlc_octets(frame))

    def _after_rx(self) -> None:
        """What follows a packet: localTCF's training, the timers."""
        if self._state == END:
            return
        if (self._state == "B:RECEIVE_TCF" and self.rate_management == "localTCF"
                and self._rx_signal is None):
            # T.38 §8.1 localTCF: no TCF comes, the link is trained.  CFR goes when
            # a TCF would have ended (75 ms, the training, 1.5 s after the DCS), as
            # from a gateway that checked one locally: a sender may still be in
            # its TCF step before that and miss it (spandsp's does).
            if self._local_tcf_at is None:
                self._local_tcf_at = self._now + self._tcf_samples()
            if self._now >= self._local_tcf_at:
                self._tcf_deadline = self._local_tcf_at = None
                self.log.info("rx TCF: none (localTCF), taken as good")
                self._event("TCF_GOOD")
                return
        self._timers()

    def _signal_end(self, bits: np.ndarray) -> None:
        if self._state == "B:RECEIVE_TCF" and self.rate_management == "localTCF":
            # a TCF that comes anyway is not judged (spandsp's terminal sends a
            # signal of ones where TCF would be)
            self._tcf_deadline = None
            return
        super()._signal_end(bits)

    def _idle(self) -> None:
        """Each ``tx`` step while listening: a remote signal gone quiet, the
        TCF's deadline, the timers."""
        if self._rx_signal is not None and self._now - self._rx_last > RX_SILENCE_S * 8000:
            self.log.info("rx %s signal: no packet for %.0f s, taken as ended",
                          self._rx_signal, RX_SILENCE_S)
            self._rx_indicator = None
            self._signal_over()
            return
        if self._hs is not None and self._tcf_deadline is not None:
            self._hs_heard(None)
        if self._state != END:
            self._after_rx()

    def rx_fillin(self, n: int) -> None:
        """Not for T.38 (no samples): use ``rx_lost`` for lost packets.

        Raises:
            T38Error: always.
        """
        raise T38Error("a T38Terminal takes IFP packets: rx_lost(n) reports lost packets, "
                       "rx_fillin is for audio terminals")
