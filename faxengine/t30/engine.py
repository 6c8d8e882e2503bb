"""The table engine of ``FaxTerminal``: events through the transition table, timers, the end.

``TableEngine`` is one part of ``faxengine.t30.terminal.FaxTerminal`` (a
mixin, as ``sender.SenderSide`` and ``receiver.ReceiverSide`` are).  It
looks each event up in ``states.TABLE``, performs the actions it names --
``ACTION_HANDLERS`` maps every action of ``states.ACTIONS`` to the
terminal's method and its arguments, as data checked complete at import --
enters the new state and starts the timers ``states.TIMERS`` lists for it
(T.30 §5.4.3.2), ends the call with its ``Result``, and queues the
terminal's events (``faxengine.t30.events``) for ``events()`` and its
listeners.

Timers: T1 runs from the start of the call, and again in the phase B that
follows EOM; T2, T4 and T5 start when the state is entered, or when the
transmission that entered it has ended.  T2 and T4 are held while a signal
is coming in (V.21 flags or a trained high-speed carrier): they time
silence, not long pages.
"""
from __future__ import annotations

from collections.abc import Callable

from faxengine.errors import FaxError
from faxengine.levels import SAMPLE_RATE
from faxengine.t30.ecm import EcmBlockReceiver
from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.events import CallEnded, Event
from faxengine.t30.frames import Fcf
from faxengine.t30.receiver import RESPONSE_FRAMES
from faxengine.t30.result import CODES, Result
from faxengine.t30.sender import POST_FRAMES
from faxengine.t30.states import ACTIONS, COMMAND_TRIES, END, TIMERS, timer_samples, transition

# action of the table -> (the terminal's method, its arguments)
ACTION_HANDLERS: dict[str, tuple[str, tuple]] = {
    "repeat command": ("_repeat_command", ()),
    "repeat response": ("_repeat_response", ()),
    "send DIS": ("_send_capabilities", (Fcf.DIS,)),
    "send DTC": ("_send_capabilities", (Fcf.DTC,)),
    "choose DCS": ("_choose_dcs", ()),
    "fall back": ("_choose_dcs", ()),
    "send DCS": ("_send_dcs", ()),
    "send TCF": ("_send_tcf", ()),
    "send page": ("_send_page", ()),
    "send block": ("_send_block", (None,)),
    "resend frames": ("_resend_frames", ()),
    **{f"send {post}": ("_send_post", (post,)) for post in POST_FRAMES},
    **{f"send PPS-{post}": ("_send_pps", (post,)) for post in ("NULL", *POST_FRAMES)},
    "send CTC": ("_send_ctc", ()),
    "send EOR": ("_send_eor", ()),
    "send RR": ("_send_rr", ()),
    **{f"send {what}": ("_send_response", (what,)) for what in RESPONSE_FRAMES},
    "send PPR": ("_send_ppr", ()),
    "save page": ("_save_page", ()),
    "discard page": ("_discard_page", ()),
    "send DCN": ("_send_dcn", ()),
    "hang up": ("_hang_up", ()),
}
# the timers held while a signal comes in, and their durations in samples
_HELD = {name: timer_samples(name) for name in ("T2", "T4")}

if set(ACTION_HANDLERS) != set(ACTIONS):            # the table and the engine agree
    raise ImportError(
        f"T.30 actions without a handler: {sorted(set(ACTIONS) - set(ACTION_HANDLERS))}; "
        f"handlers without an action: {sorted(set(ACTION_HANDLERS) - set(ACTIONS))}")


class TableEngine:
    """The transition-table engine of the terminal (see the module's docstring)."""

    def _init_engine(self, start: str) -> None:
        """The table's state, timers and repeats, the result, the events."""
        self._state = start
        self._t1 = timer_samples("T1")      # from the start of the call
        self._t1_running = True
        self._t1_after_eom = False          # T1 runs again in phase B after EOM
        self._deadlines: dict[str, int | None] = {}
        self._cmd: list = []            # how to send the last command again
        self._resp: list = []           # ... and the last response
        self._fresh_cmd = self._fresh_resp = True
        self._tries = 0
        self._finished = False
        self._ending: str | None = None
        self._detail = ""
        self.result: Result | None = None
        self._page_incomplete = False       # the page has a block given up on (EOR)
        self._incomplete: list[int] = []    # pages that went (or came) with EOR
        # what happened, for events(); listeners see each event as it comes
        self._events: list[Event] = []
        self._keep_events = True            # False: an on_event callable takes them
        self._listeners: list[Callable[[Event], None]] = []

    def _event(self, name: str) -> bool:
        """Look ``name`` up in the table and apply it; False when the state ignores it."""
        if self._state == END:
            return False
        t = transition(self.side, self._state, name)
        if t is None:
            self.log.debug("%s: %s ignored", self._state, name)
            return False
        self.log.debug("%s --%s--> %s %s", self._state, name, t.state, list(t.actions))
        if t.state == END:
            self._end(t.result, *t.actions, event=name)
            return True
        self._state = t.state
        self._fresh_cmd = self._fresh_resp = True
        for action in t.actions:
            self._do(action)
        self._enter(t.state)
        return True

    def _enter(self, state: str) -> None:
        timers = TIMERS[self.side][state]
        t1 = self._t1                   # T1 runs from the start of the call
        t5 = self._deadlines.get("T5")  # T5 from the first RNR
        self._deadlines = {}
        deaf = bool(self._txq)
        if "T1" in timers and not self._t1_running:    # phase B again, after EOM
            t1 = self._t1 = self._now + timer_samples("T1")
            self._t1_after_eom = True
        self._t1_running = "T1" in timers
        for name in timers:
            if name == "T1":
                self._deadlines["T1"] = t1
            elif name == "T5" and t5 is not None:
                self._deadlines["T5"] = t5
            else:
                self._deadlines[name] = None if deaf else self._now + timer_samples(name)
        if self._state == "C:RECEIVE_PAGE" and self._dcs is not None and self._dcs.ecm:
            if self._ecm_rx is None or self._ecm_rx.frame_size != self._dcs.frame_size:
                self._ecm_rx = EcmBlockReceiver(self._dcs.frame_size)
            if self._hs is not None:
                self._hs.collect_frames()

    def _timers(self, busy: bool | None = None) -> None:
        """Once per block heard: hold T2/T4 while a signal comes, fire the first
        expired.  ``busy``: whether a signal comes, when the caller knows (else
        the link says: ``_signal_coming``)."""
        if busy is None:
            busy = self._signal_coming()    # (terminal._signal_coming)
        deadlines, now = self._deadlines, self._now
        for name, deadline in deadlines.items():     # (values change, never the keys)
            if deadline is None:
                continue
            if busy and name in _HELD:
                deadlines[name] = now + _HELD[name]
                continue
            if now >= deadline:
                del deadlines[name]         # (the loop ends here)
                self._expired(name)
                return

    def _expired(self, name: str) -> None:
        self.log.info("timer %s expired in %s", name, self._state)
        if name == "T1" and self.calling and not self._heard_fax and self._heard_energy:
            self._end("NOT_FAX", "hang up")
            return
        # T1 again after EOM: the other terminal stopped mid-document, it did answer
        if name == "T1" and self._t1_after_eom and self._event("T1_AFTER_EOM"):
            return
        if name == "T4" and self._tries >= COMMAND_TRIES and self._event("T4_EXHAUSTED"):
            return
        if not self._event(name):       # (a DIS goes on being repeated until T1)
            self._enter(self._state)

    def _end(self, code: str, *actions: str, event: str = "") -> None:
        self._state = END
        self._ending = code
        if event == "INCOMPATIBLE" and not self._detail:
            self._detail = "no common mode"
        for action in actions:
            if action == "send DCN":
                self._txq.clear()
                self._txq_pos = 0
                self._send_frames(self._x_frame(Fcf.DCN))
            elif action != "hang up":
                self._do(action)
        if not self._txq:
            self._finish()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._cng = None
        # nothing is repeated after the end: the closures (which hold the
        # terminal) go, so a call ended is freed as soon as its last user
        # lets it go, received pages and all (no wait for the cycle collector)
        self._cmd, self._resp = [], []
        self._write_waiting()               # pages_done counts pages written
        code = self._ending or "LOCAL_ABORT"
        if self._incomplete:
            pages = ", ".join(map(str, self._incomplete))
            self._detail = self._detail or (
                f"page(s) {pages} incomplete: ECM gave up correcting them at the lowest rate "
                "(EOR)")
            if code == "OK":
                code = "PAGE_REJECTED"
        words = CODES[code]
        if self._detail and code != "OK":
            words = f"{words}: {self._detail}"
        dcs = self._dcs
        self.result = Result(
            code=code, message=words, pages=self.pages_done,
            bit_rate=dcs.rate if dcs else 0, ecm=bool(dcs and dcs.ecm),
            coding=dcs.coding if dcs else None, resolution=dcs.resolution if dcs else None,
            remote_ident=self.remote_ident, duration_s=self._tx_time / SAMPLE_RATE)
        self.log.info("call ended: %s (%s), %d page%s, %.1f s", code, words, self.pages_done,
                      "" if self.pages_done == 1 else "s",
                      self.result.duration_s)
        try:
            self._emit(CallEnded(self._clock_s(), self.result))
        except (FaxError, OSError) as exc:      # the file cannot be closed: say so, once
            self.log.error("closing the received file failed: %s", exc)

    # ----------------------------------------------------------------- events
    def _clock_s(self) -> float:
        """Line time now, in seconds: samples heard or sent, whichever is further."""
        return max(self._now, self._tx_time) / SAMPLE_RATE

    def _emit(self, event: Event) -> None:
        """Queue ``event`` for ``events()`` and hand it to the listeners (the
        file layer); a listener's failure (a disk full) propagates to the
        caller, which ends the call as a local failure."""
        if self._keep_events:
            self._events.append(event)
        for listener in self._listeners:
            listener(event)

    # ---------------------------------------------------------------- actions
    def _command(self, fn) -> None:
        if self._fresh_cmd:
            self._cmd, self._fresh_cmd = [], False
            self._tries = 1
        self._cmd.append(fn)
        fn()

    def _response(self, fn) -> None:
        if self._fresh_resp:
            self._resp, self._fresh_resp = [], False
        self._resp.append(fn)
        fn()

    def _do(self, action: str) -> None:
        """Perform one action of the table: the method ``ACTION_HANDLERS`` names."""
        try:
            method, args = ACTION_HANDLERS[action]
        except KeyError:
            raise LocalProtocolError(
                f"the terminal does not implement the action {action!r}") from None
        getattr(self, method)(*args)

    def _repeat_command(self) -> None:
        self._tries += 1
        for fn in self._cmd:
            fn()

    def _repeat_response(self) -> None:
        for fn in self._resp:
            fn()

    def _send_dcn(self) -> None:
        self._send_frames(self._x_frame(Fcf.DCN))

    def _hang_up(self) -> None:
        """Nothing to send: the engine ends the call."""
