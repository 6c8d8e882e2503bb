"""The gateway part of `make run`: a fax request by mail, its result mails by POP3.

Starts ``faxengine gateway --config samples/gateway.toml`` with its data in a
fresh temporary directory, sends ``samples/request.eml`` (made by
``samples/make_request.py``) to its SMTP port as the customer system would,
waits for one result mail per destination in the sender's POP3 mailbox,
prints them decoded, and stops the gateway with SIGTERM.  Every wait is
bounded; the exit status is 0 when every destination's result mail came.

    python samples/gateway_demo.py [--config samples/gateway.toml] [--timeout 300]
"""
from __future__ import annotations

import argparse
import email
import email.policy
import os
import poplib
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from faxengine.gateway.config import load_config  # noqa: E402
from faxengine.gateway.mail import header_text, parse_request  # noqa: E402


def wait_port(host: str, port: int, until: float, gateway: subprocess.Popen) -> None:
    while time.monotonic() < until:
        if gateway.poll() is not None:
            raise SystemExit(f"gateway_demo: the gateway exited with status {gateway.returncode}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gateway_demo: nothing listens on {host}:{port}")


def fetch(host: str, port: int, user: str, password: str) -> list[bytes]:
    pop = poplib.POP3(host, port, timeout=10)
    try:
        pop.user(user)
        pop.pass_(password)
        count, _ = pop.stat()
        return [b"\r\n".join(pop.retr(i)[1]) for i in range(1, count + 1)]
    finally:
        pop.quit()


def show(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    body = msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")
    head = "\n".join(f"{h}: {header_text(msg[h])}" for h in ("From", "To", "Subject", "Date"))
    return f"{head}\n\n{body.replace(chr(13), '')}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(HERE / "gateway.toml"))
    ap.add_argument("--request", default=str(HERE / "request.eml"))
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="seconds to wait for the result mails (default 300)")
    args = ap.parse_args()
    config = load_config(args.config)
    account = config.accounts[0]
    user = account.senders[0]
    raw = Path(args.request).read_bytes()
    request = parse_request(raw, config.gateway.fax_domain)
    rcpts = [d.address for d in request.destinations]
    smtp, pop3 = config.smtp.listen, config.pop3.listen
    with tempfile.TemporaryDirectory(prefix="faxengine-gateway-") as data:
        cmd = [sys.executable, "-m", "faxengine", "gateway", "--config", args.config,
               "--data-dir", data]
        print("$", " ".join(cmd), flush=True)
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get(
            "PYTHONPATH", ""))
        gateway = subprocess.Popen(cmd, env=env)
        try:
            until = time.monotonic() + 60
            wait_port(smtp.host, smtp.port, until, gateway)
            wait_port(pop3.host, pop3.port, until, gateway)
            with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
                client.sendmail(user, rcpts, raw)
            print(f"sent {args.request} ({len(raw)} octets) from {user} to "
                  f"{', '.join(rcpts)}; waiting for {len(rcpts)} result mail(s)", flush=True)
            until = time.monotonic() + args.timeout
            mails: list[bytes] = []
            while time.monotonic() < until and len(mails) < len(rcpts):
                time.sleep(1)
                mails = fetch(pop3.host, pop3.port, user, account.password)
            for i, mail in enumerate(mails, 1):
                print(f"\n===== result mail {i} of {len(mails)} (POP3 {user}) =====")
                print(show(mail))
            far = Path(data) / "simnet"
            for tif in sorted(far.glob("*/*.tif")):
                print(f"the far end {tif.parent.name} received {tif.name}")
            if len(mails) < len(rcpts):
                print(f"gateway_demo: {len(mails)} of {len(rcpts)} result mails came within "
                      f"{args.timeout:g} s", file=sys.stderr)
                return 1
            return 0
        finally:
            gateway.send_signal(signal.SIGTERM)
            try:
                status = gateway.wait(60)
                print(f"gateway stopped (status {status})")
            except subprocess.TimeoutExpired:
                gateway.kill()
                gateway.wait()
                print("gateway_demo: the gateway did not stop within 60 s: killed",
                      file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
