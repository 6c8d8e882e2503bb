"""A destination's job: its life cycle as data, and the retry policy (time passed in).

One job per destination of a request (mail-gateway.md §2).  Its status is one
of the words of the send history (§4, 送信状況): it starts 送信待ち, a line
worker claims it (送信中), and the call ends it in 送信完了 or 送信エラー --
or puts it back to 送信待ち for a retry.  A job whose request was refused
for its content never dials: it goes from 送信待ち straight to the error
status of the refusal (超過枚数エラー and the others of ``REFUSALS``).

As ``faxengine.t30.states`` does for T.30, every step lives in one table,
``TABLE[status][event]``, the diagram in docs/gateway.md is generated from
it (``python -m faxengine.gateway.jobs --markdown``) and a test keeps the two
equal.  ``Job`` is frozen: each step returns a new job, so a store can write
it as one row.

Retries (§2): the account retries 0 to 3 times (default 2) at its interval,
for busy, no answer and failed transfers -- ``CALL_OUTCOMES`` says for each
result code of the T.30 terminal (``faxengine.t30.result.CODES``) and of the
line (``LINE_CODES``) whether the call succeeded, is retried or failed for
good.  INCOMPATIBLE is not retried: the far machine cannot take this
document however often it is called.  LOCAL_ABORT (the gateway stopping
during the call, gateway-interfaces.md "Start") puts the job back without
counting the attempt.  The code is kept beside the status (``result_code``).
Nothing here reads a clock: ``now`` is an argument.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from faxengine.gateway.errors import GatewayConfigError, JobStateError

__all__ = ["WAITING", "SENDING", "DONE", "FAILED", "TOO_MANY_PAGES", "BAD_NUMBER",
           "BAD_ATTACHMENT", "NOTHING_TO_SEND", "NOT_IN_TO", "TOO_MANY_RECIPIENTS",
           "MALFORMED", "RENDER_FAILED", "STATUSES", "REFUSALS", "LINE_CODES",
           "CALL_OUTCOMES", "ACTIONS", "TABLE", "Transition", "Job", "RetryPolicy",
           "detail_no", "diagram", "markdown"]

# 送信状況, the words of the spec (§4) ...
WAITING = "送信待ち"
SENDING = "送信中"
DONE = "送信完了"
FAILED = "送信エラー"
TOO_MANY_PAGES = "超過枚数エラー"
# ... and "the other error kinds", named here in the same manner
BAD_NUMBER = "FAX番号エラー"              # not a number that can be dialled (§1 FAX numbers)
BAD_ATTACHMENT = "添付ファイルエラー"      # a file of a type not accepted (§1 Attachments)
NOTHING_TO_SEND = "送信データなしエラー"   # Subject "===" and no attachment (§1)
NOT_IN_TO = "宛先指定エラー"              # a fax address in Cc or as a Bcc (§1 Cc, Bcc)
TOO_MANY_RECIPIENTS = "宛先数超過エラー"   # more than 50 fax addresses in To (§1 To)
MALFORMED = "メール形式エラー"            # not a mail that can be read
RENDER_FAILED = "変換エラー"              # a document that cannot be made into pages

# error status -> the event that sets it on a waiting job
REFUSALS: dict[str, str] = {
    TOO_MANY_PAGES: "TOO_MANY_PAGES", BAD_NUMBER: "BAD_NUMBER",
    BAD_ATTACHMENT: "BAD_ATTACHMENT", NOTHING_TO_SEND: "NOTHING_TO_SEND",
    NOT_IN_TO: "NOT_IN_TO", TOO_MANY_RECIPIENTS: "TOO_MANY_RECIPIENTS",
    MALFORMED: "MALFORMED", RENDER_FAILED: "RENDER_FAILED",
}
STATUSES = (WAITING, SENDING, DONE, FAILED, *REFUSALS)

# mermaid state ids (the diagram's nodes cannot be Japanese words)
_IDS = {WAITING: "WAITING", SENDING: "SENDING", DONE: "DONE", FAILED: "FAILED",
        **{status: event for status, event in REFUSALS.items()}}

# what the line reports before T.30 starts (the line drivers come later)
LINE_CODES: dict[str, str] = {
    "BUSY": "the number was busy",
    "LINE_FAILED": "the call could not be placed (no line, or the network refused it)",
}

# result code -> "done" | "retry" | "fail" (for good) | "requeue" (not an attempt)
CALL_OUTCOMES: dict[str, str] = {
    "OK": "done",
    "BUSY": "retry", "NO_ANSWER": "retry", "NOT_FAX": "retry", "LINE_FAILED": "retry",
    "TRAINING_FAILED": "retry", "REMOTE_DISCONNECT": "retry", "PAGE_REJECTED": "retry",
    "TIMEOUT_T1": "retry", "TIMEOUT_T2": "retry", "TIMEOUT_T4": "retry", "TIMEOUT_T5": "retry",
    "INCOMPATIBLE": "fail",
    "LOCAL_ABORT": "requeue",
}

ACTIONS: dict[str, str] = {
    "dial": "call the number and send the document",
    "send result mail": "send the destination's result mail (unless the account turned them off)",
    "schedule retry": "wait the account's retry interval, then the job is due again",
    "requeue": "the job is due again at once; the attempt does not count",
}


@dataclass(frozen=True, slots=True)
class Transition:
    """Where an event leads: the new status and the actions, in order."""

    status: str
    actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown job status {self.status!r}")
        unknown = [a for a in self.actions if a not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown job action(s) {unknown}")


TABLE: dict[str, dict[str, Transition]] = {
    WAITING: {
        "CLAIM": Transition(SENDING, ("dial",)),
        **{event: Transition(status, ("send result mail",)) for status, event in REFUSALS.items()},
    },
    SENDING: {
        "SENT": Transition(DONE, ("send result mail",)),
        "RETRY": Transition(WAITING, ("schedule retry",)),
        "FAILED": Transition(FAILED, ("send result mail",)),
        "STOPPED": Transition(WAITING, ("requeue",)),
    },
    **{status: {} for status in (DONE, FAILED, *REFUSALS)},    # final
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """An account's retries (0 to 3, default 2) and the time between attempts."""

    retries: int = 2
    interval: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) \
                or not 0 <= self.retries <= 3:
            raise GatewayConfigError(
                f"retries is {self.retries!r}: an account retries 0, 1, 2 or 3 times")
        if not isinstance(self.interval, timedelta) or self.interval < timedelta(0):
            raise GatewayConfigError(
                f"retry_interval is {self.interval!r}: give a duration of 0 s or more")

    def event(self, code: str, attempt: int) -> str:
        """The job event after attempt number ``attempt`` (1 = the first call) ended with ``code``."""
        try:
            outcome = CALL_OUTCOMES[code]
        except KeyError:
            raise JobStateError(f"unknown call result code {code!r}: one of "
                                f"{', '.join(CALL_OUTCOMES)}") from None
        if outcome == "retry":
            return "RETRY" if attempt <= self.retries else "FAILED"
        return {"done": "SENT", "fail": "FAILED", "requeue": "STOPPED"}[outcome]


@dataclass(frozen=True, slots=True)
class Job:
    """One destination of a request, as the history and the line workers see it.

    Attributes:
        detail_no: the 13-digit 明細番号 (``detail_no``).
        number: the fax number, digits only.
        status: one of ``STATUSES``.
        attempts: calls made so far (an aborted call on stopping does not count).
        result_code: the last call's result code (``CALL_OUTCOMES``), None before one.
        due: when the job may be claimed next (None: at once).
        sent_at: when the last attempt was made, or the job was refused (送信日時).
    """

    detail_no: str
    number: str
    status: str = WAITING
    attempts: int = 0
    result_code: str | None = None
    due: datetime | None = None
    sent_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown job status {self.status!r}")

    @property
    def final(self) -> bool:
        """The job has ended: no event moves it any more."""
        return not TABLE[self.status]

    def ready(self, now: datetime) -> bool:
        """The job is waiting and due at ``now``."""
        return self.status == WAITING and (self.due is None or self.due <= now)

    def step(self, event: str) -> tuple[Job, Transition]:
        """The job after ``event`` and the transition taken (its actions to perform)."""
        t = TABLE[self.status].get(event)
        if t is None:
            allowed = ", ".join(TABLE[self.status]) or "none, it has ended"
            raise JobStateError(f"job {self.detail_no} is {self.status}: {event} is not a step "
                                f"from there (allowed: {allowed})")
        return replace(self, status=t.status), t

    def claim(self, now: datetime) -> tuple[Job, Transition]:
        """A line worker takes the job to dial it."""
        if self.status == WAITING and not self.ready(now):
            raise JobStateError(f"job {self.detail_no} is not due before {self.due.isoformat()}")
        return self.step("CLAIM")

    def finish(self, code: str, now: datetime, policy: RetryPolicy) -> tuple[Job, Transition]:
        """The call ended at ``now`` with result ``code``; ``policy`` decides a retry."""
        if self.status != SENDING:
            raise JobStateError(f"job {self.detail_no} is {self.status}: only a job being sent "
                                f"({SENDING}) has a call that can end")
        event = policy.event(code, self.attempts + 1)
        job, t = self.step(event)
        if event == "STOPPED":
            return replace(job, due=None), t
        due = now + policy.interval if event == "RETRY" else None
        return replace(job, attempts=self.attempts + 1, result_code=code, due=due,
                       sent_at=now), t

    def refuse(self, status: str, now: datetime) -> tuple[Job, Transition]:
        """The request was refused for its content (``status`` of ``REFUSALS``): never dialled."""
        if status not in REFUSALS:
            raise JobStateError(f"{status!r} is not a refusal: one of {', '.join(REFUSALS)}")
        job, t = self.step(REFUSALS[status])
        return replace(job, sent_at=now, due=None), t


def detail_no(request_seq: int, index: int) -> str:
    """The 明細番号 of destination ``index`` (1-50) of request ``request_seq`` (1, 2, ...):
    ``request_seq * 1000 + index`` in 13 digits, as the spec's ``0000000007001``."""
    if not 1 <= index <= 999:
        raise ValueError(f"destination index {index} is outside 1..999")
    if not 1 <= request_seq < 10**10:
        raise ValueError(f"request sequence {request_seq} is outside 1..9999999999")
    return f"{request_seq * 1000 + index:013d}"


def diagram() -> str:
    """The job life cycle as a Mermaid ``stateDiagram-v2``, drawn from ``TABLE``."""
    lines = ["stateDiagram-v2"]
    lines += [f'    state "{status}" as {_IDS[status]}' for status in STATUSES]
    lines.append(f"    [*] --> {_IDS[WAITING]}")
    for status, events in TABLE.items():
        for event, t in events.items():
            label = event + (f" / {', '.join(t.actions)}" if t.actions else "")
            lines.append(f"    {_IDS[status]} --> {_IDS[t.status]}: {label}")
        if not events:
            lines.append(f"    {_IDS[status]} --> [*]")
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """The generated section of docs/gateway.md: the diagram and the outcome of each code."""
    rows = "\n".join(f"| `{code}` | {outcome} |" for code, outcome in CALL_OUTCOMES.items())
    return (f"```mermaid\n{diagram()}```\n\n"
            f"| result code | outcome |\n|---|---|\n{rows}\n")


if __name__ == "__main__":     # python -m faxengine.gateway.jobs [--markdown]
    import sys

    print(markdown() if sys.argv[1:] == ["--markdown"] else diagram(), end="")
