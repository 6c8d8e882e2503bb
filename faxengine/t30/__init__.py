"""faxengine.t30: the T.30 fax terminal's protocol, as bytes and bits.

* ``frames``: T.30 HDLC frames (address, control, FCF with its X bit, FIF),
  the one bit-order convention of this layer, identities (CSI/TSI/CIG).
* ``facilities``: DIS/DTC (``Capabilities``) and DCS (``Dcs``) bit by bit,
  ``choose_dcs`` and ``fallback`` after FTT.
* ``ecm``: T.30 Annex A blocks, FCD/RCP frames, PPS, PPR maps, block
  reassembly.
* ``states``: the phase B-E transition table as data, timers per state.
* ``quality``: the receiver's TCF and page judgements (CFR/FTT, MCF/RTP/RTN).
* ``trace``: every frame in words on logger ``faxengine.t30``.
* ``errors``: ``T30Error`` and its local/remote subclasses.
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
from faxengine.t30.facilities import Capabilities, Dcs, Preferences, choose_dcs, fallback
from faxengine.t30.frames import Fcf, Frame

__all__ = [
    "Capabilities", "Dcs", "EcmError", "FacilitiesError", "Fcf", "Frame", "FrameError",
    "IncompatibleError", "LocalProtocolError", "Preferences", "RemoteProtocolError",
    "T30Error", "choose_dcs", "fallback",
]
