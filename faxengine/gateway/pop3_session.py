"""The POP3 protocol (RFC 1939) as a sans-I/O state machine: octets in, events out.

``Pop3Session`` takes what the client sent and gives back events, never
touching a socket, a clock or a thread (as h11 does for HTTP); the asyncio
adapter is ``faxengine.gateway.pop3.Pop3Server``.  Events:

* ``Send(data)``: octets for the client.
* ``Authenticate(user, password)``: check them, then call ``accepted(maildrop)``
  or ``refused(code)``; lines that came meanwhile wait in the session.
* ``StartTls()``: the ``+OK`` of STLS is out; upgrade the connection, then call
  ``tls_started()`` (what the client pipelined in clear text is dropped,
  RFC 2595 §4: it must not be read as if it came under TLS).
* ``Commit(deleted)``: the UPDATE state (RFC 1939 §6): remove these messages,
  then call ``committed(failed)``.  Nothing is removed before QUIT.
* ``Close()``: after the octets before it, close the connection.

The commands each state takes are one table, ``COMMANDS``; the states are
AUTHORIZATION, TRANSACTION and UPDATE.  Offered (CAPA, RFC 2449): USER, TOP,
UIDL, RESP-CODES, AUTH-RESP-CODE, PIPELINING, STLS when the adapter can;
APOP is not (it needs the password in clear on the server, ours keeps an
Argon2 hash).  Response codes: ``[AUTH]`` for a wrong login (RFC 3206),
``[IN-USE]`` when another session holds the maildrop (RFC 2449 §8.1.2),
``[SYS/TEMP]`` when the check itself failed.  Bounds: a command line of
``MAX_LINE`` octets (longer: ``-ERR``, the rest of the line dropped), replies
in batches of ``OUTPUT_BATCH`` octets, ``max_failures`` failed logins per
connection, then the connection closes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from faxengine.gateway.maildir import MaildirError, Message, MessageGone

__all__ = ["AUTHORIZATION", "TRANSACTION", "UPDATE", "COMMANDS", "MAX_LINE", "OUTPUT_BATCH",
           "Maildrop", "Send", "Authenticate", "StartTls", "Commit", "Close", "Event",
           "Pop3Session"]

AUTHORIZATION, TRANSACTION, UPDATE = "AUTHORIZATION", "TRANSACTION", "UPDATE"
MAX_LINE = 1024             # RFC 2449 §4: commands up to 255 octets; this leaves room
OUTPUT_BATCH = 1 << 16      # octets of replies per batch of events


@dataclass(frozen=True, slots=True)
class Command:
    """A command a state takes: how many arguments (RFC 1939 §3-7), handled by
    ``Pop3Session._<name>``."""

    name: str
    min_args: int = 0
    max_args: int = 0


def _commands(*commands: Command) -> dict[str, Command]:
    return {c.name: c for c in commands}


COMMANDS: dict[str, dict[str, Command]] = {
    AUTHORIZATION: _commands(Command("USER", 1, 1), Command("PASS", 1, 1), Command("QUIT"),
                             Command("CAPA"), Command("STLS"), Command("APOP", 0, 2)),
    TRANSACTION: _commands(Command("STAT"), Command("LIST", 0, 1), Command("UIDL", 0, 1),
                           Command("RETR", 1, 1), Command("TOP", 2, 2), Command("DELE", 1, 1),
                           Command("NOOP"), Command("RSET"), Command("QUIT"), Command("CAPA")),
    UPDATE: {},
}


# ---- events --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Send:
    data: bytes


@dataclass(frozen=True, slots=True)
class Authenticate:
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class StartTls:
    pass


@dataclass(frozen=True, slots=True)
class Commit:
    deleted: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class Close:
    pass


Event = Send | Authenticate | StartTls | Commit | Close


@dataclass(frozen=True, slots=True)
class Maildrop:
    """What a session serves: the messages (as ``MailStore.messages`` lists them) and
    how to read one (octets with CRLF line ends)."""

    messages: tuple[Message, ...]
    read: Callable[[Message], bytes]


def _stuffed(data: bytes) -> bytes:
    """A multi-line response body (RFC 1939 §3): CRLF ended, lines starting with ``.``
    byte-stuffed, then the ``.`` line."""
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..") + b".\r\n"


class Pop3Session:
    """One POP3 connection's protocol state (see the module's docstring).

    Args:
        tls: STLS may be offered (the adapter has a TLS context).
        max_failures: failed logins after which the connection closes.
    """

    def __init__(self, *, tls: bool = False, max_failures: int = 3) -> None:
        self.state = AUTHORIZATION
        self.tls_available = tls
        self.tls_active = False
        self.max_failures = max_failures
        self.failures = 0
        self.user: str | None = None
        self._buffer = bytearray()
        self._discarding = False        # inside a line longer than MAX_LINE
        self._waiting: type | None = None   # the event whose answer is awaited
        self._drop: Maildrop | None = None
        self._deleted: set[int] = set()

    # ---- octets in, events out ---------------------------------------------------

    @staticmethod
    def greeting() -> bytes:
        return b"+OK faxengine POP3 server ready\r\n"

    def receive(self, data: bytes = b"") -> list[Event]:
        """Take octets from the client; the events they lead to.

        The events of the commands received are given in batches of about
        ``OUTPUT_BATCH`` octets: call ``receive(b"")`` until it returns nothing
        before reading more from the client."""
        if self.state == UPDATE or self._closed:
            return []
        self._buffer += data
        return self._run()

    @property
    def _closed(self) -> bool:
        return self._waiting is Close

    def _run(self) -> list[Event]:
        events: list[Event] = []
        produced = 0
        # a batch ends at OUTPUT_BATCH octets: a client that pipelines RETRs
        # without reading gets them as it reads (the adapter asks for more with
        # receive(b"")), not all at once in memory
        while self._waiting is None and produced < OUTPUT_BATCH:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    if not self._discarding:
                        events.append(self._err("line too long: commands are at most "
                                                f"{MAX_LINE} octets"))
                    self._discarding = True
                    self._buffer.clear()
                break
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[:end + 1]
            if self._discarding:
                self._discarding = False
                continue
            if len(line) > MAX_LINE:
                events.append(self._err(f"line too long: commands are at most {MAX_LINE} octets"))
                continue
            more = self._command(line)
            produced += sum(len(e.data) for e in more if isinstance(e, Send))
            events.extend(more)
        return _merged(events)

    def _command(self, line: bytes) -> list[Event]:
        text = line.decode("utf-8", "replace")
        name, _, rest = text.strip(" ").partition(" ")
        name = name.upper()
        command = COMMANDS[self.state].get(name)
        if command is None:
            where = [s for s, table in COMMANDS.items() if name in table]
            if where:
                return [self._err(f"{name} only in the {where[0]} state")]
            return [self._err(f"unknown command {ascii(name[:40])}")]
        # PASS takes the rest of the line as it is: a password may hold spaces (§7)
        args = [rest] if name == "PASS" and rest else rest.split()
        if not command.min_args <= len(args) <= command.max_args:
            return [self._err(f"{name} takes {_arity(command)}")]
        return getattr(self, f"_{name.lower()}")(*args)

    # ---- AUTHORIZATION ---------------------------------------------------------------

    def _capa(self) -> list[Event]:
        caps = ["USER"] if self.state == AUTHORIZATION else []
        caps += ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]
        if self.tls_available and not self.tls_active and self.state == AUTHORIZATION:
            caps.append("STLS")
        caps.append("IMPLEMENTATION faxengine")
        return [self._ok("Capability list follows", body="\r\n".join(caps).encode())]

    def _user(self, name: str) -> list[Event]:
        self.user = name
        return [self._ok("send PASS")]

    def _pass(self, password: str) -> list[Event]:
        if self.user is None:
            return [self._err("send USER first")]
        self._waiting = Authenticate
        return [Authenticate(self.user, password)]

    def _apop(self, *args: str) -> list[Event]:
        return [self._err("APOP is not offered; use USER and PASS")]

    def _stls(self) -> list[Event]:
        if not self.tls_available:
            return [self._err("STLS is not offered here")]
        if self.tls_active:
            return [self._err("TLS is already active")]
        self._waiting = StartTls
        return [self._ok("begin TLS negotiation"), StartTls()]

    def tls_started(self) -> list[Event]:
        """The connection is under TLS now: forget what came before it (RFC 2595 §4)."""
        if self._waiting is not StartTls:
            raise RuntimeError("tls_started() without a StartTls event")
        self._waiting = None
        self.tls_active = True
        self.user = None
        self._buffer.clear()
        return self._run()

    def accepted(self, maildrop: Maildrop) -> list[Event]:
        """The password was right and the maildrop is ours: TRANSACTION."""
        self._expect(Authenticate)
        self._drop = maildrop
        self.state = TRANSACTION
        count, octets = self._totals()
        return _merged([self._ok(f"maildrop has {count} messages ({octets} octets)")] + self._run())

    def refused(self, code: str) -> list[Event]:
        """The login failed: ``code`` is ``AUTH`` (wrong user or password), ``IN-USE``
        (another session has the maildrop) or ``SYS/TEMP`` (the check failed)."""
        self._expect(Authenticate)
        self.user = None
        if code == "IN-USE":
            return [self._err("[IN-USE] the mailbox is open in another session; try again later")]
        if code == "SYS/TEMP":
            return [self._err("[SYS/TEMP] the password cannot be checked now; try again later")]
        self.failures += 1
        if self.failures >= self.max_failures:
            self._waiting = Close
            return [self._err(f"[AUTH] wrong address or password; {self.failures} failures, "
                              f"closing the connection"), Close()]
        return _merged([self._err("[AUTH] wrong address or password")] + self._run())

    def _expect(self, event: type) -> None:
        if self._waiting is not event:
            raise RuntimeError(f"no {event.__name__} event is waiting for an answer")
        self._waiting = None

    # ---- TRANSACTION ----------------------------------------------------------------

    def _live(self) -> list[tuple[int, Message]]:
        assert self._drop is not None
        return [(n, m) for n, m in enumerate(self._drop.messages, 1) if n not in self._deleted]

    def _totals(self) -> tuple[int, int]:
        live = self._live()
        return len(live), sum(m.size for _, m in live)

    def _message(self, arg: str) -> tuple[int, Message] | Send:
        assert self._drop is not None
        if not arg.isascii() or not arg.isdigit():
            return self._err(f"message number must be a number, not {ascii(arg[:40])}")
        n = int(arg)
        if not 1 <= n <= len(self._drop.messages):
            return self._err(f"no such message: {n}")
        if n in self._deleted:
            return self._err(f"message {n} already deleted")
        return n, self._drop.messages[n - 1]

    def _stat(self) -> list[Event]:
        count, octets = self._totals()
        return [self._ok(f"{count} {octets}")]

    def _list_or_uidl(self, arg: str | None, value: Callable[[Message], object],
                      what: str) -> list[Event]:
        if arg is not None:
            found = self._message(arg)
            if isinstance(found, Send):
                return [found]
            n, m = found
            return [self._ok(f"{n} {value(m)}")]
        live = self._live()
        lines = "".join(f"{n} {value(m)}\r\n" for n, m in live).encode()
        octets = sum(m.size for _, m in live)
        return [self._ok(f"{len(live)} messages ({octets} octets)" if what == "LIST" else
                         "unique-id listing follows", body=lines)]

    def _list(self, arg: str | None = None) -> list[Event]:
        return self._list_or_uidl(arg, lambda m: m.size, "LIST")

    def _uidl(self, arg: str | None = None) -> list[Event]:
        return self._list_or_uidl(arg, lambda m: m.uid, "UIDL")

    def _read(self, message: Message) -> bytes | Send:
        assert self._drop is not None
        try:
            return self._drop.read(message)
        except MessageGone as exc:
            # deleted by another reader: final, so no [SYS/TEMP], which says
            # the failure is temporary (RFC 3206 §4) and has clients retry it
            return self._err(f"{exc}: another reader of this mailbox deleted it")
        except MaildirError as exc:
            return self._err(f"[SYS/TEMP] {exc}")

    def _retr(self, arg: str) -> list[Event]:
        found = self._message(arg)
        if isinstance(found, Send):
            return [found]
        data = self._read(found[1])
        if isinstance(data, Send):
            return [data]
        return [self._ok(f"{len(data)} octets", body=data)]

    def _top(self, arg: str, lines: str) -> list[Event]:
        found = self._message(arg)
        if isinstance(found, Send):
            return [found]
        if not lines.isascii() or not lines.isdigit():
            return [self._err(f"the number of lines must be a number, not {ascii(lines[:40])}")]
        data = self._read(found[1])
        if isinstance(data, Send):
            return [data]
        head, sep, body = data.partition(b"\r\n\r\n")
        kept = body.split(b"\r\n")[:int(lines)] if body else []
        out = head + sep + b"".join(line + b"\r\n" for line in kept) if sep else head
        return [self._ok("top of message follows", body=out)]

    def _dele(self, arg: str) -> list[Event]:
        found = self._message(arg)
        if isinstance(found, Send):
            return [found]
        self._deleted.add(found[0])
        return [self._ok(f"message {found[0]} deleted")]

    def _noop(self) -> list[Event]:
        return [self._ok("")]

    def _rset(self) -> list[Event]:
        self._deleted.clear()
        count, octets = self._totals()
        return [self._ok(f"maildrop has {count} messages ({octets} octets)")]

    def _quit(self) -> list[Event]:
        if self.state == AUTHORIZATION:
            self._waiting = Close
            return [self._ok("faxengine POP3 server signing off"), Close()]
        assert self._drop is not None
        self.state = UPDATE
        self._waiting = Commit
        return [Commit(tuple(self._drop.messages[n - 1] for n in sorted(self._deleted)))]

    def committed(self, failed: int) -> list[Event]:
        """The deleted messages were removed, ``failed`` of them could not be."""
        self._expect(Commit)
        self._waiting = Close
        if failed:
            return [self._err(f"[SYS/TEMP] {failed} deleted messages not removed"), Close()]
        count = len(self._live())
        return [self._ok(f"faxengine POP3 server signing off ({count} messages left)"), Close()]

    # ---- replies ------------------------------------------------------------------

    @staticmethod
    def _ok(text: str, body: bytes | None = None) -> Send:
        line = (f"+OK {text}" if text else "+OK").encode() + b"\r\n"
        return Send(line if body is None else line + _stuffed(body))

    @staticmethod
    def _err(text: str) -> Send:
        return Send(f"-ERR {text}".encode() + b"\r\n")


def _arity(command: Command) -> str:
    if command.min_args == command.max_args:
        return {0: "no argument", 1: "one argument"}.get(command.min_args,
                                                        f"{command.min_args} arguments")
    return f"{command.min_args} to {command.max_args} arguments"


def _merged(events: list[Event]) -> list[Event]:
    """Consecutive ``Send`` events as one (one write for a pipelined batch)."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, Send) and out and isinstance(out[-1], Send):
            out[-1] = Send(out[-1].data + event.data)
        else:
            out.append(event)
    return out
