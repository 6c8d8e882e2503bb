"""POP3 server for the result mails: the asyncio adapter of ``Pop3Session``.

Customers read their result mails by POP3 (shared/spec/mail-gateway.md §3):
the user is a registered sender address, the password its account's, the
maildrop that address's Maildir (``faxengine.gateway.maildir``).  The
protocol itself is the sans-I/O ``faxengine.gateway.pop3_session`` (its
names are exported here too); ``Pop3Server`` runs it on asyncio streams:
the password check in a thread (Argon2 takes a while), a delay before
answering a failed login that grows with that address's recent failures,
one session per maildrop at a time (``[IN-USE]``), STLS (Python 3.11+) given
a TLS context, an idle timeout (RFC 1939 §3: at least ten minutes) that
also ends a client that stops reading, a bounded number of connections.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import os
import ssl
from collections.abc import Callable

from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.maildir import MaildirError, MailStore, mailbox_name
from faxengine.gateway.pop3_session import (AUTHORIZATION, COMMANDS, MAX_LINE, OUTPUT_BATCH,
                                            TRANSACTION, UPDATE, Authenticate, Close, Commit,
                                            Event, Maildrop, Pop3Session, Send, StartTls)

__all__ = ["Pop3Server", "AUTHORIZATION", "TRANSACTION", "UPDATE", "COMMANDS", "MAX_LINE",
           "OUTPUT_BATCH", "Maildrop", "Send", "Authenticate", "StartTls", "Commit", "Close",
           "Pop3Session"]

log = logging.getLogger("faxengine.gateway.pop3")


class Pop3Server:
    """POP3 on ``host:port`` serving ``store``'s Maildirs (see the module's docstring).

    Args:
        host, port: where to listen (port 0: any free port; ``.port`` says which).
        store: the mailboxes; a user's maildrop is ``store.messages(user)``.
        authenticate: ``(address, password) -> bool`` (run in a thread; may be
            a coroutine function instead).
        tls_context: a server context to offer STLS with (Python 3.11+), or None.
        max_connections: sessions at once; more get ``-ERR [SYS/TEMP]`` and are closed.
        idle_timeout: seconds without a command before the connection is closed
            (no UPDATE: nothing is deleted).
        failure_delay: seconds before answering a failed login, times that
            address's failures in a row (at most 8 times).
        max_failures: failed logins per connection before it is closed.
        stop_timeout: seconds ``stop()`` leaves sessions in TRANSACTION to QUIT.
    """

    def __init__(self, host: str, port: int, *, store: MailStore,
                 authenticate: Callable[[str, str], bool],
                 tls_context: ssl.SSLContext | None = None, max_connections: int = 100,
                 idle_timeout: float = 600.0, failure_delay: float = 1.0, max_failures: int = 3,
                 stop_timeout: float = 10.0) -> None:
        self.host, self._port = host, port
        self.store = store
        self.authenticate = authenticate
        self.tls_context = tls_context
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.failure_delay = failure_delay
        self.max_failures = max_failures
        self.stop_timeout = stop_timeout
        self._server: asyncio.AbstractServer | None = None
        self._sessions: dict[asyncio.Task[None], Pop3Session] = {}
        self._locked: set[str] = set()
        self._failures: dict[str, int] = {}     # address -> failed logins in a row

    @property
    def port(self) -> int:
        """The port listened on (the bound one when 0 was asked)."""
        return self._port

    async def start(self) -> None:
        """Listen; returns once the socket is bound."""
        try:
            self._server = await asyncio.start_server(self._client, self.host, self._port,
                                                      limit=MAX_LINE * 4)
        except OSError as exc:
            raise GatewayConfigError(f"the POP3 server cannot listen on {self.host}:{self._port}: "
                               f"{os.strerror(exc.errno) if exc.errno else exc}; "
                               f"give another address or port") from exc
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("POP3 server listening on %s:%d", self.host, self._port)

    async def stop(self) -> None:
        """Stop listening; sessions not logged in are closed now, the others get
        ``stop_timeout`` seconds to QUIT (then they close without UPDATE)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for task, session in list(self._sessions.items()):
            if session.state == AUTHORIZATION:
                task.cancel()
        if self._sessions:
            _, pending = await asyncio.wait(list(self._sessions), timeout=self.stop_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._sessions) >= self.max_connections:
            writer.write(b"-ERR [SYS/TEMP] too many connections; try again later\r\n")
            await _close(writer)
            return
        tls = self.tls_context is not None and hasattr(writer, "start_tls")
        session = Pop3Session(tls=tls, max_failures=self.max_failures)
        self._sessions[task] = session
        mailbox: list[str] = []             # the lock this session holds
        try:
            await self._send(writer, session.greeting())
            await self._converse(session, reader, writer, mailbox)
        except asyncio.CancelledError:
            if writer.transport is not None and not writer.transport.is_closing():
                writer.write(b"-ERR [SYS/TEMP] server shutting down; try again later\r\n")
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass                        # the client went away or its TLS handshake failed
        except Exception:               # noqa: BLE001 - one broken session, the server goes on
            log.exception("POP3 session failed")
        finally:
            self._locked.difference_update(mailbox)
            del self._sessions[task]
            await _close(writer)

    async def _converse(self, session: Pop3Session, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter, mailbox: list[str]) -> None:
        while True:
            try:
                data = await asyncio.wait_for(reader.read(65536), self.idle_timeout)
            except asyncio.TimeoutError:
                writer.write(b"-ERR [SYS/TEMP] idle too long; closing the connection\r\n")
                return
            if not data:
                return
            events = session.receive(data)
            while events:
                if await self._perform(session, events, reader, writer, mailbox):
                    return
                events = session.receive()

    async def _perform(self, session: Pop3Session, events: list[Event],
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       mailbox: list[str]) -> bool:
        """Carry out ``events`` (and those their answers lead to); True: close now."""
        while events:
            event = events.pop(0)
            if isinstance(event, Send) and events and isinstance(events[0], StartTls):
                writer.write(event.data)        # "+OK begin TLS": no yield before the switch
            elif isinstance(event, Send):
                await self._send(writer, event.data)
            elif isinstance(event, Close):
                return True
            elif isinstance(event, Authenticate):
                events = await self._login(session, event, mailbox) + events
            elif isinstance(event, StartTls):
                assert self.tls_context is not None
                # RFC 2595 §4: what came in clear before the switch is not read as if it
                # came under TLS (the stream has no public way to drop it; aiosmtpd does
                # the same for STARTTLS).  Nothing awaited since the +OK, so the
                # client's handshake cannot have landed in this buffer.
                reader._buffer.clear()          # type: ignore[attr-defined]
                # a handshake takes milliseconds; one that stalls ends the session
                await writer.start_tls(self.tls_context,  # type: ignore[attr-defined]
                                       ssl_handshake_timeout=min(self.idle_timeout, 10.0))
                events = session.tls_started() + events
            elif isinstance(event, Commit):
                failed = await asyncio.to_thread(self.store.remove, list(event.deleted))
                events = session.committed(len(failed)) + events
        return False

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """Write; a client that reads nothing for ``idle_timeout`` seconds is idle too
        (asyncio.TimeoutError ends the session, and its lock)."""
        writer.write(data)
        await asyncio.wait_for(writer.drain(), self.idle_timeout)

    async def _login(self, session: Pop3Session, event: Authenticate,
                     mailbox: list[str]) -> list[Event]:
        address = event.user.strip().lower()
        try:
            if inspect.iscoroutinefunction(self.authenticate):
                ok = await self.authenticate(event.user, event.password)
            else:
                ok = await asyncio.to_thread(self.authenticate, event.user, event.password)
        except Exception:               # noqa: BLE001 - the store is down: not the user's fault
            log.exception("checking the POP3 password of %s failed", address)
            return session.refused("SYS/TEMP")
        if not ok:
            count = self._failures.pop(address, 0) + 1
            self._failures[address] = count
            while len(self._failures) > 10_000:         # forget the oldest addresses
                del self._failures[next(iter(self._failures))]
            log.warning("POP3 login of %s failed (%d in a row)", address, count)
            await asyncio.sleep(self.failure_delay * min(count, 8))
            return session.refused("AUTH")
        self._failures.pop(address, None)
        name = mailbox_name(address)
        if name in self._locked:
            return session.refused("IN-USE")
        self._locked.add(name)
        mailbox.append(name)
        try:
            messages = await asyncio.to_thread(self.store.messages, address)
        except MaildirError:
            log.exception("opening the mailbox of %s failed", address)
            self._locked.discard(name)
            mailbox.clear()
            return session.refused("SYS/TEMP")
        return session.accepted(Maildrop(tuple(messages), self.store.read))


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close, waiting a little for the octets still queued; never raises (the session
    is over, also when it is being cancelled)."""
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 5)
    except asyncio.TimeoutError:
        writer.transport.abort()        # a client that reads nothing: drop what is queued
    except (ConnectionError, ssl.SSLError, asyncio.CancelledError, OSError):
        pass
