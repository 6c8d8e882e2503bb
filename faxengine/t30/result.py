"""How a fax call ended: ``Result`` and its stable result codes.

A ``FaxTerminal`` sets ``result`` when the call ends (phase E).  ``code`` is
one of ``CODES``; tests, the gateway and users depend on these names, so
they never change.  ``message`` says the same in plain words, with what the
user can do about it.
"""
from __future__ import annotations

from dataclasses import dataclass

# code -> plain words (the terminal may add a detail after them)
CODES: dict[str, str] = {
    "OK": "the document was transferred",
    "NO_ANSWER": "no fax terminal answered within 35 s (T.30 timer T1); check the number",
    "NOT_FAX": "the other end answered but is not a fax machine (no fax tones or frames)",
    "TRAINING_FAILED": "the line was too poor to train the modem even at 2400 bit/s; "
                       "try again later or on another line",
    "INCOMPATIBLE": "the two fax terminals share no mode to send this document in",
    "REMOTE_DISCONNECT": "the other terminal hung up (DCN) before the document was complete",
    "PAGE_REJECTED": "a page did not get through cleanly: the receiver rejected it (RTN) after "
                     "every retry, or error correction gave up on it (EOR); the line is too noisy",
    "TIMEOUT_T1": "the other terminal stopped in the middle of the document: after EOM "
                  "nothing more came within 35 s (T.30 timer T1); the pages before it got through",
    "TIMEOUT_T2": "the sender fell silent: no command within 6 s (T.30 timer T2)",
    "TIMEOUT_T4": "the other terminal stopped answering: no response after 3 tries "
                  "(T.30 timer T4)",
    "TIMEOUT_T5": "the receiver stayed busy (RNR) for 60 s (T.30 timer T5)",
    "LOCAL_ABORT": "the call was cancelled here",
}


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of a call.

    Attributes:
        code: one of ``CODES``.
        message: the code in plain words, with any detail.
        pages: pages sent and confirmed (sender) or received and written
            (receiver).
        bit_rate: the last image rate negotiated, 0 if none.
        ecm: error correction mode was used.
        coding: "mh", "mr" or "mmr" of the last DCS, None if none.
        resolution: resolution name of the last DCS, None if none.
        remote_ident: the remote CSI/TSI/CIG, "" if none was sent.
        duration_s: line time from the start of the call to its end
            (samples / 8000).
    """

    code: str
    message: str
    pages: int = 0
    bit_rate: int = 0
    ecm: bool = False
    coding: str | None = None
    resolution: str | None = None
    remote_ident: str = ""
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown result code {self.code!r}")

    @property
    def ok(self) -> bool:
        """True when the whole document was transferred."""
        return self.code == "OK"
