"""Our Maildirs and POP3 server next to real programs: Dovecot reads the same mailbox
and gives the same messages; fetchmail downloads from our server."""
from __future__ import annotations

import os
import poplib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from _mailio import LoopThread
from test_pop3 import PASSWORD, USER, Server, mail

CONFIG = Path(__file__).resolve().parent / "dovecot" / "dovecot.conf"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
FETCHMAIL = shutil.which("fetchmail")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chown_tree(path: Path, uid: int, gid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), uid, gid)


class Dovecot:
    """A Dovecot master in the foreground, POP3 only, on a free port of 127.0.0.1."""

    def __init__(self, mail_root: Path) -> None:
        # a short base_dir: Dovecot's unix sockets live there (108-octet path limit)
        self.base = Path(tempfile.mkdtemp(prefix="fe-dv-", dir="/tmp"))
        self.base.chmod(0o755)      # Dovecot's users read the passwd file and sockets here
        self.port = free_port()
        if os.geteuid() == 0:       # mails owned by Dovecot's own user, never by root
            user = pwd.getpwnam("dovecot")
            internal, login = "dovecot", "dovenull"
        else:
            user = pwd.getpwuid(os.geteuid())
            internal = login = user.pw_name
        self.uid, self.gid = user.pw_uid, user.pw_gid
        (self.base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (self.base / "passwd").chmod(0o644)
        conf = CONFIG.read_text()
        for key, value in dict(base=self.base, port=self.port, root=mail_root, uid=self.uid,
                               gid=self.gid, internal_user=internal, login_user=login).items():
            conf = conf.replace("{%s}" % key, str(value))
        (self.base / "dovecot.conf").write_text(conf)
        self.mail_root = mail_root
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.base / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read().decode()}"
                                   f"{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port} within 15 s: {self.log()}")

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def give_mail(self) -> None:
        """Dovecot runs the mailbox as its own user: hand it the files."""
        chown_tree(self.mail_root, self.uid, self.gid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc.stderr.close()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def mail_root():
    """The Maildirs, where Dovecot's own user may reach them (pytest's tmp_path is 0700)."""
    top = Path(tempfile.mkdtemp(prefix="fe-mail-", dir="/tmp"))
    top.chmod(0o755)
    yield top / "mail"
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def dovecot(mail_root):
    if not Path(DOVECOT).exists() or not Path("/usr/lib/dovecot/pop3").exists():
        pytest.skip("Dovecot's POP3 server is not installed (apt-get install dovecot-pop3d)")
    d = Dovecot(mail_root)
    yield d
    d.stop()


@pytest.fixture
def ours(mail_root):
    loop = LoopThread()
    s = Server(loop, mail_root)
    yield s
    loop.run(s.pop3.stop())
    loop.close()


def snapshot(port: int) -> dict[bytes, tuple[int, bytes]]:
    """UIDL -> (LIST size, RETR octets) of the maildrop of USER on ``port``."""
    c = poplib.POP3("127.0.0.1", port, timeout=10)
    c.user(USER)
    c.pass_(PASSWORD)
    out = {}
    sizes = dict(line.split() for line in c.list()[1])
    for line in c.uidl()[1]:
        n, uid = line.split()
        lines = c.retr(int(n))[1]
        out[uid] = (int(sizes[n]), b"\r\n".join(lines) + b"\r\n")
    c.quit()
    return out


def test_dovecot_and_ours_serve_the_same_messages(dovecot, ours):
    bodies = [b"body\n", b".a line with a dot\n..two\n", "日本語 ①\n".encode(),
              (b"x" * 900 + b"\n") * 20,
              b"no newline at the end"]
    for n, body in enumerate(bodies):
        ours.store.deliver(USER, mail(n, body), f"key{n}")
    first = snapshot(ours.pop3.port)                 # ours first: new/ moved to cur/
    dovecot.give_mail()
    theirs = snapshot(dovecot.port)
    assert len(first) == len(bodies)
    assert theirs == first
    # the size counts the message as stored; RETR ends an unended last line (both do)
    assert sorted(size - len(data) for size, data in first.values()) == [-2, 0, 0, 0, 0]
    # Dovecot deletes one; a new one arrives: ours sees both changes
    c = poplib.POP3("127.0.0.1", dovecot.port, timeout=10)
    c.user(USER)
    c.pass_(PASSWORD)
    gone = c.uidl(1).split()[2]
    c.dele(1)
    c.quit()
    ours.store.deliver(USER, mail(9), "key9")
    after = snapshot(ours.pop3.port)
    assert gone not in after and len(after) == len(bodies)
    dovecot.give_mail()
    assert snapshot(dovecot.port) == after, dovecot.log()


@pytest.fixture
def fetchmail_bin():
    if FETCHMAIL is None:
        pytest.skip("fetchmail is not installed (apt-get install fetchmail)")
    return FETCHMAIL


def test_fetchmail_downloads_and_deletes(ours, fetchmail_bin, tmp_path):
    for n in range(3):
        ours.store.deliver(USER, mail(n, b"message %d\n" % n), f"k{n}")
    expected = sorted(ours.store.read(m).replace(b"\r\n", b"\n")
                      for m in ours.store.messages(USER))
    out = tmp_path / "fetched"
    out.mkdir()
    rc = tmp_path / "fetchmailrc"
    me = pwd.getpwuid(os.geteuid()).pw_name
    rc.write_text(
        f'set no syslog\n'
        f'poll 127.0.0.1 with proto POP3 port {ours.pop3.port} timeout 20\n'
        f'  user "{USER}" there with password "{PASSWORD}" is "{me}" here\n'
        f"  options fetchall no keep sslproto '' no sslcertck\n"
        f"  mda \"/bin/sh -c 'cat > {out}/msg.$$'\"\n")
    rc.chmod(0o600)
    run = subprocess.run([fetchmail_bin, "-f", str(rc), "-i", str(tmp_path / "ids"), "-v",
                          "--nosyslog"], env=dict(os.environ, HOME=str(tmp_path)),
                         capture_output=True, timeout=60)
    assert run.returncode == 0, run.stdout.decode() + run.stderr.decode()
    fetched = [p.read_bytes() for p in out.iterdir()]
    # fetchmail puts its own trace lines on top; the rest is the message as stored
    assert sorted(f[f.index(b"From: fax_sys"):] for f in fetched) == expected
    assert ours.store.messages(USER) == []      # fetched and deleted at QUIT
