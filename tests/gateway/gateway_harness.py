"""Running the real gateway in tests: a config file with free ports, the gateway
in-process (its own loop on a thread) or as a ``faxengine gateway`` process,
and the customer's side through the stdlib's SMTP and POP3 clients.

Every gateway a test starts is stopped by the test's fixture; every wait is
bounded (``WAIT_S``).
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import os
import poplib
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from faxengine.gateway.config import Config, load_config
from faxengine.gateway.mail import header_text

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 120.0
SENDER = "sample@edicworks.com"
PASSWORD = "change-me"
DOMAIN = "cl1.faximo.jp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(directory: Path, *, numbers: dict[str, str] | None = None,
                 database: str = "", lines: int = 2, retries: int = 2,
                 retry_interval: str = "1s", result_mail: bool = True,
                 realtime: bool = False, fixed_ports: bool = False,
                 stop_timeout: str = "10s", data_dir: str = "data", name: str = "",
                 extra: str = "") -> Path:
    """A gateway.toml in ``directory``; ports 0 (or free ports probed now, for a
    process whose ports the test must know before it starts)."""
    numbers = numbers or {"0921234567": "answer", "0451234567": "answer",
                          "0312345678": "busy", "default": "answer"}
    smtp = f"127.0.0.1:{free_port() if fixed_ports else 0}"
    pop3 = f"127.0.0.1:{free_port() if fixed_ports else 0}"
    entries = "\n".join(f'"{k}" = "{v}"' for k, v in numbers.items())
    text = f'''
[gateway]
fax_domain = "{DOMAIN}"
data_dir = "{data_dir}"
database = "{database}"
name = "{name}"
lines = {lines}
stop_timeout = "{stop_timeout}"
[smtp]
listen = "{smtp}"
[pop3]
listen = "{pop3}"
[web]
listen = ""
[line]
realtime = {str(realtime).lower()}
[line.numbers]
{entries}
[[accounts]]
name = "sample"
password = "{PASSWORD}"
senders = ["{SENDER}"]
retries = {retries}
retry_interval = "{retry_interval}"
result_mail = {str(result_mail).lower()}
[[accounts]]
name = "quiet"
password = "hush"
senders = ["quiet@example.jp"]
result_mail = false
{extra}
'''
    path = directory / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the customer's side -----------------------------------------------------------

def request(to: list[str] | str, *, subject: str = "FAX送信サンプル福岡",
            body: str = "テスト送信です。\nよろしくお願いいたします。\n", sender: str = SENDER,
            cc: str | None = None, attachments: list[tuple[str, bytes, str]] = (),
            charset: str = "iso-2022-jp") -> EmailMessage:
    """A request mail as a mail program writes it (To numbers at the fax domain)."""
    msg = EmailMessage()
    msg["From"] = sender
    numbers = [to] if isinstance(to, str) else to
    msg["To"] = ", ".join(n if "@" in n else f"{n}@{DOMAIN}" for n in numbers)
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg.set_content(body, charset=charset)
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def send(port: int, msg: EmailMessage | bytes, *, mail_from: str = SENDER,
         rcpt_to: list[str] | None = None) -> None:
    """Send by SMTP; the envelope is From and To (and Cc) unless given."""
    if isinstance(msg, EmailMessage):
        raw = msg.as_bytes()
        if rcpt_to is None:
            rcpt_to = [a for _, a in email.utils.getaddresses(
                msg.get_all("To", []) + msg.get_all("Cc", []))]
    else:
        raw = msg
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail(mail_from, rcpt_to, raw)


@dataclass
class Mail:
    """A result mail as the customer reads it: headers and body decoded."""

    to: str
    sender: str
    subject: str
    body: str
    message_id: str
    raw: bytes

    def number(self) -> str:
        m = re.search(r"送信先FAX番号:(\d+)", self.body)
        return m.group(1) if m else ""


def decode(raw: bytes) -> Mail:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    payload = msg.get_payload(decode=True) or b""
    body = payload.decode(msg.get_content_charset() or "utf-8").replace("\r\n", "\n")
    return Mail(header_text(msg["To"]), header_text(msg["From"]), header_text(msg["Subject"]),
                body, (msg["Message-ID"] or "").strip(), raw)


def pop3_mails(port: int, user: str = SENDER, password: str = PASSWORD) -> list[Mail]:
    pop = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        pop.user(user)
        pop.pass_(password)
        count, _ = pop.stat()
        return [decode(b"".join(line + b"\r\n" for line in pop.retr(i)[1]))
                for i in range(1, count + 1)]
    finally:
        pop.quit()


def mails_of(gw: "InProcessGateway", user: str = SENDER, password: str = PASSWORD) -> list[Mail]:
    """The result mails in ``user``'s mailbox, read by POP3."""
    return pop3_mails(gw.pop3, user, password)


def wait_for(check, what: str, timeout: float = WAIT_S, every: float = 0.1):
    """Poll ``check()`` until it returns something true; fail naming ``what``."""
    until = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > until:
            raise AssertionError(f"not within {timeout:g} s: "
                                 f"{what() if callable(what) else what}")
        time.sleep(every)


def maildir_files(data_dir: Path, address: str = SENDER) -> list[Path]:
    box = data_dir / "mail" / address
    return sorted(p for sub in ("new", "cur") for p in (box / sub).glob("*") if p.is_file())


# ---- the gateway ---------------------------------------------------------------------

class InProcessGateway:
    """``Gateway(config).run()`` on a thread with its own event loop."""

    def __init__(self, config_path: Path) -> None:
        from faxengine.gateway.service import Gateway

        self.config: Config = load_config(config_path)
        self.gateway = Gateway(self.config)
        self.data_dir = self.config.gateway.data_dir
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="gateway")

    def _run(self) -> None:
        try:
            asyncio.run(self.gateway.run())
        except BaseException as exc:        # noqa: BLE001 - reported by the test
            self.error = exc

    def start(self) -> InProcessGateway:
        self.thread.start()
        wait_for(lambda: self.gateway.started.is_set() or not self.thread.is_alive(),
                 "the gateway started", 60)
        if self.error is not None:
            raise self.error
        return self

    @property
    def smtp(self) -> int:
        return self.gateway.ports["smtp"]

    @property
    def pop3(self) -> int:
        return self.gateway.ports["pop3"]

    @property
    def store(self):
        return self.gateway.store

    def stop(self) -> None:
        self.gateway.stop()
        self.thread.join(60)
        assert not self.thread.is_alive(), "the gateway did not stop within 60 s"
        if self.error is not None:
            raise self.error


class GatewayProcess:
    """``faxengine gateway --config F`` as a process (its ports fixed in F)."""

    def __init__(self, config_path: Path, log: Path) -> None:
        self.config = load_config(config_path)
        self.config_path = config_path
        self.log_path = log
        self.proc: subprocess.Popen | None = None

    @property
    def smtp(self) -> int:
        return self.config.smtp.listen.port

    @property
    def pop3(self) -> int:
        return self.config.pop3.listen.port

    def start(self) -> GatewayProcess:
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get(
            "PYTHONPATH", ""))
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "faxengine", "gateway",
                                      "--config", str(self.config_path)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_for(self._listening, lambda: f"the gateway listens on {self.smtp} and {self.pop3}"
                 f" ({self.text()})", 60)
        return self

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the gateway exited with {self.proc.returncode}: "
                                 f"{self.text()}")
        for port in (self.smtp, self.pop3):     # POP3 starts after SMTP
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
        return True

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """``kill -9``: nothing of the gateway runs after this."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.log.close()

    def terminate(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self.log.close()
