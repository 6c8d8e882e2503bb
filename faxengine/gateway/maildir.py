"""The gateway's mailboxes: one Maildir per registered address, under ``data_dir/mail``.

Result mails are delivered here (``MailboxDelivery``) and read by POP3 (our
``Pop3Server``, or Dovecot pointed at the same root).  The layout is the
Maildir of qmail and Dovecot (https://cr.yp.to/proto/maildir.html)::

    mail/<address>/tmp/   written here first
    mail/<address>/new/   delivered, not yet seen by a POP3 session
    mail/<address>/cur/   seen: ``<unique name>:2,<flags>``

How it works:

* A message is written to ``tmp/``, fsynced, hard-linked into ``new/``, the
  ``tmp/`` name removed and ``new/`` fsynced: once ``deliver`` returns, the
  message survives a crash, and a reader never sees half a message.
* The unique name derives from the caller's ``key`` (the Message-ID of a
  result mail, itself derived from the 明細番号): ``<sha256 of key>.faxengine``,
  then Dovecot's size fields ``,S=<octets>,W=<octets with CRLF line ends>`` so
  a POP3 LIST needs no read.  Delivering the same key again (the outbox retries
  after a crash) finds the message in ``new/`` or ``cur/`` and leaves exactly
  one.  The look-up costs the same in a box of ten or ten thousand messages:
  the name is derived from the key and the octets (the outbox redelivers the
  same octets), so it is asked for by name -- ``new/<name>``, then
  ``cur/<name>:2,<flags>`` for each set of the Maildir flags ``DFPRST`` in
  ASCII order (the spec's rule; 64 names, all of them what Dovecot or a mail
  program may have renamed it to), never a scan of the box.  Dovecot's
  keyword flags (lower-case letters) are not tried: a message a reader tagged
  with one in the seconds between a crash and the redelivery would be
  delivered once more.  A message the user already deleted by POP3 is
  delivered again: the outbox only retries deliveries it never saw finish.
* Messages are stored with LF line ends (the Maildir convention); POP3 sends
  them with CRLF.
* What a crashed delivery left in ``tmp/`` is removed when a POP3 session
  opens the mailbox, once it is ``TMP_MAX_AGE_S`` (36 hours) old.
* The directory name of an address is the address in lower case (addresses are
  compared without case), with every character other than letters, digits and
  ``@ . _ + = -`` written ``%XX`` (UTF-8), and a leading ``.`` too: an address
  with ``/`` or ``..`` never leaves the root.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from faxengine.gateway.errors import GatewayError
from faxengine.gateway.store.files import fsync_dir, write_synced

__all__ = ["MailStore", "Message", "MaildirError", "mailbox_name", "TMP_MAX_AGE_S"]

_SAFE = re.compile(rb"[a-z0-9@._+=-]")
_SUFFIX = ".faxengine"
_SIZES = re.compile(r",S=(\d+)(?:,W=(\d+))?")
TMP_MAX_AGE_S = 36 * 3600   # what a crashed delivery left in tmp/ is removed after this
# every info a reader may give a message in cur/: "2," and the flags in ASCII order
# (https://cr.yp.to/proto/maildir.html), fewest flags first: "" and "S" are the usual
_INFOS = tuple(":2," + "".join(f for i, f in enumerate("DFPRST") if m >> i & 1)
               for m in sorted(range(64), key=lambda m: (bin(m).count("1"), m)))


class MaildirError(GatewayError):
    """A mailbox cannot be written or read (disk full, permissions, a bad address)."""


class MessageGone(MaildirError):
    """A message listed in a session was deleted meanwhile by another reader of
    the Maildir (Dovecot, a Maildir tool): it will not come back, unlike a read
    that failed for want of disk or memory."""


def mailbox_name(address: str) -> str:
    """The directory name of ``address``'s mailbox (see the module's docstring)."""
    address = address.strip().lower()
    if not address:
        raise MaildirError("an empty address has no mailbox; give the registered sender address")
    out = []
    for i, byte in enumerate(address.encode("utf-8", "surrogateescape")):
        char = bytes([byte])
        if _SAFE.fullmatch(char) and not (i == 0 and char == b"."):
            out.append(char.decode())
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Message:
    """A message of a mailbox as POP3 sees it.

    Attributes:
        uid: its Maildir unique name (the file name up to ``:``), stable across
            sessions and moves: the POP3 UIDL.
        path: where the file is now.
        size: octets with CRLF line ends (what POP3 LIST says and RETR sends).
    """

    uid: str
    path: Path
    size: int


def _crlf_size(data: bytes) -> int:
    return len(data) + data.count(b"\n") - data.count(b"\r\n")


class MailStore:
    """The Maildirs under ``root`` (``data_dir/mail``), one per address.

    Thread-safe: every operation is a few system calls on files whose names
    never clash (``deliver`` of one key from two threads leaves one message).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def mailbox(self, address: str) -> Path:
        """The Maildir of ``address`` (made, with ``cur new tmp``, if missing)."""
        box = self.root / mailbox_name(address)
        try:
            for sub in ("cur", "new", "tmp"):
                (box / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MaildirError(f"cannot make the mailbox {box}: {exc.strerror}; "
                               f"check that {self.root} is writable") from exc
        return box

    def deliver(self, address: str, raw: bytes, key: str) -> Path:
        """Put ``raw`` into ``address``'s mailbox once per ``key``; durable when it returns.

        Args:
            address: the mailbox's address (a registered sender).
            raw: the message (CRLF or LF line ends; stored with LF).
            key: what makes it the same message (its Message-ID): delivering a
                key that is already in ``new/`` or ``cur/`` returns that file.

        Returns:
            The path of the message in ``new/`` (or where it already is).

        Raises:
            MaildirError: the mailbox cannot be written.
        """
        if not isinstance(raw, (bytes, bytearray)):
            raise TypeError(f"raw must be bytes, not {type(raw).__name__}")
        box = self.mailbox(address)
        data = bytes(raw).replace(b"\r\n", b"\n")
        base = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:40] + _SUFFIX
        name = f"{base},S={len(data)},W={_crlf_size(data)}"
        found = self._delivered(box, name)
        if found is not None:
            return found
        # tmp/ names unique per writer (Maildir: pid and a counter), so two
        # threads delivering one key never share a half-written file
        tmp = box / "tmp" / f"{name}.P{os.getpid()}T{threading.get_ident()}"
        new = box / "new" / name
        try:
            write_synced(tmp, data)
            try:
                os.link(tmp, new)
            except FileExistsError:
                pass                # another thread delivered the same key just now
            os.unlink(tmp)
            fsync_dir(box / "new")
        except OSError as exc:
            raise MaildirError(f"cannot deliver to {box}: {exc.strerror}; "
                               f"check the disk and the permissions of {self.root}") from exc
        return new

    @staticmethod
    def _delivered(box: Path, name: str) -> Path | None:
        """Where the message ``name`` is when it was delivered already: by name in
        ``new/``, then in ``cur/`` under each info a reader may have given it
        (at most 65 look-ups whatever the size of the box)."""
        new = os.path.join(box, "new", name)
        if os.path.lexists(new):
            return Path(new)
        cur = os.path.join(box, "cur", name)         # strings: no Path per look-up
        for info in _INFOS:
            if os.path.lexists(cur + info):
                return Path(cur + info)
        return None

    def messages(self, address: str) -> list[Message]:
        """The messages of ``address``'s mailbox, oldest first, after moving ``new/``
        to ``cur/`` (what a POP3 session does when it opens the mailbox)."""
        box = self.mailbox(address)
        self._clean_tmp(box)
        try:
            with os.scandir(box / "new") as entries:
                fresh = [e.name for e in entries if not e.name.startswith(".")]
            for name in fresh:
                try:
                    os.rename(box / "new" / name, box / "cur" / f"{name}:2,")
                except FileNotFoundError:
                    pass            # another reader (Dovecot) moved it first
            if fresh:
                fsync_dir(box / "cur")
            with os.scandir(box / "cur") as entries:
                names = [e.name for e in entries if not e.name.startswith(".")]
            found = []
            for name in names:
                path = box / "cur" / name
                try:
                    info = os.stat(path)
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    size = self._size(name, path)
                except FileNotFoundError:
                    # another reader of the Maildir (Dovecot, a POP3 session that
                    # just ended with QUIT) deleted it after the scan: not listed
                    continue
                found.append((info.st_mtime_ns, name, path, size))
        except OSError as exc:
            raise MaildirError(f"cannot read the mailbox {box}: {exc.strerror}") from exc
        found.sort()
        return [Message(name.partition(":")[0], path, size) for _, name, path, size in found]

    @staticmethod
    def _clean_tmp(box: Path) -> None:
        """Remove what a delivery that crashed left in ``tmp/``: files not touched for
        36 hours (the Maildir rule; a delivery in progress is seconds old)."""
        old = time.time() - TMP_MAX_AGE_S
        try:
            with os.scandir(box / "tmp") as entries:
                for entry in entries:
                    if entry.is_file() and entry.stat().st_mtime < old:
                        os.unlink(entry.path)
        except OSError:
            pass                    # only housekeeping: the next session tries again

    @staticmethod
    def _size(name: str, path: Path) -> int:
        m = _SIZES.search(name.partition(":")[0])
        if m and m.group(2):
            return int(m.group(2))
        return _crlf_size(path.read_bytes())

    @staticmethod
    def _moved(message: Message) -> Path | None:
        """Where ``message`` is now when it is no longer at ``message.path``: another
        reader of the Maildir (Dovecot, a mail program) renames a message to set
        its flags (``cur/<uid>:2,S`` once seen) or moves it from ``new/``; the
        unique name before ``:`` stays (Maildir's rule).  None if it is gone."""
        box = message.path.parent.parent
        for sub in ("cur", "new"):
            try:
                with os.scandir(box / sub) as entries:
                    for entry in entries:
                        if entry.name.partition(":")[0] == message.uid:
                            return Path(entry.path)
            except OSError:
                continue
        return None

    @classmethod
    def read(cls, message: Message) -> bytes:
        """The octets of ``message`` with CRLF line ends (raises ``MaildirError`` if gone)."""
        try:
            data = message.path.read_bytes()
        except FileNotFoundError as exc:
            moved = cls._moved(message)
            try:
                if moved is None:
                    raise exc
                data = moved.read_bytes()
            except FileNotFoundError as again:
                raise MessageGone(f"message {message.uid} is gone: {again.strerror}") \
                    from again
            except OSError as again:
                raise MaildirError(f"message {message.uid} is gone: {again.strerror}") \
                    from again
        except OSError as exc:
            raise MaildirError(f"message {message.uid} is gone: {exc.strerror}") from exc
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    @classmethod
    def remove(cls, messages: list[Message]) -> list[Message]:
        """Delete ``messages``; returns those that could not be removed (already gone
        counts as removed; one renamed meanwhile by another reader is removed
        where it is now, else a client that deleted it would get it again)."""
        failed = []
        dirs = set()
        for message in messages:
            path: Path | None = message.path
            try:
                try:
                    path.unlink()
                except FileNotFoundError:
                    path = cls._moved(message)
                    if path is not None:
                        path.unlink(missing_ok=True)
            except OSError:
                failed.append(message)
            dirs.add((path or message.path).parent)
        for d in dirs:
            try:
                fsync_dir(d)
            except OSError:
                pass
        return failed
