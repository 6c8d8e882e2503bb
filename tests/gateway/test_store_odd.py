"""The store when its disk is full or its database file cannot be opened."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from faxengine.gateway.store import Store, StoreError

CHILD = textwrap.dedent("""
    import resource, signal, sys
    from datetime import datetime, timezone
    from faxengine.gateway.store import Store, StoreError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # EFBIG instead of a kill
    store = Store.open("", sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
    now = datetime.now(timezone.utc)
    try:
        store.accept(b"From: a@b\\r\\n\\r\\n" + b"x" * 300_000, "a@b", ["1@x"], now)
        print("stored")
    except StoreError as exc:
        print(exc)
    print(store.accept(b"small", "a@b", ["1@x"], now))
    print([r.seq for r in store.unexpanded()])
    store.close()
""")


def test_a_full_disk_is_a_clear_error_and_nothing_half_written(tmp_path: Path):
    """The spool file cannot be written (here: RLIMIT_FSIZE, EFBIG, as a full disk's
    ENOSPC): StoreError saying what to check, no row, no temporary; the next
    mail that fits is stored under the same number."""
    Store.open("", tmp_path).close()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env, timeout=60,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"cannot write the spool file {tmp_path}/spool/1.eml (File too large); check the "
        f"disk space and permissions of {tmp_path}/spool", "1", "[1]"]
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == ["1.eml"]
    assert (tmp_path / "spool" / "1.eml").read_bytes() == b"small"


def test_a_sqlite_file_that_cannot_be_opened_says_what_to_check_not_a_password(tmp_path):
    (tmp_path / "gateway.sqlite3").mkdir()          # as a read-only file system would
    with pytest.raises(StoreError) as err:
        Store.open("", tmp_path)
    assert str(err.value) == (
        f"database sqlite:///{tmp_path}/gateway.sqlite3: unable "
        f"to open database file; check that the file is a database and that it and "
        f"{tmp_path} can be written (not read-only, space left)")
