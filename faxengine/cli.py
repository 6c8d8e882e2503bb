"""The ``faxengine`` command.

Subcommands grow with the layers: ``demo`` shows the image codec on a
document (each page described, each coding's size, ratio and speed, and a
TIFF-F file written); ``loopback`` faxes a document between two of our
terminals through the line model; ``send``, ``receive`` and ``gateway``
follow with the media and gateway layers.

A document is any mix of files (loaded by ``faxengine.t4.document``): bilevel TIFFs whose pages are already fax
pages (a fax resolution and line width, T.4 §2.2) are sent pel for pel;
every other page (a PNG, a JPEG, a greyscale or colour TIFF, a scan at 300
dpi 2480 pels wide) is scaled to the fax line by ``Page.from_pil`` at
``--resolution``, by a threshold or, with ``--dither``, by error diffusion.

What a user sees: every failure is one line on stderr, ``faxengine: FILE:
what was wrong``, never a traceback.  Exit status: 0 done, 1 the call or the
check failed, 2 bad input or arguments, 3 a bug (the traceback with
``FAXENGINE_TRACEBACK=1``), 130 interrupted (Ctrl-C: a call
hangs up with DCN first, and the receiver's file keeps the pages it had
confirmed).
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import faxengine
from faxengine.errors import FaxError
from faxengine.media.progress import PageBar
from faxengine.t4.document import InputError, LoadedPage, load_document
from faxengine.t4.document import os_error as _os_error
from faxengine.t4.document import plural as _plural
from faxengine.t4.document import size as _size

# after Ctrl-C the call has this much line time to hang up (DCN both ways)
# before the command gives up on it
HANG_UP_SECONDS = 10.0
def _describe(pages: list[LoadedPage]) -> None:
    raw_bits = sum(p.page.width * p.page.height for p in pages)
    print(f"{_plural(len(pages), 'page')}, {raw_bits // 8} bytes unpacked")
    for i, p in enumerate(pages, 1):
        page = p.page
        name = page.resolution
        dpi = f"{page.x_res:g} x {page.y_res:g} dpi" + ("" if name.isdigit() else f" ({name})")
        print(f"page {i}: {p.source}: {_size(page.width, page.height)}, {dpi}, {page.paper};"
              f" {p.how}")


def _cmd_demo(args: argparse.Namespace) -> int:
    from faxengine import t4, tiff

    out = _output(args.out) if args.out else None
    loaded = load_document(args.files, args.resolution, args.dither)
    pages = [p.page for p in loaded]
    _describe(loaded)
    raw_bits = sum(p.width * p.height for p in pages)
    print(f"{'coding':<8}{'bytes':>10}{'ratio':>9}{'encode ms':>11}{'decode ms':>11}  check")
    for coding in ("mh", "mr", "mmr"):
        size = enc_s = dec_s = 0.0
        same = True
        for page in pages:
            t0 = time.perf_counter()
            data = t4.encode(page.image, coding, k=page.mr_k if coding == "mr" else None)
            t1 = time.perf_counter()
            back = t4.decode(data, page.width, coding, height=page.height)
            t2 = time.perf_counter()
            size += len(data)
            enc_s += t1 - t0
            dec_s += t2 - t1
            same &= back.shape == page.image.shape and bool((back == page.image).all())
        print(f"{coding:<8}{int(size):>10}{raw_bits / 8 / size:>8.1f}x"
              f"{enc_s * 1e3:>11.2f}{dec_s * 1e3:>11.2f}  {'pixels equal' if same else 'MISMATCH'}")
        if not same:
            return 1
    if out is not None:
        try:
            tiff.write(out, pages, coding=args.coding)
        except OSError as exc:
            raise InputError(f"{out}: cannot write it: {exc.strerror or exc}") from None
        print(f"wrote {out} ({out.stat().st_size} bytes, TIFF Class F, {args.coding.upper()})")
    return 0


def _output(name: str) -> Path:
    """The path of an output file, its folder made; refused before any work when unusable."""
    out = Path(name)
    if out.is_dir():
        raise InputError(f"{out}: is a folder; --out takes a file name")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot make its folder: {exc.strerror or exc}") from None
    existed = out.exists()
    try:
        with open(out, "ab"):           # can it be written? (appending changes nothing)
            pass
    except OSError as exc:
        raise InputError(f"{out}: cannot write it: {exc.strerror or exc}") from None
    if not existed:
        out.unlink()
    return out


class _TraceFormatter(logging.Formatter):
    """``-v``: each line says which terminal wrote it (the last part of its logger's name)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.name.rsplit('.', 1)[-1]}: {record.getMessage()}"


class _TraceHandler(logging.StreamHandler):
    """``-v``: the trace on stdout.  When its reader goes away (``| head``)
    the trace falls silent and the call goes on; ``broken`` tells the command."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self.setFormatter(_TraceFormatter())
        self.broken = False

    def handleError(self, record: logging.LogRecord) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            self.broken = True
            _silence_stdout()
            return
        super().handleError(record)


def _silence_stdout() -> None:
    """The reader of stdout went away: what is still written goes nowhere."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _show_trace() -> _TraceHandler:
    handler = _TraceHandler()
    log = logging.getLogger("faxengine")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


class _HangUpOnInterrupt:
    """Ctrl-C during a call: both terminals hang up (``abort``: DCN, the
    receiver closes its file) at the next block boundary, and the call is
    pumped at most ``HANG_UP_SECONDS`` longer.  A second Ctrl-C quits at once."""

    def __init__(self, call) -> None:
        self.call = call
        self.interrupted = False
        self.blocks_left = None
        self._previous = None

    def __enter__(self) -> "_HangUpOnInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum, frame) -> None:
        self.interrupted = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def check(self) -> None:
        """Called after each block of the call, where the terminals are consistent."""
        if not self.interrupted:
            return
        from faxengine.loopback import BLOCK

        if self.blocks_left is None:
            if sys.stderr.isatty():
                print(file=sys.stderr)          # below the progress bar
            print("faxengine: interrupted, hanging up", file=sys.stderr, flush=True)
            self.call.sender.abort()
            self.call.receiver.abort()
            self.blocks_left = int(HANG_UP_SECONDS * 8000) // BLOCK
        self.blocks_left -= 1
        if self.blocks_left < 0:
            raise KeyboardInterrupt


def _cmd_loopback(args: argparse.Namespace) -> int:
    """Two of our terminals back to back through the line model."""
    from faxengine.loopback import Loopback

    pages = [p.page for p in load_document(args.files, args.resolution, args.dither)]
    out = _output(args.out)
    trace = _show_trace() if args.verbose else None
    call = Loopback(pages, out, ecm=args.ecm, rate=args.rate, snr_db=args.snr, g711=args.g711)
    bar = None if args.verbose else PageBar()
    with _HangUpOnInterrupt(call) as stop:

        def on_block(sender) -> None:
            stop.check()
            if bar is not None:
                bar(sender)

        outcome = call.run(on_block)
    if bar is not None:
        bar.end()
    for who, r in (("sender", outcome.sender), ("receiver", outcome.receiver)):
        detail = (f", {r.bit_rate} bit/s, {r.coding.upper()}, {'ECM' if r.ecm else 'no ECM'}"
                  if r.coding else "")
        print(f"{who}: {r.code} -- {r.message}; {_plural(r.pages, 'page')}{detail}")
    print(f"line time {outcome.line_seconds:.1f} s, CPU {outcome.cpu_seconds:.2f} s "
          f"({outcome.realtime_factor:.0f}x real time)")
    if trace is not None and trace.broken:
        return 141
    if stop.interrupted:
        if outcome.receiver.pages:
            print(f"wrote {out} ({_plural(outcome.receiver.pages, 'page')} before the interrupt)")
        return 130
    if outcome.ok:
        print(f"wrote {out}")
    return 0 if outcome.ok else 1


def _snr(text: str) -> float:
    """``--snr``: a finite number of dB (NaN or infinity is no noise level)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -30.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(
            f"the SNR must be a finite number of dB from -30 to 100, not {text!r}")
    return value


# Commands whose parser and code live with their layer; ``main`` hands them
# their arguments whole (name -> "module:function" taking argv, returning the
# exit status; the help line).
DELEGATED: dict[str, tuple[str, str]] = {
    "send": ("faxengine.media.commands:send_main",
             "fax a document over SIP (--to sip:NUMBER@HOST) or a sound card "
             "(--device N)"),
    "receive": ("faxengine.media.commands:receive_main",
                "answer fax calls over SIP (--listen HOST:PORT) or a sound card "
                "(--device N); --out DIR"),
    "t38gateway": ("faxengine.media.commands:t38gateway_main",
                   "a SIP T.38 gateway: audio on one leg, T.38 on the other (--to sip:...)"),
    "decode": ("faxengine.media.analyser.cli:main",
               "report what happened in a recording of a fax call (WAV): frames, bursts, pages"),
    "devices": ("faxengine.media.soundcard:devices_main",
                "list the sound cards that --device N can use (PyAudio)"),
    "gateway": ("faxengine.gateway.service:main",
                "run the mail-to-fax gateway (--config gateway.toml; --check to validate it)"),
}


def _run_delegated(argv: list[str]) -> int:
    import importlib

    module, _, function = DELEGATED[argv[0]][0].partition(":")
    return getattr(importlib.import_module(module), function)(argv[1:])


def build_parser() -> argparse.ArgumentParser:
    from faxengine.t4 import RESOLUTIONS

    parser = argparse.ArgumentParser(prog="faxengine", description=__doc__.splitlines()[0].replace("``", ""))
    parser.add_argument("--version", action="version",
                        version=f"faxengine {faxengine.__version__}")
    document = argparse.ArgumentParser(add_help=False)
    document.add_argument("files", nargs="+", metavar="FILE",
                          help="TIFF files or pictures (PNG, JPEG, PBM, ...), in order")
    document.add_argument("--resolution", choices=list(RESOLUTIONS), default="fine",
                          help="resolution of pages made from pictures and scans that are not "
                               "fax pages already (default: fine)")
    document.add_argument("--dither", action="store_true",
                          help="error diffusion instead of a threshold: for photographs")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", parents=[document],
                          help="code a document in MH, MR and MMR and write TIFF-F")
    demo.add_argument("--out", help="write the pages as a TIFF-F file here")
    demo.add_argument("--coding", choices=("mh", "mr", "mmr"), default="mmr",
                      help="coding of the TIFF-F file (default: mmr)")
    demo.set_defaults(func=_cmd_demo)
    loop = sub.add_parser("loopback", parents=[document],
                          help="fax a document between two terminals back to back")
    loop.add_argument("--out", required=True, help="the TIFF-F file the receiver writes")
    loop.add_argument("--ecm", action=argparse.BooleanOptionalAction, default=True,
                      help="use error correction mode (default: on)")
    loop.add_argument("--rate", type=int, default=14400,
                      choices=(14400, 12000, 9600, 7200, 4800, 2400),
                      help="highest image rate in bit/s (default: 14400)")
    loop.add_argument("--snr", type=_snr, metavar="DB", help="add white noise at this SNR")
    loop.add_argument("--g711", choices=("alaw", "ulaw"), help="pass the line through G.711")
    loop.add_argument("-v", "--verbose", action="store_true",
                      help="print the T.30 trace, each line led by the terminal that wrote it")
    loop.set_defaults(func=_cmd_loopback)
    for name, (_, help_text) in DELEGATED.items():     # listed here, parsed by their module
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in DELEGATED:
            return _run_delegated(argv)
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SystemExit as exc:
        # argparse's usage errors (2), --help and --version (0): a status to
        # return, so main() can be called as a function too
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    except KeyboardInterrupt:
        print("faxengine: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``faxengine demo x.png | head -1``): stop quietly
        _silence_stdout()
        return 141
    except FaxError as exc:
        print(f"faxengine: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"faxengine: {_os_error(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("faxengine: out of memory", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line; the traceback on request
        if os.environ.get("FAXENGINE_TRACEBACK"):
            raise
        print(f"faxengine: internal error: {type(exc).__name__}: {exc} (please report it;"
              " FAXENGINE_TRACEBACK=1 shows where)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
