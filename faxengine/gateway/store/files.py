"""Files that must survive a crash: written whole or not at all, and on the disk.

``write_durably`` is the classic sequence (as Maildir delivery and
PostgreSQL's own files do it): write a temporary file in the same directory,
``fsync`` it, ``rename`` it over the final name (atomic on POSIX), then
``fsync`` the directory so that the new name itself is on the disk.  After a
crash the file is either absent or complete, never a prefix.

``write_synced`` is its first half, shared with the Maildir delivery (which
links into ``new/`` instead of renaming): a new file written whole and
fsynced, removed again if that fails; the caller then gives it its final name
and fsyncs that directory (``fsync_dir``).
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

__all__ = ["write_durably", "write_synced", "fsync_dir", "remove_stale_temporaries"]

TEMP_SUFFIX = ".tmp"


def fsync_dir(directory: Path) -> None:
    """Make the names in ``directory`` durable (POSIX: fsync of the directory)."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to the file ``path`` (made or truncated, mode 0600) and fsync
    it: its octets are on the disk when this returns, its name not yet (fsync
    the directory once the file has its final name).  On failure the file is
    removed and the error raised."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:                 # os.write may write less than asked
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that after a crash it is all there or not at all."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}{TEMP_SUFFIX}")
    write_synced(tmp, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def remove_stale_temporaries(directory: Path, older_than_s: float = 3600.0) -> int:
    """Remove temporaries a crash left in ``directory`` (only old ones: another
    process may be writing a young one right now).  Returns how many."""
    removed, limit = 0, time.time() - older_than_s
    for p in directory.glob(f".*{TEMP_SUFFIX}"):
        try:
            if p.stat().st_mtime < limit:
                p.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed
