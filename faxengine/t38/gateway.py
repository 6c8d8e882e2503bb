"""The T.38 gateway: a fax machine's audio on one side, IFP packets on the other.

``T38Gateway`` is what T.38 §6 calls an emitting and receiving gateway, as
spandsp's ``t38_gateway`` is: a G3 fax terminal on an audio line (a PSTN
leg, or G.711 RTP) talks T.30 through it to a T.38 endpoint (a terminal or
another gateway) on a packet network.  It is sans-I/O, as the terminals:

```python
gw = T38Gateway(version=0)
every 20 ms:
    gw.rx_audio(samples_heard)          # int16, 8000/s, from the fax machine
    line.send(gw.tx_audio(160))         # int16 to play to the fax machine
    for packet in gw.tx_ifp():          # IFP packets to the T.38 side
        send it (UDPTL)
    gw.rx_ifp(packet) / gw.rx_lost(n)   # what came from the T.38 side
gw.finished, gw.result, gw.frames
```

Audio to IFP (demodulation): the V.21 channel 2 receiver and its HDLC
receiver run all the time, as does the CNG/CED detector, and so does the
high-speed receiver for the mode the last DCS (or CTC) set.  V.21 flags
(HDLC framing found with the carrier on) send ``v21-preamble``; each frame
goes as ``hdlc-data`` then ``hdlc-fcs-OK`` (or ``-BAD``); the carrier's end
sends ``hdlc-sig-end`` and ``no-signal``.  A high-speed signal, once its
receiver has trained, sends its training indicator (long for the first signal
after a DCS, V.17's short for later ones), then its data: non-ECM (TCF,
pages) as ``t4-non-ecm-data`` packets of ``signals.CHUNK_MS`` of line time
at most (and within ``max_datagram``), ECM frames as ``hdlc-data`` and FCS
fields; the carrier's end (or the receiver's losing its training: line noise can
hold a carrier detector on) sends the sig-end field and ``no-signal``.  TCF
passes through as data (T.38 §8.2, ``transferredTCF``): the far end judges
it.

IFP to audio (modulation): see ``faxengine.t38.gateway_audio``: every
signal is remodulated, with flags or T.4 fill when the network is late.

Snooping and editing (``faxengine.t38.gateway_t30``, T.30 frames both
ways, as spandsp's gateway does): DCS sets the modem and rate of the next
high-speed signals and whether they are ECM frames; a DIS or DTC loses what
the gateway cannot carry (V.8; with ``ecm=False`` ECM and MMR), with a new
FCS; NSF, NSC and NSS have their content zeroed (``nsx_suppression``, the
default).  Every control frame relayed is in ``frames`` and logged at INFO on
``faxengine.t38.gateway``.

The gateway ends (``finished``) when a DCN has passed and both sides are
quiet (IFP that comes 0.5 s after the DCN is ignored: T.30 phase E; at most
3 s after it whatever comes), or when no frame passed for ``IDLE_S``; then
``result`` says how: ``OK`` when the last post-message command (EOP,
PRI-EOP or PPS-EOP) was answered MCF before the DCN, ``CALL_FAILED`` for a DCN
otherwise, ``NO_SIGNAL`` when no T.30 frame passed either way for
``IDLE_S`` (silence, or only noise and garbage).  Bad input from the network
(indicators and data of modems not carried: V.8, V.34, V.33; field types
out of place) is ignored and counted in ``packets_bad``, never raised; a
flood is cut (``dropped``).  Handing ``rx_ifp`` anything but a decoded
packet is the caller's error: ``T38Error``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.modem import HdlcRx, ToneDetector, V17Rx, V21Rx, V27terRx, V29Rx
from faxengine.t30.facilities import V17, V27TER, V29
from faxengine.t30.frames import Fcf, Frame
from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.options import as_int16
from faxengine.t38 import signals
from faxengine.t38.errors import T38Error
from faxengine.t38.gateway_audio import AudioOut
from faxengine.t38.gateway_t30 import T30Snoop
from faxengine.t38.gateway_tcf import RATE_MANAGEMENT, LocalTcf
from faxengine.t38.ifp import VERSIONS, Data, Field, FieldType, IfpPacket, Indicator, T30Data, T30Indicator

__all__ = ["T38Gateway", "GatewayResult", "RESULT_CODES", "IDLE_S"]

LOGGER = "faxengine.t38.gateway"
IDLE_S = 60.0                   # nothing from either side this long: the call is gone
QUIET_AFTER_DCN_S = 0.5         # the DCN's signal has ended on both sides
DCN_HANGUP_S = 3.0              # after DCN (T.30 phase E) the call ends this soon, whatever comes

RESULT_CODES = {
    "OK": "the document passed: the last page was confirmed (MCF) before DCN",
    "CALL_FAILED": "the terminals hung up (DCN) before the last page was confirmed; "
                   "their own results say why",
    "NO_SIGNAL": f"no T.30 frame passed either way for {IDLE_S:.0f} s: the call is gone",
}

_RX = {V17: V17Rx, V29: V29Rx, V27TER: V27terRx}
_HDLC_ENDS = frozenset({FieldType.HDLC_FCS_OK_SIG_END, FieldType.HDLC_FCS_BAD_SIG_END,
                        FieldType.HDLC_SIG_END})
_FCS_OK = frozenset({FieldType.HDLC_FCS_OK, FieldType.HDLC_FCS_OK_SIG_END})
_FCS = _FCS_OK | {FieldType.HDLC_FCS_BAD, FieldType.HDLC_FCS_BAD_SIG_END}
# training indicator -> (modem, rate, short training)
_TRAINING = {}
for (_modem, _rate), (_kind, _long, _short) in signals._HS.items():
    _TRAINING[_long] = (_modem, _rate, False)
    _TRAINING[_short] = (_modem, _rate, _modem == V17 and _short is not _long)


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """How the call through the gateway ended.

    Attributes:
        ok: the document passed (``code == "OK"``).
        code: one of ``RESULT_CODES``.
        message: the code in plain words.
        pages: pages confirmed (MCF) through the gateway.
        bit_rate: the last image rate a DCS set, 0 if none.
        ecm: the last DCS set ECM.
    """
    ok: bool
    code: str
    message: str
    pages: int
    bit_rate: int
    ecm: bool


class T38Gateway:
    """An audio <-> T.38 fax gateway, sans-I/O (see the module docstring).

    Args:
        version: ``T38FaxVersion`` of the T.38 side (0 to 3), kept for the
            transport's encoder.
        max_datagram: the peer's ``T38FaxMaxDatagram``: no data packet is
            larger.
        ecm: let error correction through (False edits it out of DIS/DTC).
        nsx_suppression: overwrite the FIF of NSF, NSC and NSS with zeros
            both ways (``gateway_t30``), so the two ends agree no
            proprietary mode the gateway cannot carry; False: pass them as
            they are.
        rate_management: the T.38 side's ``T38FaxRateManagement``:
            ``"transferredTCF"`` (TCF crosses as data, T.38 §8.2) or
            ``"localTCF"`` (§8.1: the gateway judges the audio side's TCF and
            plays one to it itself; ``faxengine.t38.gateway_tcf``).
        power_dbm0: transmit level on the audio side.
        logger: where the frames relayed are logged (default
            ``faxengine.t38.gateway``).

    Raises:
        T38Error: a bad ``version``, ``max_datagram`` or ``rate_management``.
    """

    def __init__(self, *, version: int = 0, max_datagram: int = 400, ecm: bool = True,
                 nsx_suppression: bool = True, rate_management: str = "transferredTCF",
                 power_dbm0: float = -13.0,
                 logger: logging.Logger | logging.LoggerAdapter | None = None) -> None:
        if isinstance(version, bool) or version not in VERSIONS:
            raise T38Error(f"version must be a T38FaxVersion, one of {VERSIONS}, "
                           f"not {version!r}")
        if isinstance(max_datagram, bool) or not isinstance(max_datagram, int) \
                or max_datagram < signals.IFP_OVERHEAD + 1:
            raise T38Error(f"max_datagram must be an int of at least {signals.IFP_OVERHEAD + 1} "
                           f"octets (the peer's T38FaxMaxDatagram), not {max_datagram!r}")
        if rate_management not in RATE_MANAGEMENT:
            raise T38Error(f"rate_management must be one of {', '.join(RATE_MANAGEMENT)} "
                           f"(T38FaxRateManagement), not {rate_management!r}")
        self.version, self.max_datagram, self.ecm = version, max_datagram, bool(ecm)
        self.rate_management = rate_management
        self._tcf = LocalTcf(rate_management == "localTCF")
        self.log = logger if logger is not None else logging.getLogger(LOGGER)
        self.now = 0                            # samples heard on the audio side
        self.packets_bad = 0                    # IFP packets ignored (not IFP, unexpected)
        self.packets_lost = 0
        self.result: GatewayResult | None = None
        self._t30 = T30Snoop(self.ecm, self.log, bool(nsx_suppression))    # what the relayed frames said
        self._epoch = 0
        self._dcn_at: int | None = None
        self._last_activity = 0
        # audio -> IFP
        self._out: list[IfpPacket] = []
        self._v21 = V21Rx()
        self._hdlc = HdlcRx()
        self._tones: ToneDetector | None = ToneDetector()
        self._tone_on: str | None = None
        self._v21_on = False
        self._hs_rx = None                      # (modem, rate, receiver)
        self._hs_on = False
        self._hs_local = False                  # this signal is a TCF judged here (localTCF)
        self._swallow = False                   # the frame being snooped is not sent on
        self._hs_hdlc: HdlcRx | None = None
        self._hs_bits = np.zeros(0, np.uint8)
        self._hs_signals = 0                    # signals since the last DCS
        # IFP -> audio
        self._audio = AudioOut(power_dbm0)
        self._frame = bytearray()
        self._frame_bad = False
        self._rx_indicator: T30Indicator | None = None

    # ---------------------------------------------------------------- public
    @property
    def finished(self) -> bool:
        """True once the call is over (``result`` says how)."""
        return self.result is not None

    @property
    def frames(self) -> list[tuple[str, Frame]]:
        """The T.30 control frames relayed, in order: ("audio->t38" or
        "t38->audio", the frame as sent on, after any edit)."""
        return self._t30.frames

    @property
    def nsx_suppressed(self) -> int:
        """NSF, NSC and NSS frames whose content was overwritten (``nsx_suppression``)."""
        return self._t30.suppressed

    @property
    def local_tcf(self) -> LocalTcf:
        """localTCF's counts: ``checked`` (the audio side's TCFs judged here),
        ``generated`` (TCFs played to it), ``verdict`` (the last one good?)."""
        return self._tcf

    @property
    def playing(self) -> bool:
        """A signal from the T.38 side is still being played to the audio side."""
        return self._audio.busy

    def end_now(self) -> GatewayResult:
        """End the call from outside (a SIP leg hung up before the gateway saw
        its end): ``OK`` when the last page was confirmed already,
        ``CALL_FAILED`` when frames passed, else ``NO_SIGNAL``.  The result."""
        if self.result is None:
            self._end("OK" if self._t30.document_done
                      else "CALL_FAILED" if self._t30.frames else "NO_SIGNAL")
        assert self.result is not None
        return self.result

    @property
    def dropped(self) -> int:
        """Signals, HDLC frames and non-ECM bit runs dropped because the T.38 side
        sent far more than the audio side could play (a flood)."""
        return self._audio.dropped

    @property
    def fill_bits(self) -> int:
        """T.4 fill (zeros before an EOL) the audio side got because IFP data was late."""
        return self._audio.fill_bits

    def rx_audio(self, samples) -> None:
        """Take what the fax machine sent (int16 at 8000/s): demodulated into
        IFP packets for ``tx_ifp``.

        Raises:
            T38Error: float, bool or complex samples, values outside int16,
                or not a 1-D array.
        """
        try:
            samples = as_int16(samples)
        except LocalProtocolError as exc:
            raise T38Error(str(exc).replace("rx takes", "rx_audio takes", 1)) from None
        self.now += samples.size
        if self.finished or not samples.size:
            return
        if not self._audio.busy:                # half duplex: deaf while we play a signal
            self._tones_in(samples)
            self._v21_in(samples)
            self._hs_in(samples)
        self._check_end()

    def tx_audio(self, n: int) -> np.ndarray:
        """The next ``n`` samples (int16) to play to the fax machine: the far
        end's signals remodulated, silence when there are none.

        Raises:
            T38Error: ``n`` is not a whole number of samples >= 0.
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise T38Error(f"tx_audio(n) takes a whole number of samples >= 0 (160 is 20 ms), "
                           f"not {n!r}")
        return self._audio.samples(int(n))

    def tx_ifp(self) -> list[IfpPacket]:
        """The IFP packets made from the audio since the last call, oldest first."""
        out, self._out = self._out, []
        for p in out:
            self.log.debug("tx IFP %s", p)
        return out

    def rx_ifp(self, packet: IfpPacket) -> None:
        """Take one IFP packet from the T.38 side (decoded), in sequence order.

        Raises:
            T38Error: ``packet`` is not an ``Indicator`` or ``Data``.
        """
        if not isinstance(packet, (Indicator, Data)):
            raise T38Error(f"rx_ifp takes an IFP packet (Indicator or Data, see "
                           f"faxengine.t38.ifp.decode), not {type(packet).__name__}")
        if self.finished or (self._dcn_at is not None
                             and self.now - self._dcn_at > QUIET_AFTER_DCN_S * SAMPLE_RATE):
            return                              # phase E: the line is being released
        signal = self._audio.current
        if signal is not None:
            signal.last_packet = self._audio.now
        if isinstance(packet, Indicator):
            self._indicator_in(packet.kind)
        else:
            self._data_in(packet)

    def rx_lost(self, n: int) -> None:
        """``n`` IFP packets the transport could not recover: the HDLC frame in
        progress is not sent on (its FCS could not be vouched for).

        Raises:
            T38Error: ``n`` is not an int >= 0.
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise T38Error(f"rx_lost takes a count of IFP packets (int >= 0), not {n!r}")
        self.packets_lost += int(n)
        if n:
            self._frame_bad = True

    # ------------------------------------------------------ audio -> IFP
    def _send(self, packet: IfpPacket) -> None:
        self._out.append(packet)

    def _tones_in(self, samples: np.ndarray) -> None:
        if self._tones is None:
            return
        for event in self._tones.process(samples):
            if event.kind not in ("CNG", "CED"):
                continue
            if event.end_sample is None and not (self._v21_on or self._hs_on):
                self._tone_on = event.kind
                self._send(Indicator(T30Indicator[event.kind]))
                self._activity()
            elif event.end_sample is not None and self._tone_on == event.kind:
                self._tone_on = None
                self._send(signals.NO_SIGNAL)

    def _v21_in(self, samples: np.ndarray) -> None:
        frames = self._hdlc.decode(self._v21.demodulate(samples))
        carrier = self._v21.carrier_present
        if not self._v21_on and carrier and self._hdlc.framing_ok and not self._hs_on:
            self._v21_on = True
            self._tones = None                  # phase A is over
            self._tone_on = None
            self._send(Indicator(T30Indicator.V21_PREAMBLE))
        for f in frames:
            if self._v21_on:
                self._frame_out(T30Data.V21, f.data, f.ok, "audio->t38")
        if self._v21_on and not carrier:
            self._v21_on = False
            self._hdlc.reset()
            self._send(Data(T30Data.V21, (Field(FieldType.HDLC_SIG_END),)))
            self._send(signals.NO_SIGNAL)

    def _frame_out(self, kind: T30Data, data: bytes, ok: bool, direction: str) -> None:
        """An HDLC frame heard on the audio side: snooped, edited, sent on."""
        self._activity()
        if ok:
            data = self._snoop(data, direction)
            if self._swallow:                   # (localTCF: a CFR the far end never asked for)
                self._swallow = False
                return
        octets = signals.hdlc_octets(data)
        per = max(1, self.max_datagram - signals.IFP_OVERHEAD)
        for at in range(0, len(octets), per):
            self._send(Data(kind, (Field(FieldType.HDLC_DATA, octets[at:at + per]),)))
        self._send(Data(kind, (Field(FieldType.HDLC_FCS_OK if ok else FieldType.HDLC_FCS_BAD),)))

    def _hs_in(self, samples: np.ndarray) -> None:
        if self._hs_rx is None:
            return
        modem, rate, rx = self._hs_rx
        bits = rx.demodulate(samples)
        if not self._hs_on:
            if not rx.trained or self._v21_on:
                return
            self._hs_on = True
            self._tones = None
            self._hs_local = self._tcf.enabled and self._t30.next_signal == "tcf"
            if self._hs_local:                  # T.38 §8.1: judged here, not sent on
                self._tcf.start_check(rate)
            else:
                kind, long, short = signals._HS[modem, rate]
                self._send(Indicator(short if self._hs_signals and modem == V17 else long))
            self._activity()
            self._hs_hdlc = HdlcRx() if self._t30.ecm_image else None
            self._hs_bits = np.zeros(0, np.uint8)
        kind = signals.data_kind(modem, rate)
        if bits.size:
            self._activity()
            if self._hs_local:
                self._tcf.add(bits)
            elif self._hs_hdlc is not None:
                for f in self._hs_hdlc.decode(bits):
                    self._frame_out(kind, f.data, f.ok, "audio->t38")
            else:
                self._hs_bits = np.concatenate([self._hs_bits, bits])
                self._non_ecm_out(kind, rate, last=False)
        # the signal's end: carrier lost, or the receiver saw the turn-off and is
        # no longer trained (noise on the line can hold a carrier detector on)
        if not rx.carrier_present or not rx.trained:
            self._hs_on = False
            self._hs_signals += 1
            if self._hs_local:
                good = self._tcf.finish_check()
                self.log.info("TCF from the audio side judged here (localTCF): %s",
                              "good" if good else "bad, the far end's CFR goes on as FTT")
            elif self._hs_hdlc is not None:
                self._send(Data(kind, (Field(FieldType.HDLC_SIG_END),)))
            else:
                self._non_ecm_out(kind, rate, last=True)
                self._send(Data(kind, (Field(FieldType.T4_NON_ECM_SIG_END),)))
            if not self._hs_local:
                self._send(signals.NO_SIGNAL)
            self._t30.signal_ended()
            if modem != V17:
                rx.restart()                    # V.17 keeps its equaliser for short training

    def _non_ecm_out(self, kind: T30Data, rate: int, last: bool) -> None:
        per = signals.chunk_octets(rate, self.max_datagram)
        bits = self._hs_bits
        whole = bits.size // (8 * per) * 8 * per
        if last:
            whole = bits.size
        if not whole:
            return
        octets = np.packbits(bits[:whole]).tobytes()
        self._hs_bits = bits[whole:]
        for at in range(0, len(octets), per):
            self._send(Data(kind, (Field(FieldType.T4_NON_ECM_DATA, octets[at:at + per]),)))

    # ------------------------------------------------------ IFP -> audio
    def _indicator_in(self, kind: T30Indicator) -> None:
        if kind is self._rx_indicator:
            return                              # a repeat (indicators go in copies)
        self._rx_indicator = kind
        self._frame.clear()
        self._frame_bad = False
        self._audio.end()                       # whatever played has ended
        self._play_local_tcf()                  # (after the T.38 side's DCS: localTCF)
        if kind in (T30Indicator.CED, T30Indicator.CNG):
            self._audio.start(kind.name.lower())
        elif kind is T30Indicator.V21_PREAMBLE:
            self._audio.start("v21")
            self._tones = None
        elif kind in _TRAINING:
            self._start_hs(*_TRAINING[kind])
        elif kind is not T30Indicator.NO_SIGNAL:
            self.packets_bad += 1               # V.8/V.34/V.33: not carried here

    def _start_hs(self, modem: str, rate: int, short: bool) -> None:
        signal = self._audio.start("hs", modem, rate, short, hdlc=self._t30.ecm_image)
        # localTCF: an image sent before the fax machine's CFR waits for it
        signal.held = self._tcf.enabled and self._t30.next_signal == "tcf"
        self._tones = None

    def _play_local_tcf(self) -> None:
        """localTCF: after the T.38 side's DCS, the TCF the audio side expects."""
        tcf = self._tcf.take_tcf()
        if tcf is not None:
            modem, rate, zeros = tcf
            self._audio.bits(self._audio.start("hs", modem, rate), zeros)
            self._audio.end()
            self.log.info("TCF played to the audio side (localTCF): %s %d bit/s", modem, rate)

    def _data_in(self, packet: Data) -> None:
        kind = packet.kind
        signal = self._audio.current
        if kind is T30Data.V21:
            if signal is None or signal.kind != "v21":
                self._rx_indicator = T30Indicator.V21_PREAMBLE  # (its indicator was lost)
                signal = self._audio.start("v21")
        else:
            mode = signals.MODE_OF_DATA.get(kind)
            if mode is None:
                self.packets_bad += 1           # V.8/V.34/V.33 data: not carried here
                return
            if signal is None or (signal.modem, signal.rate) != mode:
                self._rx_indicator = None
                self._start_hs(*mode, short=False)
                signal = self._audio.current
        for field in packet.fields:
            self._field_in(signal, kind, field)

    def _field_in(self, signal, kind: T30Data, field: Field) -> None:
        ft = field.kind
        if ft is FieldType.T4_NON_ECM_DATA or ft is FieldType.T4_NON_ECM_SIG_END:
            if field.data and not signal.hdlc:
                self._audio.bits(signal, np.unpackbits(np.frombuffer(field.data, np.uint8)))
            if ft is FieldType.T4_NON_ECM_SIG_END:
                self._audio.end()
            return
        if ft is FieldType.HDLC_DATA:
            signal.use_hdlc()
            signals.add_octets(self._frame, field.data)
            return
        if ft in _FCS:
            data = signals.hdlc_octets(bytes(self._frame))
            ok = ft in _FCS_OK and not self._frame_bad and 0 < len(data) <= signals.MAX_FRAME
            self._frame.clear()
            self._frame_bad = False
            if ok:
                self._audio.frame(signal, self._snoop(data, "t38->audio"))
        elif ft is not FieldType.HDLC_SIG_END:
            self.packets_bad += 1               # CM/JM/CI/V.34 rate: not carried here
            return
        if ft in _HDLC_ENDS:
            self._audio.end()
            self._play_local_tcf()

    # ------------------------------------------------------------ snooping
    def _snoop(self, data: bytes, direction: str) -> bytes:
        """A good frame passing: ``T30Snoop`` learns from it and edits it; a new
        mode (DCS, CTC) gets a new high-speed receiver, DCN starts phase E."""
        if direction == "t38->audio" and self._tcf.verdict is False:
            data = self._tcf.answer(Frame.parse(data)).to_bytes()  # CFR -> FTT: TCF was bad
        data = self._t30.frame(data, direction)
        last = self._t30.frames[-1][1].fcf if self._t30.frames else None
        if self._tcf.enabled and direction == "audio->t38" and last is not None:
            if last is Fcf.CFR:
                # the held image may play now; a T.38 side that sent it without
                # waiting for CFR (spandsp's no-TCF mode) never gets the CFR: there
                # it would be an invalid response to its page
                self._swallow = self._audio.release() > 0
            elif last in (Fcf.FTT, Fcf.DCS):
                self._audio.drop_held()
        if self._t30.epoch != self._epoch:
            if last is Fcf.DCS:
                self._tcf.new_dcs(direction, self._t30.mode)
            self._epoch, self._hs_signals, self._hs_rx = self._t30.epoch, 0, None
            if self._t30.mode is not None:
                modem, rate = self._t30.mode
                self._hs_rx = (modem, rate, _RX[modem](rate=rate))
        if self._t30.dcn and self._dcn_at is None:
            self._dcn_at = self.now
        self._activity()
        return data

    # ------------------------------------------------------------- the end
    def _activity(self) -> None:
        self._last_activity = self.now

    def _check_end(self) -> None:
        if self.finished:
            return
        quiet = not (self._v21_on or self._hs_on or self._audio.busy)
        since_dcn = self.now - self._dcn_at if self._dcn_at is not None else -1
        if since_dcn > DCN_HANGUP_S * SAMPLE_RATE or (
                quiet and since_dcn > QUIET_AFTER_DCN_S * SAMPLE_RATE):
            self._end("OK" if self._t30.document_done else "CALL_FAILED")
        elif self.now - self._last_activity > IDLE_S * SAMPLE_RATE:
            self._end("NO_SIGNAL")

    def _end(self, code: str) -> None:
        dcs = self._t30.dcs
        self.result = GatewayResult(code == "OK", code, RESULT_CODES[code], self._t30.pages,
                                    dcs.rate if dcs is not None else 0,
                                    bool(dcs is not None and dcs.ecm))
        self.log.info("gateway call ended: %s (%s)", code, self.result.message)
