"""The running gateway: ``faxengine gateway --config gateway.toml``.

``Gateway(config).run()`` wires the components in one asyncio loop
(docs/gateway.md, "Running the gateway"):

1. **SMTP intake** (``smtp.SmtpIntake``): the sender check in the dialogue,
   then ``Store.accept`` (spool file and row, fsynced) *before* the 250 reply.
2. **Expander**: each accepted request is read again from its spool file
   (``mail.parse_request``), its documents rendered in a process pool
   (``render.render_documents``, at most ``RENDER_WORKERS`` at once), the
   fax image written once as a multi-page TIFF-F under
   ``data_dir/images/<明細番号>.tif`` (hard links for the other destinations),
   and the jobs and any refusal mails stored in one transaction
   (``Store.expand``).
3. **Line workers**, ``[gateway] lines`` of them: ``Store.claim`` the oldest
   due job, ``driver.call``, ``jobs.Job.finish`` with the account's
   ``RetryPolicy``, the result mail when the job has ended and the account
   wants it, ``Store.finish`` (job, attempt and outbox row in one
   transaction).
4. **Outbox**: result mails delivered to the Maildir (``delivery``) or a
   smarthost, retried with back-off.  Each is claimed first
   (``Store.outbox_claim``, owner ``<name>:<pid>/outbox``), so two hosts on one
   database never deliver one mail, and marked delivered the moment it is (the
   Maildir has it, or the smarthost said 250 to DATA).  A crash in between
   delivers it again: onto itself in the Maildir (keyed by its Message-ID),
   a duplicate through a smarthost (that window is one database commit).  A
   claim older than ``OUTBOX_CLAIM_TIMEOUT`` (15 min) is taken over by any host.
5. **POP3** and the **web admin** (uvicorn in this loop) when configured.
6. **Image expiry**: images deleted 264 hours after sending (spec §4).

At start: jobs this host left 送信中 are put back (``requeue_stale``), its
claims on result mails ended (``requeue_outbox``), accepted requests not yet expanded are expanded, the outbox is delivered.
On SIGTERM/SIGINT (``stop``): SMTP stops accepting and finishes its
dialogues, no new call starts, calls in progress may end within ``[gateway]
stop_timeout`` and are then cancelled (the driver hangs up; their jobs are
requeued without counting the attempt), and ``run`` returns.

Logging: one line per request and per job result on logger
``faxengine.gateway`` (``faxengine gateway`` writes it to stderr; ``-v``
adds the component loggers at DEBUG).  Plain text: a line per event is what
an operator greps; JSON logs are left to a log shipper.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from faxengine.gateway import jobs as jobs_module
from faxengine.gateway.config import Config, Listen, load_config
from faxengine.gateway.errors import GatewayConfigError, GatewayError
from faxengine.gateway.jobs import NOTHING_TO_SEND, RENDER_FAILED, Job
from faxengine.gateway.mail import Refusal, Request, parse_request
from faxengine.gateway.results import (ResultMail, message_id, refusal_mails, result_mail)

__all__ = ["Gateway", "main", "render_to_tiff", "RENDER_WORKERS"]

log = logging.getLogger("faxengine.gateway")

RENDER_WORKERS = max(1, min(2, os.cpu_count() or 1))   # documents rendered at once
POLL_S = 1.0              # how often idle workers look for due work another host stored
OUTBOX_BATCH = 100        # result mails delivered before the outbox looks at its event again
OUTBOX_RETRY = (timedelta(seconds=5), timedelta(minutes=1), timedelta(minutes=5),
                timedelta(minutes=30))                  # back-off of failed deliveries
EXPIRY_EVERY_S = 600.0    # how often images past their retention are looked for


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def render_to_tiff(documents: Sequence[Any], path: str, max_pages: int) -> tuple[list[int],
                                                                                  Any]:
    """Render ``documents`` and write the pages to ``path`` (a multi-page TIFF-F).

    Runs in a worker process: the pages (4 MB each unpacked) stay there and
    only the page counts and the failure (``render.RenderFailure`` or None)
    come back.  Nothing is written when rendering failed or the request has
    more than ``max_pages`` pages.
    """
    from faxengine import tiff
    from faxengine.gateway.render import render_documents

    rendering = render_documents(documents, max_pages=max_pages)
    if rendering.error is None and sum(rendering.counts) <= max_pages and rendering.pages:
        tmp = f"{path}.tmp"
        tiff.write(tmp, rendering.pages, coding="mmr")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return list(rendering.counts), rendering.error


class Gateway:
    """The gateway of one configuration; ``await run()`` until ``stop()``.

    After ``started`` is set, ``ports`` maps "smtp", "pop3", "web" to the
    bound ports (useful with port 0).
    """

    def __init__(self, config: Config, *, worker: str | None = None) -> None:
        self.config = config
        self.data_dir = config.gateway.data_dir
        # this gateway's line workers ([gateway] name); a restart requeues the jobs
        # they left 送信中
        self.worker_prefix = f"{config.gateway.name}:"
        self.worker = worker or f"{self.worker_prefix}{os.getpid()}/"
        self.outbox_owner = f"{self.worker_prefix}{os.getpid()}/outbox"   # its mail claims
        self.settings = config.result_settings
        self.ports: dict[str, int] = {}
        self.started = asyncio.Event()
        self.store: Any = None
        self.driver: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()
        self._hang_up = asyncio.Event()         # a second signal: calls end now
        self._work = asyncio.Event()            # an accepted request: expand it
        self._due = asyncio.Event()             # jobs may be due: line workers look
        self._mail = asyncio.Event()            # outbox rows: deliver them
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._calls: set[asyncio.Task] = set()     # line workers in a call

    # ---- control -------------------------------------------------------------

    def stop(self) -> None:
        """Ask ``run`` to stop (from any thread, or a signal handler)."""
        loop = self._loop
        if loop is None:
            return
        if loop.is_running():
            try:
                if asyncio.get_running_loop() is loop:
                    self._stopping.set()
                    return
            except RuntimeError:
                pass
            loop.call_soon_threadsafe(self._stopping.set)

    async def run(self, *, install_signals: bool = False) -> None:
        """Start every component, serve until ``stop()`` (or SIGTERM/SIGINT when
        ``install_signals``), then stop them in order."""
        self._loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, self._signalled)
        servers: list[Any] = []
        tasks: list[asyncio.Task] = []
        web = None
        try:
            await self._open_store()
            await asyncio.to_thread(self._recover)
            self.driver = self._line_driver()
            smtp = await self._start_smtp()
            servers.append(smtp)
            pop3 = await self._start_pop3()
            if pop3 is not None:
                servers.append(pop3)
            web = await self._start_web()
            tasks.append(asyncio.create_task(self._expander(), name="expander"))
            tasks.append(asyncio.create_task(self._outbox(), name="outbox"))
            tasks.append(asyncio.create_task(self._expiry(), name="image expiry"))
            workers = [asyncio.create_task(self._line_worker(i), name=f"line {i}")
                       for i in range(1, self.config.gateway.lines + 1)]
            log.info("gateway started: smtp %s, pop3 %s, web %s, %d line(s) (%s)",
                     self.ports.get("smtp"), self.ports.get("pop3", "off"),
                     self.ports.get("web", "off"), len(workers), self.config.line.driver)
            self.started.set()
            await self._stopping.wait()
            log.info("gateway stopping")
            # 1. no new request: SMTP finishes the dialogues in progress
            await smtp.stop()
            servers.remove(smtp)
            # 2. no new call; calls in progress may end within stop_timeout
            for w in workers:
                if not self._busy(w):
                    w.cancel()
            await self._drain_calls(workers)
        finally:
            if web is not None:
                web_server, web_task, sock = web
                if web_task is None:            # [web] workers > 1: the child processes
                    await web_server.stop()
                else:
                    web_server.should_exit = True
                    with contextlib.suppress(Exception):
                        await web_task
                        await web_server.shutdown(sockets=[sock])
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for server in servers:
                with contextlib.suppress(Exception):
                    await server.stop()
            if self.driver is not None:
                with contextlib.suppress(Exception):
                    await self.driver.close()
            if self._pool is not None:
                # a render in progress is abandoned: its request stays accepted and is
                # expanded at the next start
                workers = list((getattr(self._pool, "_processes", None) or {}).values())
                self._pool.shutdown(wait=False, cancel_futures=True)
                for p in workers:
                    with contextlib.suppress(Exception):
                        p.kill()
            if self.started.is_set():
                log.info("gateway stopped")
            if self.store is not None:
                # calls cut short by the stop: back to 送信待ち, the attempt not counted
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.store.requeue_stale, self.worker)
                with contextlib.suppress(Exception):
                    close = getattr(self.store, "close", None)
                    if close is not None:
                        await asyncio.to_thread(close)

    def _signalled(self) -> None:
        """SIGTERM/SIGINT: stop; a second one: hang up the calls now."""
        if self._stopping.is_set():
            log.info("second signal: hanging up the calls in progress now")
            self._hang_up.set()
        self._stopping.set()

    def _busy(self, worker: asyncio.Task) -> bool:
        return worker in self._calls

    async def _drain_calls(self, workers: list[asyncio.Task]) -> None:
        """Let the calls in progress end, within stop_timeout (or until a second
        signal); then cancel them: the drivers hang up, run() requeues their jobs."""
        limit = self.config.gateway.stop_timeout.total_seconds()
        pending = [w for w in workers if not w.done()]
        if pending:
            ended = asyncio.ensure_future(asyncio.wait(pending))
            hang_up = asyncio.ensure_future(self._hang_up.wait())
            await asyncio.wait([ended, hang_up], timeout=limit,
                               return_when=asyncio.FIRST_COMPLETED)
            ended.cancel()          # the waits only: the workers go on
            hang_up.cancel()
        pending = [w for w in workers if not w.done()]
        if pending:
            log.info("stop: %d call(s) still in progress: hanging up, their jobs are "
                     "requeued", len(pending))
            for w in pending:
                w.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # ---- start ---------------------------------------------------------------

    async def _open_store(self) -> None:
        from faxengine.gateway.store import Store

        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            (self.data_dir / "images").mkdir(exist_ok=True)
        except OSError as exc:
            raise GatewayConfigError(f"[gateway] data_dir: cannot make {self.data_dir} "
                                     f"({_why(exc)}); give a directory the gateway may "
                                     f"write") from None
        self.store = await asyncio.to_thread(Store.open, self.config.gateway.database,
                                             self.data_dir)
        await asyncio.to_thread(self.store.sync_accounts,
                                [a.as_dict() for a in self.config.accounts])

    def _recover(self) -> None:
        """After a crash: this host's 送信中 jobs back to 送信待ち and its claims on
        result mails ended; the rest (requests not expanded, mails not
        delivered) the tasks pick up as they start."""
        self.store.requeue_stale(self.worker_prefix)
        self.store.requeue_outbox(self.worker_prefix)
        self._work.set()
        self._due.set()
        self._mail.set()

    def _line_driver(self) -> Any:
        from faxengine.gateway import lines

        line = self.config.line
        if line.driver == "simulated":
            return lines.SimulatedNetwork(dict(line.numbers), self.data_dir,
                                          realtime=line.realtime)
        sip = line.sip
        return lines.SipLine(sip.uri, user=sip.user, password=sip.password,
                             registrar=sip.registrar)

    def _tls(self, section: Any) -> Any:
        if section.tls_cert is None:
            return None
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(section.tls_cert, section.tls_key)
        return ctx

    async def _start_smtp(self) -> Any:
        from faxengine.gateway.smtp import SmtpIntake

        c, listen = self.config, self.config.smtp.listen
        smtp = SmtpIntake(listen.host, listen.port, fax_domain=c.gateway.fax_domain,
                          max_size=c.smtp.max_message_size, is_registered=self._registered,
                          accept=self.accept, tls_context=self._tls(c.smtp))
        await _listening("[smtp] listen", listen, smtp.start())
        self.ports["smtp"] = smtp.port
        return smtp

    async def _start_pop3(self) -> Any:
        listen = self.config.pop3.listen
        if listen is None:
            return None
        from faxengine.gateway.maildir import MailStore
        from faxengine.gateway.pop3 import Pop3Server

        pop3 = Pop3Server(listen.host, listen.port, store=MailStore(self.data_dir / "mail"),
                          authenticate=self._authenticate,
                          tls_context=self._tls(self.config.pop3))
        await _listening("[pop3] listen", listen, pop3.start())
        self.ports["pop3"] = pop3.port
        return pop3

    async def _start_web(self) -> tuple[Any, asyncio.Task | None, socket.socket | None] | None:
        """uvicorn in this loop (``[web] workers = 1``), or ``workers`` child processes
        serving the web admin only (``web.workers``): (server, task, socket) or
        (WebWorkers, None, None); None when the web admin is off."""
        listen = self.config.web.listen
        if listen is None:
            return None
        import uvicorn

        from faxengine.gateway.web import create_app
        from faxengine.gateway.web.workers import LOGINS_FILE, WebWorkers, listen_sockets

        count = self.config.web.workers
        try:
            socks = listen_sockets(listen.host, listen.port, count)
        except OSError as exc:
            raise GatewayConfigError(f"[web] listen: cannot listen on {listen}: "
                                     f"{_why(exc)}") from None
        self.ports["web"] = socks[0].getsockname()[1]
        g = self.config.gateway
        if count > 1:
            workers = WebWorkers(socks, {
                "database": g.database, "data_dir": str(self.data_dir.resolve()),
                "secret_key": self._secret_key(), "timezone": g.timezone,
                "fax_domain": g.fax_domain, "max_upload": self.config.smtp.max_message_size,
                "logins": str(self.data_dir.resolve() / LOGINS_FILE)}, self._accepted_by_web)
            await workers.start()
            return workers, None, None
        [sock] = socks
        app = create_app(self.store, secret_key=self._secret_key(), timezone=g.timezone,
                         fax_domain=g.fax_domain, submit=self.accept,
                         max_upload=self.config.smtp.max_message_size)
        # uvicorn's serve() would install its own SIGINT/SIGTERM handlers (and raise the
        # signal again when done): its steps without that, in this loop
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        return server, asyncio.create_task(server.main_loop(), name="web"), sock

    def _accepted_by_web(self, seq: int) -> None:
        """A web worker process stored request ``seq`` (POST /api/faxes): expand it now."""
        log.info("request %d accepted through the web admin's API", seq)
        self._work.set()

    def _secret_key(self) -> str:
        """``[web] secret_key``, or one generated at the first start and kept in data_dir."""
        if self.config.web.secret_key:
            return self.config.web.secret_key
        path = self.data_dir / "secret_key"
        try:
            return path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            key = secrets.token_urlsafe(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(key + "\n")
            return key

    # ---- intake --------------------------------------------------------------

    async def _registered(self, address: str) -> bool:
        account = await asyncio.to_thread(self.store.account_for_sender, address)
        return account is not None and not getattr(account, "disabled", False)

    def _authenticate(self, user: str, password: str) -> bool:
        return self.store.authenticate(user, password) is not None

    async def accept(self, raw: bytes, mail_from: str, rcpt_to: list[str]) -> int:
        """The durable accept of SMTP and the web API: stored (fsynced) when it returns."""
        seq = await asyncio.to_thread(self.store.accept, raw, mail_from, list(rcpt_to),
                                      _utcnow())
        log.info("request %d accepted from %s for %d recipient(s), %d octets", seq, mail_from,
                 len(rcpt_to), len(raw))
        self._work.set()
        return seq

    # ---- expander ------------------------------------------------------------

    async def _expander(self) -> None:
        retry: dict[int, tuple[float, float]] = {}      # seq -> (next try, delay), monotonic
        while True:
            await _wait(self._work, POLL_S * 5)
            self._work.clear()
            for record in await asyncio.to_thread(self.store.unexpanded):
                due, delay = retry.get(record.seq, (0.0, 5.0))
                if time.monotonic() < due:
                    continue
                try:
                    await self._expand(record)
                    retry.pop(record.seq, None)
                except asyncio.CancelledError:
                    raise
                except Exception:       # noqa: BLE001 - one request must not stop the others
                    log.exception("request %d: cannot expand it; trying again in %g s",
                                  record.seq, delay)
                    retry[record.seq] = (time.monotonic() + delay, min(delay * 2, 600.0))

    async def _expand(self, record: Any) -> None:
        g = self.config.gateway
        raw = await asyncio.to_thread(record.read)
        request = await asyncio.to_thread(parse_request, raw, g.fax_domain,
                                          mail_from=record.mail_from,
                                          rcpt_to=list(record.rcpt_to))
        if request.refusal is not None and not request.sender and record.mail_from:
            # a mail too broken to name its From: answer the envelope sender, whom the
            # SMTP dialogue found registered
            request = replace(request, sender=record.mail_from.strip().strip("<>"))
        seq, now = record.seq, _utcnow()
        image: str | None = None
        images: dict[str, str] | None = None
        sendable = request.refusal is None and any(d.error is None
                                                   for d in request.destinations)
        if sendable:
            request, image = await self._render(seq, request)
        jobs = request.jobs(seq, now)
        mails = await asyncio.to_thread(self._refusal_mails, seq, request, jobs, now, record)
        if image is not None:
            images = await asyncio.to_thread(self._link_images, image, jobs)
        if not await asyncio.to_thread(self.store.expand, seq, request, jobs, images, mails):
            return          # another host expanded it first
        waiting = sum(1 for j in jobs if not j.final)
        log.info("request %d: %s, %s page(s), %d destination(s) to send%s", seq,
                 request.refusal.status if request.refusal else "accepted",
                 request.pages if request.pages is not None else "-", waiting,
                 f", {len(mails)} error mail(s)" if mails else "")
        if waiting:
            self._due.set()
        if mails:
            self._mail.set()

    async def _render(self, seq: int, request: Request) -> tuple[Request, str | None]:
        from faxengine.gateway.mail import MAX_PAGES

        # this gateway's own file: two hosts may expand one request at once (one of
        # them stores it, Store.expand)
        path = str(self.data_dir / "images" / f"request-{seq}.{self.worker.strip('/')}.tif")
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                RENDER_WORKERS, mp_context=multiprocessing.get_context("spawn"))
        loop = asyncio.get_running_loop()
        try:
            counts, failure = await loop.run_in_executor(
                self._pool, render_to_tiff, list(request.documents), path, MAX_PAGES)
        except concurrent.futures.BrokenExecutor:
            # the worker died on these documents (a crash in a decoder, killed for its
            # memory): the next request gets a new pool, this one is not tried again
            self._pool = None
            names = ", ".join(d.name for d in request.documents if d.name) or "本文"
            return replace(request, refusal=Refusal(
                RENDER_FAILED, "the renderer's process died on the documents; check them",
                names)), None
        if failure is not None:
            name = failure.document
            return replace(request, refusal=Refusal(
                RENDER_FAILED, f"{name or 'the body'}: {failure.message}", name or "本文")), None
        request = request.with_page_counts(counts[:len(request.documents)] +
                                           [0] * (len(request.documents) - len(counts)))
        if request.refusal is None and request.pages == 0:
            request = replace(request, refusal=Refusal(
                NOTHING_TO_SEND, "the documents make no page: nothing to send"))
        if request.refusal is not None or not os.path.exists(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return request, None
        return request, path

    def _link_images(self, path: str, jobs: Sequence[Job]) -> dict[str, str]:
        """The request's image as ``images/<明細番号>.tif`` of each destination to send
        (hard links, a copy where links are not possible): 明細番号 -> path."""
        import shutil

        images = {}
        for job in jobs:
            if job.final:
                continue
            target = self.data_dir / "images" / f"{job.detail_no}.tif"
            tmp = f"{path}.{job.detail_no}"
            try:
                os.link(path, tmp)
            except OSError:
                shutil.copyfile(path, tmp)
            os.replace(tmp, target)     # atomic: a call reading it never finds it missing
            images[job.detail_no] = str(target)
        os.unlink(path)
        return images

    def _refusal_mails(self, seq: int, request: Request, jobs: Sequence[Job], now: datetime,
                       record: Any) -> list[ResultMail]:
        """The error mails due at once: the refused request's, or each bad number's."""
        if not self._wants_mail(request.sender or record.mail_from):
            return []
        if request.refusal is not None:
            if not request.sender:
                return []       # no single From to answer: nobody to write to
            return refusal_mails(self.settings, request, request_seq=seq, date=now)
        return [result_mail(self.settings, to=request.sender, number=j.number,
                            status=j.status, sent_at=now, pages=request.pages,
                            subject=request.subject, date=now,
                            message_id=message_id(j.detail_no, self.settings),
                            item=j.number, detail=j.detail_no)
                for j in jobs if j.final]

    def _wants_mail(self, sender: str) -> bool:
        account = self.store.account_for_sender(sender) if sender else None
        return account is None or bool(getattr(account, "result_mail", True))

    # ---- line workers --------------------------------------------------------

    async def _line_worker(self, index: int) -> None:
        me = asyncio.current_task()
        idle = min(POLL_S * self.config.gateway.lines, 10.0)    # about one look a second
        while not self._stopping.is_set():
            try:
                claimed = await asyncio.to_thread(self.store.claim, _utcnow(), self.worker)
            except Exception as exc:        # noqa: BLE001 - the database away for a moment
                log.warning("line %d: cannot claim a job: %s: %s", index,
                            type(exc).__name__, exc)
                await _wait(self._stopping, POLL_S * 5)
                continue
            if claimed is None:
                # woken when a job may be due (a request expanded, a retry's time come);
                # otherwise a look now and then for what another host left due
                await _wait(self._due, idle)
                self._due.clear()
                continue
            self._due.set()         # there may be more: wake another idle line
            self._calls.add(me)
            try:
                await self._call(claimed)
            except Exception:       # noqa: BLE001 - a line must outlive any one job
                # the call's end could not be recorded (the database away, or the job
                # requeued meanwhile by a gateway of the same name): the job stays
                # 送信中 and is requeued at the next start of this gateway
                log.exception("job %s: the call ended but could not be recorded",
                              claimed.job.detail_no)
            finally:
                self._calls.discard(me)

    async def _call(self, claimed: Any) -> None:
        job: Job = claimed.job
        started = _utcnow()
        try:
            pages = await asyncio.to_thread(_read_pages, claimed.image_path)
            outcome = await self.driver.call(job.number, pages, detail_no=job.detail_no,
                                             ecm=True)
            code, pages_sent, detail = outcome.result_code, outcome.pages_sent, outcome.detail
            trace = list(outcome.trace)
        except asyncio.CancelledError:
            raise           # stop: the job stays 送信中 and run() requeues it
        except Exception as exc:        # noqa: BLE001 - the line failed, not the gateway
            log.warning("job %s: the line driver failed: %s: %s", job.detail_no,
                        type(exc).__name__, exc)
            code, pages_sent, detail, trace = "LINE_FAILED", 0, f"{type(exc).__name__}: " \
                                                                 f"{exc}", []
        ended = _utcnow()
        new, transition = job.finish(code, ended, claimed.policy)
        mail = None
        if "send result mail" in transition.actions and claimed.result_mail:
            mail = result_mail(self.settings, to=claimed.sender, number=new.number,
                               status=new.status, sent_at=ended, pages=claimed.pages,
                               subject=claimed.subject, date=ended,
                               message_id=message_id(new.detail_no, self.settings),
                               result_code=code, detail=new.detail_no)
        from faxengine.gateway.store import AttemptRecord

        attempt = AttemptRecord(started_at=started, ended_at=ended, result_code=code,
                                detail=detail, pages_sent=pages_sent, trace=trace)
        await asyncio.to_thread(self.store.finish, job.detail_no, new, attempt, mail)
        log.info("job %s to %s: %s %s (%d/%s page(s) sent, attempt %d%s)", job.detail_no,
                 job.number, new.status, code, pages_sent, claimed.pages, job.attempts + 1,
                 f", again at {new.due:%H:%M:%S}" if new.due else "")
        if mail is not None:
            self._mail.set()
        if new.due is not None:         # the retry: wake a line when it is due
            asyncio.get_running_loop().call_later(
                max(0.0, (new.due - _utcnow()).total_seconds()), self._due.set)

    # ---- outbox --------------------------------------------------------------

    def _delivery(self) -> Any:
        from faxengine.gateway import delivery

        if self.config.results.delivery == "smtp":
            host = self.config.results.smarthost
            return delivery.SmarthostDelivery(host.host, host.port)
        from faxengine.gateway.maildir import MailStore

        return delivery.MailboxDelivery(MailStore(self.data_dir / "mail"))

    async def _outbox(self) -> None:
        """Deliver the result mails, one claimed at a time (``Store.outbox_claim``:
        two hosts never hold one mail); marked delivered the moment the Maildir
        has it or the smarthost said 250 to DATA (``deliver``'s ``accepted``)."""
        from faxengine.gateway.store import OUTBOX_CLAIM_TIMEOUT

        sender = self._delivery()
        while True:
            await _wait(self._mail, POLL_S * 5)
            self._mail.clear()
            for _ in range(OUTBOX_BATCH):
                record = await asyncio.to_thread(self.store.outbox_claim, _utcnow(),
                                                 self.outbox_owner)
                if record is None:
                    break
                if record.taken_from is not None:
                    log.warning("result mail %s: took over the claim of %s, older than %s "
                                "(that worker died)", record.message_id, record.taken_from,
                                OUTBOX_CLAIM_TIMEOUT)
                await self._deliver(sender, record)
            else:
                self._mail.set()        # more than a batch: go on after a look around

    async def _deliver(self, sender: Any, record: Any) -> None:
        from faxengine.gateway.delivery import DeliveryError
        from faxengine.gateway.store import StoreError

        mail = ResultMail(record.to_address, "", "", bytes(record.raw))

        def accepted() -> None:
            self.store.outbox_delivered(record.message_id, _utcnow())

        try:
            if inspect.iscoroutinefunction(sender.deliver):
                await sender.deliver(mail, accepted)
            else:
                await asyncio.to_thread(sender.deliver, mail, accepted)
        except StoreError as exc:
            # delivered, but the mark did not reach the database: the claim stays,
            # and the mail is delivered again when it is taken back (a duplicate
            # through a smarthost, one message in the Maildir)
            log.error("result mail %s to %s delivered, but not marked so: %s",
                      record.message_id, record.to_address, exc)
        except DeliveryError as exc:
            temporary = getattr(exc, "temporary", True)
            retry_at = _utcnow() + OUTBOX_RETRY[min(record.tries, len(OUTBOX_RETRY) - 1)] \
                if temporary else None
            log.warning("result mail %s to %s not delivered (%s): %s", record.message_id,
                        record.to_address, "again later" if temporary else "given up", exc)
            await asyncio.to_thread(self.store.outbox_failed, record.message_id, _utcnow(),
                                    retry_at, str(exc))

    # ---- image expiry --------------------------------------------------------

    async def _expiry(self) -> None:
        """Fax images 264 hours after sending (spec §4): the store knows which, and
        deletes the file with the row's reference."""
        while True:
            for item in await asyncio.to_thread(self.store.expired_images, _utcnow()):
                await asyncio.to_thread(self.store.drop_image, item.detail_no)
                log.info("job %s: image deleted (sent more than 264 hours ago)",
                         item.detail_no)
            await asyncio.sleep(EXPIRY_EVERY_S)


def _read_pages(path: str | None) -> list[Any]:
    from faxengine import tiff

    if not path:
        raise GatewayError("the job has no fax image (it was deleted); the job cannot be sent")
    return tiff.read(path)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


async def _listening(key: str, listen: Listen, start: Any) -> None:
    try:
        await start
    except OSError as exc:
        raise GatewayConfigError(f"{key}: cannot listen on {listen}: {_why(exc)}") from None
    except GatewayError as exc:     # the server's own words: name the key beside them
        raise GatewayConfigError(f"{key}: {exc}") from None


def _why(exc: OSError) -> str:
    """An OSError in words without the call that raised it (asyncio's bind error
    repeats the address)."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


# ---- the command ---------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``faxengine gateway --config FILE [--check] [--data-dir DIR] [-v]``."""
    parser = argparse.ArgumentParser(
        prog="faxengine gateway",
        description="the mail-to-fax gateway: SMTP requests in, faxes out, result mails "
                    "back by POP3 (docs/gateway.md)")
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="the gateway's TOML file (samples/gateway.toml is the demo)")
    parser.add_argument("--check", action="store_true",
                        help="check the file, print what the gateway would listen on, exit")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="use DIR instead of [gateway] data_dir")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log the components (SMTP, POP3, lines, T.30) too")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        config = load_config(args.config)
    except GatewayConfigError as exc:
        print(f"faxengine gateway: {exc}", file=sys.stderr)
        return 2
    if args.data_dir:
        config = replace(config, gateway=replace(config.gateway,
                                                 data_dir=Path(args.data_dir).resolve()))
    if args.check:
        print(f"{args.config}: ok")
        for line in config.describe():
            print(f"  {line}")
        return 0
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    root = logging.getLogger("faxengine")
    levels = root.level, log.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    log.setLevel(logging.INFO)
    try:
        asyncio.run(Gateway(config).run(install_signals=True))
    except GatewayError as exc:     # a port in use, a database it cannot open, a data_dir
        print(f"faxengine gateway: {exc}", file=sys.stderr)
        return 2
    finally:                        # main() may be called as a function (tests)
        root.removeHandler(handler)
        root.setLevel(levels[0])
        log.setLevel(levels[1])
    return 0
