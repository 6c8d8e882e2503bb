"""Word and Excel to PDF: LibreOffice headless, bounded.

``soffice --headless --convert-to pdf`` runs once per document, with the
import filter of its extension named (``IMPORT_FILTERS``: a damaged file is
refused, not typeset as plain text by LibreOffice's guess), with a user
profile (``-env:UserInstallation``) of its own per worker process: a
temporary directory made on first use and reused by that process (a profile
takes LibreOffice a second or two to create; two instances sharing one
block each other), removed when the process exits; profiles left by processes
that were killed are removed when the next one is made.  Conversions in one
process take turns.

Bounds, so that no document takes the host with it:

* a .docx or .xlsx is a ZIP: before LibreOffice sees it, the members'
  declared sizes are added up (``RenderLimits.max_unzipped``) and their
  packing ratios checked (``max_zip_ratio``), and every member is unpacked
  once as far as its declared size, its CRC-32 checked, so sizes that lie are
  caught too (a ZIP bomb renamed .docx);
* LibreOffice runs in a session of its own under ``RLIMIT_AS``
  (``office_memory``), ``RLIMIT_FSIZE`` (``office_file_size``) and no core
  files, set by util-linux's ``prlimit`` (or, without it, between fork and
  exec); after ``max_seconds`` its process group is killed.
"""
from __future__ import annotations

import atexit
import functools
import io
import multiprocessing.util
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path

from faxengine.gateway.render.common import RenderError, RenderLimits

__all__ = ["IMPORT_FILTERS", "soffice", "check_zip", "to_pdf"]

_ZIP = b"PK\x03\x04"
# the import filter of each extension, named so LibreOffice does not guess:
# a file it cannot read as that type would otherwise be typeset as plain text
IMPORT_FILTERS = {".doc": "MS Word 97", ".docx": "MS Word 2007 XML",
                  ".xls": "MS Excel 97", ".xlsx": "Calc MS Excel 2007 XML"}
_MAX_MEMBERS = 10_000
_BIG_MEMBER = 1 << 20          # ratios are checked for members larger than this
_LOCK = threading.Lock()
_profile: tuple[int, str] | None = None     # (pid, directory)
_PROFILE_PREFIX = "faxengine-soffice-"      # then the process id


def soffice() -> str | None:
    """The LibreOffice program, None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def check_zip(data: bytes, what: str, limits: RenderLimits) -> None:
    """Refuse a ZIP that would unpack to more than the limits allow.

    Raises:
        RenderError: damaged, encrypted, too many members, too large, or a
            member packed more tightly than ``max_zip_ratio``.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            if len(members) > _MAX_MEMBERS:
                raise RenderError(f"{what}: the file holds {len(members)} parts (more than "
                                  f"{_MAX_MEMBERS}); it is not a document that can be faxed")
            total = sum(m.file_size for m in members)
            if total > limits.max_unzipped:
                raise RenderError(f"{what}: the file unpacks to {total:,} bytes, more than "
                                  f"{limits.max_unzipped:,} (a ZIP bomb?); send it as PDF")
            for m in members:
                if m.file_size > _BIG_MEMBER and m.file_size > limits.max_zip_ratio * max(
                        1, m.compress_size):
                    raise RenderError(
                        f"{what}: its part {m.filename} unpacks {m.file_size // max(1, m.compress_size):,}"
                        f" times its size (a ZIP bomb?); send it as PDF")
            # the declared sizes are what a bomb lies about: unpack each member
            # up to its declared size; the CRC-32 at the end checks the rest
            for m in members:
                with zf.open(m) as f:
                    while f.read(1 << 20):
                        pass
    except RenderError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            OSError, EOFError, ValueError) as exc:
        raise RenderError(f"{what}: not an Office file that can be read (a damaged ZIP: "
                          f"{exc}); send it again or as PDF") from None


def _profile_dir() -> str:
    """This process's LibreOffice profile (made on first use)."""
    global _profile
    if _profile is None or _profile[0] != os.getpid():
        _sweep()
        path = tempfile.mkdtemp(prefix=f"{_PROFILE_PREFIX}{os.getpid()}-")
        _profile = (os.getpid(), path)
        # removed at exit: atexit in a main or spawned process; a forked
        # pool worker leaves by os._exit, running only multiprocessing's own
        atexit.register(shutil.rmtree, path, True)
        multiprocessing.util.Finalize(None, shutil.rmtree, args=(path, True), exitpriority=0)
    return _profile[1]


def _sweep() -> None:
    """Remove the profiles of processes that are gone (a pool worker killed
    has no exit handlers run); the directory names carry the process id."""
    for path in Path(tempfile.gettempdir()).glob(f"{_PROFILE_PREFIX}*-*"):
        pid = path.name[len(_PROFILE_PREFIX):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:         # someone else's: alive
        return True
    return True


def to_pdf(data: bytes, name: str, what: str, limits: RenderLimits) -> bytes:
    """Convert a Word or Excel file to PDF with LibreOffice.

    Raises:
        RenderError: LibreOffice missing, the ZIP check, a failed conversion,
            or more than ``max_seconds``.
    """
    program = soffice()
    if program is None:
        raise RenderError(f"{what}: LibreOffice is not installed, so Word and Excel files "
                          "cannot be rendered: install it (apt-get install "
                          "libreoffice-writer-nogui libreoffice-calc-nogui)")
    if data[:4] == _ZIP:
        check_zip(data, what, limits)
    suffix = Path(name).suffix.lower()
    if suffix not in IMPORT_FILTERS:
        suffix = ".docx" if data[:4] == _ZIP else ".doc"
    with _LOCK, tempfile.TemporaryDirectory(prefix="faxengine-render-") as work:
        source = Path(work, "document" + suffix)
        source.write_bytes(data)
        out = Path(work, "out")
        profile = _profile_dir()

        command = [program, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                   "--norestore", "--nolockcheck", "--nodefault",
                   f"--infilter={IMPORT_FILTERS[suffix]}", "--convert-to", "pdf",
                   "--outdir", str(out), str(source)]
        preexec = None
        if prlimit := shutil.which("prlimit"):
            # util-linux sets them and execs: no Python between fork and exec,
            # which a process with threads (the service's) must avoid
            command = [prlimit, f"--as={limits.office_memory}",
                       f"--fsize={limits.office_file_size}", "--core=0", "--", *command]
        else:
            preexec = functools.partial(_set_rlimits, {
                resource.RLIMIT_AS: limits.office_memory,
                resource.RLIMIT_FSIZE: limits.office_file_size, resource.RLIMIT_CORE: 0})
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=preexec, env=dict(os.environ, HOME=profile),
            cwd=work)
        try:
            output, _ = proc.communicate(timeout=limits.max_seconds)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise RenderError(f"{what}: LibreOffice took more than {limits.max_seconds:g} s "
                              "to convert it; send it as PDF") from None
        except BaseException:       # Ctrl-C, cancellation: leave no LibreOffice behind
            _kill(proc)
            raise
        _kill(proc)                 # helpers it may have left in its session
        pdf = out / (source.stem + ".pdf")
        if proc.returncode != 0 or not pdf.is_file():
            said = output.decode("utf-8", "replace").strip().splitlines()
            raise RenderError(f"{what}: LibreOffice could not convert it (exit "
                              f"{proc.returncode}{': ' + said[-1] if said else ''}); "
                              "send it as PDF")
        return pdf.read_bytes()


def _set_rlimits(rlimits: dict[int, int]) -> None:
    """In the child, before exec, when there is no prlimit."""
    for which, value in rlimits.items():
        resource.setrlimit(which, (value, value))


def _kill(proc: subprocess.Popen) -> None:
    """Kill LibreOffice's process group and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
