"""SMTP intake: fax send requests come in here (aiosmtpd, in the caller's asyncio loop).

``SmtpIntake`` is the gateway's listener of shared/spec/mail-gateway.md §1.
It speaks ESMTP (RFC 5321) with SIZE (RFC 1870), 8BITMIME (RFC 6152),
SMTPUTF8 (RFC 6531), PIPELINING (RFC 2920) and, when given a TLS context,
STARTTLS (RFC 3207).  What it decides, in dialogue order:

* ``MAIL FROM`` not a registered address → ``550 5.7.1`` at once (the spec:
  unregistered senders are refused in the dialogue, no mail back).  A
  ``SIZE=`` over the limit → ``552``.
* ``RCPT TO`` outside the fax domain → ``550 5.7.1`` (the gateway relays
  nothing); more than ``max_recipients`` → ``452 4.5.3`` (RFC 5321
  §4.5.3.1.10).  51 fax recipients are taken: that rule belongs to the
  request (an error mail, ``faxengine.gateway.mail``), not to SMTP.
* ``DATA``: read line by line; past ``max_size`` octets nothing more is kept
  and the answer is ``552 5.3.4`` (memory stays bounded whatever the client
  sends: a 100 MB mail, a line without end).  Then the header From (and MAIL
  FROM where it differs) must be registered (``check_sender``), else
  ``550 5.7.1`` with its reason and nothing is stored.  Then a ``Received``
  trace line is put on top (RFC 5321 §4.4) and ``accept(raw, mail_from,
  rcpt_to)`` is awaited: it stores the mail durably and returns the request
  sequence, and only then comes ``250``.  If it raises, ``451 4.3.0``: the
  client keeps the mail and tries again, nothing is lost.

Bounds: ``max_connections`` dialogues at once (more get ``421``), an idle
timeout per dialogue, the reader's line limit for commands.  ``stop()``
closes the listener, ends idle dialogues with ``421``, lets a mail in
progress reach its reply, and after ``stop_timeout`` closes what is left.
"""
from __future__ import annotations

import asyncio
import os
import collections
import email.utils
import inspect
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP, TLSSetupException

from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.mail import check_sender, parse_request

__all__ = ["SmtpIntake"]

log = logging.getLogger("faxengine.gateway.smtp")

IDENT = "faxengine ESMTP"
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HOST_CHARS = re.compile(r"[^A-Za-z0-9.:\[\]_-]")
_TIMER_EVERY = 1 << 18          # DATA octets between two resets of the idle timer


class _Dialogue(SMTP):
    """One SMTP dialogue: aiosmtpd's command loop with our DATA reader and limits."""

    def __init__(self, intake: SmtpIntake) -> None:
        self.intake = intake
        self.in_data = False
        self.close_when_idle = False
        super().__init__(_Rules(intake), data_size_limit=intake.max_size, enable_SMTPUTF8=True,
                         hostname=intake.hostname, ident=IDENT, tls_context=intake.tls_context,
                         timeout=intake.idle_timeout, loop=asyncio.get_running_loop())
        # aiosmtpd keeps these per class and grows MAIL's at every EHLO: keep ours per dialogue
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)

    # ---- life cycle ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self._original_transport is None    # not the STARTTLS re-entry
        if first:
            self.intake._dialogues.add(self)
        super().connection_made(transport)
        if first and self._handler_coroutine is not None:
            # the command loop is the dialogue: when it ends, for whatever reason, so
            # does the dialogue (a client gone in the middle of a TLS handshake is
            # never reported by connection_lost)
            self._handler_coroutine.add_done_callback(self._loop_ended)

    def _loop_ended(self, task: asyncio.Task[None]) -> None:
        if self._original_transport is not None:
            self._original_transport.close()
        self.intake._dialogue_ended(self)

    def connection_lost(self, error: Exception | None) -> None:
        self.intake._dialogue_ended(self)
        super().connection_lost(error)

    @property
    def idle(self) -> bool:
        """No mail transaction in progress (nothing would be lost by closing now)."""
        return not self.in_data and (self.envelope is None or self.envelope.mail_from is None)

    def shut_down(self, text: str = "421 4.3.2 Service shutting down; try again later") -> None:
        """Close with 421 (RFC 5321 §3.8) now; the dialogue counts as ended."""
        if self.transport is not None and not self.transport.is_closing():
            self._writer.write(text.encode() + b"\r\n")
            self.transport.close()
        if self._original_transport is not None:      # under TLS, or in its handshake
            self._original_transport.close()
        self.intake._dialogue_ended(self)

    async def smtp_STARTTLS(self, arg: str) -> None:
        """RFC 3207, with the handshake bounded in time (10 s, or the idle timeout if
        shorter): a client that stops in the middle, or goes away, is not reported
        until then, and would otherwise hold its connection slot for asyncio's 60 s."""
        try:
            await asyncio.wait_for(super().smtp_STARTTLS(arg), self.intake.tls_timeout)
        except asyncio.TimeoutError:
            raise TLSSetupException("the TLS handshake did not finish in time") from None

    async def push(self, status: Any) -> None:
        await super().push(status)
        line = status if isinstance(status, str) else status.decode("ascii", "replace")
        if self.close_when_idle and line[3:4] != "-" and self.idle:
            self.shut_down()

    # ---- DATA ----------------------------------------------------------------

    async def smtp_DATA(self, arg: str | None) -> None:
        """RFC 5321 §4.1.1.4 with bounded memory: nothing past ``max_size`` is kept."""
        if await self.check_helo_needed():
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        self.in_data = True
        try:
            raw, size = await self._read_data()
        finally:
            self.in_data = False
        if raw is None:
            if size >= 0:
                await self.push(f"552 5.3.4 Message too big: {size} octets, the limit "
                                f"is {self.intake.max_size}; send smaller attachments")
            self._set_post_data_state()
            return
        envelope = self.envelope
        status = await self.intake._receive(raw, envelope.mail_from, list(envelope.rcpt_tos),
                                            self._trace_line(envelope))
        self._set_post_data_state()
        await self.push(status)

    async def _read_data(self) -> tuple[bytes | None, int]:
        """The message (dot-stuffing removed, RFC 5321 §4.5.2), or None and the octets
        read when it is over the limit (-1: the connection went away)."""
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        limit = self.intake.max_size
        data = bytearray()
        line = bytearray()
        size = 0
        next_timer = _TIMER_EVERY
        while self.transport is not None:
            try:
                chunk = await self._reader.readuntil(b"\r\n")
                done = True
            except asyncio.LimitOverrunError as over:     # a line longer than the reader's limit
                chunk = await self._reader.read(over.consumed)
                done = False
            except asyncio.IncompleteReadError:
                return None, -1
            if done and not line and chunk == b".\r\n":
                break
            size += len(chunk)
            if size > next_timer:
                self._reset_timeout()
                next_timer = size + _TIMER_EVERY
            if size <= limit:
                line += chunk
            if done:
                if size <= limit:
                    data += line[1:] if line[:1] == b"." else line
                line.clear()
        else:
            return None, -1
        return (bytes(data), size) if size <= limit else (None, size)

    def _trace_line(self, envelope: Any) -> bytes:
        """The ``Received`` line of RFC 5321 §4.4 (protocol words of RFC 3848 / 6531)."""
        assert self.session is not None
        helo = _HOST_CHARS.sub("?", (self.session.host_name or "unknown")[:255])
        peer = self.session.peer[0] if self.session.peer else "unknown"
        with_ = "UTF8SMTP" if envelope.smtp_utf8 else \
            ("ESMTP" if self.session.extended_smtp else "SMTP")
        if self._tls_protocol is not None:
            with_ += "S"
        date = email.utils.formatdate(localtime=False, usegmt=True)
        return (f"Received: from {helo} ([{peer}])\r\n\tby {self.hostname} (faxengine) "
                f"with {with_};\r\n\t{date}\r\n").encode()


class _Rules:
    """aiosmtpd's handler hooks: the checks at EHLO, MAIL and RCPT."""

    def __init__(self, intake: SmtpIntake) -> None:
        self.intake = intake

    async def handle_EHLO(self, server: SMTP, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        # no AUTH: senders are known by address (spec §1), not by login
        kept = [r for r in responses if not r[4:].startswith("AUTH")]
        return kept[:-1] + ["250-PIPELINING", kept[-1]]

    async def handle_MAIL(self, server: SMTP, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if not await self.intake._registered(address):
            return (f"550 5.7.1 MAIL FROM <{address}> is not registered for fax sending; "
                    f"register it in the account's settings")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        intake = self.intake
        if address.rpartition("@")[2].lower() != intake.fax_domain:
            return (f"550 5.7.1 <{address}>: not a fax address; this gateway takes mail for "
                    f"<number>@{intake.fax_domain} only")
        if len(envelope.rcpt_tos) >= intake.max_recipients:
            return (f"452 4.5.3 Too many recipients: at most {intake.max_recipients} "
                    f"per mail")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):    # the client's handshake failed
            log.info("STARTTLS handshake failed: %s", error.__cause__ or error)
        else:
            log.error("SMTP dialogue failed", exc_info=error)
        return "451 4.3.0 Local error in processing; try again later"


class SmtpIntake:
    """The gateway's SMTP listener (see the module's docstring).

    Args:
        host, port: where to listen (port 0: any free port; ``.port`` says which).
        fax_domain: the domain of the fax addresses (``cl1.faximo.jp``).
        max_size: the largest mail in octets (advertised as SIZE).
        is_registered: address -> True if it is a registered sender (may return
            an awaitable; compared without case by the caller's store).
        accept: ``(raw, mail_from, rcpt_to) -> request sequence``; stores the
            mail durably.  Awaited before ``250``; raising means ``451``.
        tls_context: a server context to offer STARTTLS with, or None.
        hostname: the name in the greeting and the trace (default the fax domain).
        max_connections: dialogues at once; more are answered ``421``.
        max_recipients: RCPT TO per mail; more are answered ``452``.
        idle_timeout: seconds a dialogue may wait for the client.
        stop_timeout: seconds ``stop()`` waits for mails in progress.
    """

    def __init__(self, host: str, port: int, *, fax_domain: str, max_size: int,
                 is_registered: Callable[[str], bool | Awaitable[bool]],
                 accept: Callable[[bytes, str, list[str]], Awaitable[int]],
                 tls_context: ssl.SSLContext | None = None, hostname: str | None = None,
                 max_connections: int = 100, max_recipients: int = 1000,
                 idle_timeout: float = 300.0, stop_timeout: float = 30.0) -> None:
        if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size <= 0:
            raise GatewayConfigError(f"the SMTP max_size is {max_size!r}: give a positive "
                                     f"number of octets")
        self.host, self._port = host, port
        self.fax_domain = fax_domain.lower()
        self.max_size = max_size
        self.is_registered = is_registered
        self.accept = accept
        self.tls_context = tls_context
        self.hostname = hostname or self.fax_domain
        self.max_connections = max_connections
        self.max_recipients = max_recipients
        self.idle_timeout = idle_timeout
        self.stop_timeout = stop_timeout
        self.tls_timeout = min(idle_timeout, 10.0)     # a handshake takes milliseconds
        self._server: asyncio.AbstractServer | None = None
        self._dialogues: set[_Dialogue] = set()
        self._all_ended: asyncio.Event | None = None

    @property
    def port(self) -> int:
        """The port listened on (the bound one when 0 was asked)."""
        return self._port

    async def start(self) -> None:
        """Listen; returns once the socket is bound."""
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._protocol, self.host, self._port)
        except OSError as exc:
            raise GatewayConfigError(f"the SMTP intake cannot listen on {self.host}:{self._port}: "
                               f"{os.strerror(exc.errno) if exc.errno else exc}; "
                               f"give another address or port") from exc
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("SMTP intake listening on %s:%d", self.host, self._port)

    def _protocol(self) -> asyncio.BaseProtocol:
        if len(self._dialogues) >= self.max_connections:
            return _Refuse("421 4.7.0 Too many connections; try again later")
        return _Dialogue(self)

    async def stop(self) -> None:
        """Stop listening, let mails in progress finish (at most ``stop_timeout``), close."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        self._all_ended = asyncio.Event()
        for dialogue in list(self._dialogues):
            if dialogue.idle:
                dialogue.shut_down()
            else:
                dialogue.close_when_idle = True
        if self._dialogues:
            try:
                await asyncio.wait_for(self._all_ended.wait(), self.stop_timeout)
            except asyncio.TimeoutError:
                for dialogue in list(self._dialogues):
                    dialogue.shut_down()
                    if dialogue.transport is not None:
                        dialogue.transport.abort()
        await server.wait_closed()

    def _dialogue_ended(self, dialogue: _Dialogue) -> None:
        self._dialogues.discard(dialogue)
        if not self._dialogues and self._all_ended is not None:
            self._all_ended.set()

    async def _registered(self, address: str) -> bool:
        result = self.is_registered(address)
        if inspect.isawaitable(result):
            result = await result
        return bool(result)

    async def _receive(self, raw: bytes, mail_from: str, rcpt_to: list[str],
                       trace: bytes) -> str:
        """The reply to a complete DATA: the header sender check, then ``accept``."""
        m = _HEADER_END.search(raw)
        header = raw[:m.end()] if m else raw
        request = await asyncio.to_thread(parse_request, header, self.fax_domain,
                                          mail_from=mail_from)
        registered = [a for a in {request.sender, mail_from}
                      if a and await self._registered(a)]
        reason = check_sender(request, registered)
        if reason is not None:
            return f"550 5.7.1 {reason}"
        try:
            seq = await self.accept(trace + raw, mail_from, rcpt_to)
        except Exception:           # noqa: BLE001 - the client keeps the mail and retries
            log.exception("storing a mail from %s failed; answered 451", mail_from)
            return "451 4.3.0 The mail could not be stored; nothing was kept, try again later"
        return f"250 2.0.0 OK: queued as {seq}"


class _Refuse(asyncio.Protocol):
    """Answers one line and closes (a connection over the limit)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self.text.encode() + b"\r\n")
        transport.close()
