"""Helpers of the SMTP, POP3 and delivery tests: a real asyncio loop in a thread
(the servers live there, the stdlib's blocking clients talk to them from the
test), a smarthost (``Relay``), a self-signed certificate, and how much memory a
process holds."""
from __future__ import annotations

import asyncio
import datetime
import ssl
import subprocess
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any


class LoopThread:
    """An asyncio loop running in a daemon thread until ``close()``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.run(_cancel_rest(), 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Relay:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 as the gateway's smarthost: it
    keeps what it received, answers per recipient as the test chooses
    (``busy@``: 452, ``nobody@``: 550) after ``rcpt_delay`` seconds (a slow
    relay, for a kill during a delivery), and answers QUIT with ``quit_reply``;
    ``events`` records each RCPT as it comes, the 250 to DATA and the QUIT."""

    def __init__(self, loop: LoopThread, tls_context=None, quit_reply: str = "221 Bye",
                 events: list[str] | None = None, rcpt_delay: float = 0.0) -> None:
        from aiosmtpd.smtp import SMTP

        self.received: list[tuple[str, list[str], bytes]] = []
        self.loop = loop
        self.events = events if events is not None else []
        relay = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                relay.events.append("RCPT")
                if rcpt_delay:
                    await asyncio.sleep(rcpt_delay)
                if address.startswith("busy@"):
                    return "452 4.2.2 Mailbox full, try later"
                if address.startswith("nobody@"):
                    return "550 5.1.1 No such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                relay.received.append((envelope.mail_from, envelope.rcpt_tos,
                                       envelope.original_content))
                relay.events.append("250 to DATA")
                return "250 OK"

            async def handle_QUIT(self, server, session, envelope):
                relay.events.append("QUIT")
                return quit_reply

        async def start():
            return await loop.loop.create_server(
                lambda: SMTP(Handler(), hostname="relay.test", enable_SMTPUTF8=True,
                             tls_context=tls_context, loop=loop.loop), "127.0.0.1", 0)
        self.server = loop.run(start())
        self.port = self.server.sockets[0].getsockname()[1]

    def message_ids(self) -> list[str]:
        """The Message-IDs of what was received, in order."""
        import email.parser

        parser = email.parser.BytesHeaderParser()
        return [str(parser.parsebytes(raw)["Message-ID"]) for _, _, raw in self.received]

    def close(self) -> None:
        async def close() -> None:          # in the loop's own thread
            self.server.close()
        self.loop.run(close())


def self_signed(tmp: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A certificate and key for ``name`` and 127.0.0.1, valid for a day (PEM files):
    made with the ``cryptography`` package, else with ``openssl req``."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return _self_signed_openssl(tmp, name)
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _self_signed_openssl(tmp: Path, name: str) -> tuple[Path, Path]:
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
                    "-keyout", str(key_path), "-out", str(cert_path)],
                   check=True, capture_output=True, timeout=60)
    return cert_path, key_path


def tls_contexts(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it)."""
    cert, key = self_signed(tmp)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def rss_kib() -> int:
    """Resident memory of this process now, in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")
