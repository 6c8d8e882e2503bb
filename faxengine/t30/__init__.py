"""faxengine.t30: the T.30 fax terminal's protocol, as bytes and bits.

* ``frames``: T.30 HDLC frames (address, control, FCF with its X bit, FIF),
  the one bit-order convention of this layer, identities (CSI/TSI/CIG).
* ``facilities``: DIS/DTC (``Capabilities``) and DCS (``Dcs``) bit by bit,
  ``choose_dcs`` and ``fallback`` after FTT.
* ``ecm``: T.30 Annex A blocks, FCD/RCP frames, PPS, PPR maps, block
  reassembly.
* ``states``: the phase B-E transition table as data, timers per state.
* ``quality``: the receiver's TCF and page judgements (CFR/FTT, MCF/RTP/RTN).
* ``trace``: every frame in words on a terminal's logger (``faxengine.t30``).
* ``errors``: ``T30Error`` and its local/remote subclasses.
* ``terminal``: ``FaxTerminal``, built from ``engine`` (the table, timers),
  ``sender`` and ``receiver`` (each side), ``options`` (checked up front),
  ``events`` (what a call did, typed) and ``files`` (TIFF in and out, outside
  the state machine).
"""
from faxengine.t30.errors import (
    EcmError,
    FacilitiesError,
    FrameError,
    IncompatibleError,
    LocalProtocolError,
    RemoteProtocolError,
    T30Error,
)
from faxengine.t30.events import (
    CallEnded,
    EcmStats,
    Event,
    FrameReceived,
    FrameSent,
    PageReceived,
    PageSent,
    TrainingResult,
)
from faxengine.t30.facilities import Capabilities, Dcs, Preferences, choose_dcs, fallback
from faxengine.t30.frames import Fcf, Frame

__all__ = [
    "CallEnded", "Capabilities", "Dcs", "EcmError", "EcmStats", "Event", "FacilitiesError",
    "Fcf", "Frame", "FrameError", "FrameReceived", "FrameSent", "IncompatibleError",
    "LocalProtocolError", "PageReceived", "PageSent", "Preferences", "RemoteProtocolError",
    "T30Error", "TrainingResult", "choose_dcs", "fallback",
]
