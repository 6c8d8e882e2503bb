"""``faxengine send`` and ``faxengine receive`` over SIP or a sound card:
``send_main`` and ``receive_main``.

    faxengine send FILE... --to sip:NUMBER@HOST[:PORT] [--from sip:us@host]
        [--user U --password P] [--register sip:registrar] [--ecm/--no-ecm]
        [--codec pcmu|pcma] [--record call.wav] [--jitter-ms MS] [--json]
    faxengine send FILE... --device N [--ecm/--no-ecm] [--json]
    faxengine receive --listen HOST:PORT --out DIR [--once | --calls N]
        [--user U] [--password P] [--register sip:registrar] [--record-dir DIR]
        [--jitter-ms MS] [--json]
    faxengine receive --device N --out DIR [--ecm/--no-ecm] [--json]
    faxengine t38gateway --to sip:NUMBER@HOST[:PORT] [--listen HOST:PORT]
        [--t38-leg auto|incoming|outgoing] [--ecm/--no-ecm] [--suppress-nsx/--no-suppress-nsx]
        [--once | --calls N] [--jitter-ms MS] [--json]

``send`` shows a progress bar per page on a terminal (one line per page
sent when stderr is not one) and ends with the result line, or the result
as JSON with ``--json``.  ``receive`` answers every INVITE (only those for
``--user`` when given), writes one multi-page TIFF-F file per call into
``--out`` and prints a line per call (a JSON object with ``--json``);
``--once`` exits after one call, ``--calls N`` after N.  The exit status is
0 only when every fax went through.  Both return the status, so the
``faxengine`` command can hand them its arguments.

``--device N`` (instead of ``--to`` / ``--listen``) puts the fax through
sound card N (``faxengine devices`` lists them) with PyAudio: the card's
captured buffers pace the call (``faxengine.media.soundcard.run``), the
terminal is the one a SIP call would use, and the progress bar, result line,
``--json`` and exit status are the same; ``receive --device`` takes one call
and writes one TIFF-F file.  There is no SIP on a card, so the result line
names the card and its counters instead of SIP and RTP.

``t38gateway`` is the SIP T.38 gateway (``faxengine.media.t38gateway_call``):
every INVITE to ``--listen`` (default 127.0.0.1:5060) is put through to
``--to`` with one leg in G.711 audio and the other in T.38, and a line per
call says how it ended (a JSON object with ``--json``).

``CARD_OPTIONS`` is the hook tests use: keyword arguments given to every
``SoundCard`` these commands open (a fake PyAudio as ``pyaudio=``, a long
``late`` for a test's clock).  Users never need it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from faxengine.errors import FaxError
from faxengine.media.call import CallResult, FaxReceiver, SipEndpoint, send_fax
from faxengine.media.t38call import DEFAULT_PARAMS
from faxengine.media.sip.message import Uri
from faxengine.media.progress import PageBar
from faxengine.t30.result import Result
from faxengine.t30.terminal import FaxTerminal

__all__ = ["CARD_OPTIONS", "CardResult", "ResultLines", "receive_main", "send_main",
           "t38gateway_main"]

CARD_OPTIONS: dict[str, Any] = {}   # extra SoundCard(...) arguments: tests only (see above)


def _documents(files: list[str]) -> list[Any]:
    """The document's pages, loaded as every command loads them (faxengine.t4.document:
    fax TIFF pages pel for pel, other pictures scaled to the fax line at fine
    resolution); a refusal is an InputError naming the file."""
    from faxengine.t4.document import load_document

    return [loaded.page for loaded in load_document(files, "fine", False)]


def _local_host(target: Uri) -> str:
    """The address of our interface that routes to ``target`` (no packet is sent)."""
    host, port = target.address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, port))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def _fax_words(who: str, f: Result) -> str:
    """The result line's start, the same over SIP and a card: code, message, pages, mode."""
    detail = (f", {f.bit_rate} bit/s, {f.coding.upper()}, {'ECM' if f.ecm else 'no ECM'}"
              if f.coding else "")
    from faxengine.t4.document import plural

    return f"{who}: {f.code} -- {f.message}; {plural(f.pages, 'page')}{detail}"


def _line(who: str, r: CallResult) -> str:
    out = f"{_fax_words(who, r.fax)}; SIP {r.sip_status} {r.sip_reason}"
    if r.rtp is not None:
        s = r.rtp
        out += (f"; {r.codec}, RTP sent {s.sent} received {s.received} lost {s.lost} "
                f"late {s.late}, jitter {s.jitter_ms:.1f} ms")
    if r.udptl is not None:
        u = r.udptl
        out += (f"; T.38, UDPTL sent {u.sent} received {u.received} lost {u.lost} "
                f"recovered {u.recovered}")
    elif r.t38_refused:
        out += f"; T.38 refused ({r.t38_refused}), fax in audio"
    if r.path:
        out += f"; wrote {r.path}"
    return out


@dataclass
class CardResult:
    """How one fax call through a sound card went (``--device``).

    Attributes:
        fax: the terminal's ``Result`` (``fax.ok``: the document went through).
        device: the PortAudio device index.
        rate: the rate the card was opened at (8000, or its own, resampled).
        line_seconds: line time the pump ran.
        card: the card's counters (``SoundCardStats``: late blocks, overruns ...).
        path: the TIFF-F file a receiver wrote, else None.
    """

    fax: Result
    device: int
    rate: int
    line_seconds: float
    card: Any
    path: str | None = None

    @property
    def ok(self) -> bool:
        return self.fax.ok

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for ``--json``), keyed as ``CallResult.as_dict``."""
        return {**asdict(self), "ok": self.ok}

    def line(self, who: str) -> str:
        """The result line: the fax, then the card and what went wrong on it."""
        c = self.card
        out = (f"{_fax_words(who, self.fax)}; sound card {self.device} at {self.rate} "
               f"samples/s, late {c.late} overruns in {c.input_overruns} out "
               f"{c.output_overruns} underruns {c.output_underruns}")
        return out + (f"; wrote {self.path}" if self.path else "")


def _card_call(terminal: FaxTerminal, device: int, progress: Any = None) -> CardResult:
    """Run ``terminal`` through sound card ``device`` until the call ends.

    Raises:
        SoundCardError: PyAudio is missing, the card cannot be opened, or it
            stopped delivering audio (the terminal is aborted first).
    """
    from faxengine.media.soundcard import SoundCard, run

    with SoundCard(device, **CARD_OPTIONS) as card:
        seconds = run(terminal, card,
                      on_block=None if progress is None else lambda: progress(terminal))
    return CardResult(terminal.result, device, card.rate, seconds, card.stats)


def _device(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"--device takes a card's number (faxengine devices "
                                         f"lists them), not {text!r}")
    return int(text)


def _one_of(sip: str | None, device: int | None, sip_option: str) -> None:
    """Refuse both or neither of the SIP option and ``--device`` (a usage error, status 2)."""
    if (sip is None) == (device is None):
        raise ValueError(f"give {sip_option} (a SIP call) or --device N (a sound card), "
                         f"{'not both' if device is not None else 'one of them'}")


def _send_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="faxengine send",
                                description="send a fax over SIP or through a sound card")
    p.add_argument("files", nargs="+", help="TIFF files or images (PNG, JPEG, PBM, ...)")
    p.add_argument("--to", help="sip:NUMBER@HOST[:PORT]")
    p.add_argument("--device", type=_device, metavar="N",
                   help="send through sound card N instead of SIP (faxengine devices)")
    p.add_argument("--from", dest="from_", help="sip:us@host: our user (default: faxengine)")
    p.add_argument("--local", help="our address for SIP and RTP (default: the one that "
                                   "routes to --to)")
    p.add_argument("--user", help="user name for digest authentication")
    p.add_argument("--password", help="password for digest authentication")
    p.add_argument("--register", metavar="URI", help="register at this registrar first")
    p.add_argument("--ecm", action=argparse.BooleanOptionalAction, default=True,
                   help="use error correction mode (default: on)")
    p.add_argument("--codec", choices=("pcmu", "pcma"), default="pcmu",
                   help="the G.711 law to offer first (default: pcmu)")
    p.add_argument("--record", metavar="WAV", help="record the call (stereo: sent, heard)")
    _common(p)
    return p


def send_main(argv: list[str] | None = None) -> int:
    """``faxengine send``: 0 when the fax went through, 1 when not, 2 on a usage error."""
    args = _send_parser().parse_args(argv)
    bar = None if args.json else PageBar()
    try:
        _one_of(args.to, args.device, "--to sip:NUMBER@HOST")
        _sip_only(args)
        if args.device is not None:
            terminal = FaxTerminal(True, send=_documents(args.files), ecm=args.ecm)
            result: CallResult | CardResult = _card_call(terminal, args.device, bar)
        else:
            target = Uri.parse(args.to)
            from_user = Uri.parse(args.from_).user or "faxengine" if args.from_ else "faxengine"
            host = args.local or _local_host(target)
            result = asyncio.run(send_fax(
                _documents(args.files), args.to, local=(host, 0), ecm=args.ecm,
                codec_name=args.codec.upper(), username=args.user, password=args.password,
                from_user=from_user, register=args.register, record=args.record, progress=bar,
                jitter_delay=args.jitter_ms / 1000, t38=args.t38))
    except (FaxError, OSError, ValueError) as exc:
        if bar is not None:
            bar.end()
        print(f"faxengine send: {exc}", file=sys.stderr)
        return 2
    if bar is not None:
        bar.end()
    print(json.dumps(result.as_dict()) if args.json else _result_line("sent", result),
          flush=True)
    return 0 if result.ok else 1


def _result_line(who: str, result: CallResult | CardResult) -> str:
    return result.line(who) if isinstance(result, CardResult) else _line(who, result)


def _receive_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="faxengine receive",
                                description="receive faxes over SIP or through a sound card")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="where to take INVITEs (port 0: any free one, printed)")
    p.add_argument("--device", type=_device, metavar="N",
                   help="take one call on sound card N instead of SIP (faxengine devices)")
    p.add_argument("--out", required=True, metavar="DIR", help="one TIFF-F file per call here")
    ends = p.add_mutually_exclusive_group()
    ends.add_argument("--once", action="store_true", help="exit after one call, with its status")
    ends.add_argument("--calls", type=int, metavar="N", help="exit after N calls")
    p.add_argument("--user", help="answer only calls for this user (others get 404); "
                                  "also the user name to register")
    p.add_argument("--password", help="password for digest authentication")
    p.add_argument("--register", metavar="URI", help="register at this registrar first")
    p.add_argument("--ecm", action=argparse.BooleanOptionalAction, default=True,
                   help="offer error correction mode (default: on)")
    p.add_argument("--record-dir", metavar="DIR", help="record each call as a stereo WAV here")
    _common(p)
    return p


def _jitter_ms(text: str) -> int:
    if not text.isdigit() or not 20 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"the jitter buffer takes 20 to 1000 ms, not {text!r}")
    return int(text)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--t38", action=argparse.BooleanOptionalAction, default=None,
                   help="T.38 fax over IP (SIP only): --t38 re-INVITEs to T.38 itself, "
                        "--no-t38 keeps audio and answers a T.38 offer 488 (default: "
                        "take T.38 when the other end offers it)")
    p.add_argument("--jitter-ms", type=_jitter_ms, default=60, metavar="MS",
                   help="the jitter buffer's delay, 20 to 1000 ms (default: 60)")
    p.add_argument("--json", action="store_true", help="print the result(s) as JSON")


def _sip_only(args: argparse.Namespace) -> None:
    if args.device is not None and args.t38 is not None:
        raise ValueError("--t38/--no-t38 are for SIP calls; a sound card call is audio")


def _listen_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--listen takes HOST:PORT (e.g. 127.0.0.1:5060), not {text!r}")
    return host.strip("[]"), int(port)


async def _receive(args: argparse.Namespace) -> list[CallResult]:
    endpoint = await SipEndpoint.open(_listen_address(args.listen), user=args.user or "fax",
                                      username=args.user, password=args.password,
                                      t38=None if args.t38 is False else DEFAULT_PARAMS)
    try:
        if args.register:
            await endpoint.register(args.register)
        host, port = endpoint.sip.local
        print(f"listening on sip:{args.user or 'fax'}@{host}:{port}", flush=True)
        receiver = FaxReceiver(endpoint, args.out, user=args.user, ecm=args.ecm,
                               record_dir=args.record_dir, jitter_delay=args.jitter_ms / 1000,
                               t38=args.t38)

        lines = ResultLines()

        def show(result: CallResult) -> None:
            lines.write(json.dumps(result.as_dict()) if args.json else _line("received", result))

        try:
            return await receiver.serve(show, once=args.once, max_calls=args.calls)
        finally:
            lines.close()
    finally:
        endpoint.close()


class ResultLines:
    """Lines for stdout, written by a thread of their own, in order.

    ``faxengine receive`` runs every call's real-time pacing on one event
    loop; a ``print`` there blocks the loop whenever stdout is a pipe its
    reader has not emptied (64 KiB on Linux: about 85 JSON result lines),
    and every call on the loop stops with it -- T.30 timers expire, UDPTL
    and RTP pile up in the kernel.  A slow reader of our output holds back
    the lines, never the calls.  ``close()`` waits until all are written.
    A reader that went away (a broken pipe) gets no more lines.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="faxengine-result-lines",
                                        daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        """Queue ``line`` (without its newline); never blocks."""
        self._queue.put(line)

    def _run(self) -> None:
        broken = False
        while (line := self._queue.get()) is not None:
            if not broken:
                try:
                    print(line, flush=True)
                except (OSError, ValueError):   # the reader went away, stdout closed
                    broken = True

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()


def _receive_card(args: argparse.Namespace) -> CardResult:
    """Answer the one call on sound card ``--device`` and write its TIFF-F file."""
    path = Path(args.out) / f"fax-{time.strftime('%Y%m%d-%H%M%S')}-device{args.device}.tif"
    print(f"waiting on sound card {args.device}", flush=True)
    terminal = FaxTerminal(False, receive=path, ecm=args.ecm)
    result = _card_call(terminal, args.device)
    result.path = str(path) if path.exists() else None
    print(json.dumps(result.as_dict()) if args.json else result.line("received"), flush=True)
    return result


def _writable_folder(name: str) -> None:
    """Make the folder received faxes go into, or refuse it before answering any call."""
    import os

    try:
        os.makedirs(name, exist_ok=True)
    except OSError as exc:
        raise OSError(f"{name}: cannot make the folder: {exc.strerror or exc}") from None
    if not os.path.isdir(name) or not os.access(name, os.W_OK | os.X_OK):
        raise OSError(f"{name}: not a folder this user can write received faxes into")


def receive_main(argv: list[str] | None = None) -> int:
    """``faxengine receive``: 0 when every call's fax went through, 1 when not, 2 on a
    usage error; Ctrl-C stops it (status 0 unless a call failed)."""
    args = _receive_parser().parse_args(argv)

    def serve() -> list[Any]:
        _one_of(args.listen, args.device, "--listen HOST:PORT")
        _sip_only(args)
        if args.device is None:
            _listen_address(args.listen)
        elif args.calls not in (None, 1):
            raise ValueError("receive --device takes one call: leave out --calls")
        for folder in (args.out, getattr(args, "record_dir", None)):
            if folder:
                _writable_folder(folder)
        return [_receive_card(args)] if args.device is not None else asyncio.run(_receive(args))
    return _serving_status("receive", serve)


def _serving_status(command: str, serve: Callable[[], list[Any]]) -> int:
    """The exit status of a command that answers calls until stopped: 0 when every
    call's fax went through (Ctrl-C included), 1 when one did not, 2 on a usage
    error or one the system gave (said in one line, no traceback)."""
    try:
        results = serve()
    except KeyboardInterrupt:
        return 0
    except (FaxError, OSError, ValueError) as exc:
        print(f"faxengine {command}: {exc}", file=sys.stderr)
        return 2
    return 0 if all(r.ok for r in results) else 1


def _t38gateway_parser() -> argparse.ArgumentParser:
    from faxengine.media.t38gateway_call import T38_LEGS

    p = argparse.ArgumentParser(prog="faxengine t38gateway",
                                description="a SIP T.38 gateway: each call in G.711 audio on "
                                            "one leg and T.38 on the other")
    p.add_argument("--to", required=True, metavar="URI",
                   help="where the outgoing leg goes: sip:NUMBER@HOST[:PORT] (without "
                        "NUMBER@, the incoming INVITE's number)")
    p.add_argument("--listen", default="127.0.0.1:5060", metavar="HOST:PORT",
                   help="where to take INVITEs (default 127.0.0.1:5060; port 0: any free "
                        "one, printed)")
    p.add_argument("--t38-leg", choices=T38_LEGS, default="auto",
                   help="which leg is T.38: auto (default: the one that offers or accepts "
                        "m=image), incoming, outgoing")
    p.add_argument("--ecm", action=argparse.BooleanOptionalAction, default=True,
                   help="let error correction through (default: on)")
    p.add_argument("--suppress-nsx", action=argparse.BooleanOptionalAction, default=True,
                   help="zero the content of NSF/NSC/NSS so the ends agree no proprietary "
                        "mode the gateway cannot carry (default: on)")
    ends = p.add_mutually_exclusive_group()
    ends.add_argument("--once", action="store_true", help="exit after one call, with its status")
    ends.add_argument("--calls", type=int, metavar="N", help="exit after N calls")
    p.add_argument("--jitter-ms", type=_jitter_ms, default=60, metavar="MS",
                   help="the audio leg's jitter buffer delay, 20 to 1000 ms (default: 60)")
    p.add_argument("--json", action="store_true", help="print each call's result as JSON")
    return p


async def _t38gateway(args: argparse.Namespace) -> list[Any]:
    from faxengine.media.t38gateway_call import T38GatewayServer

    Uri.parse(args.to)                          # a bad --to before binding anything
    endpoint = await SipEndpoint.open(_listen_address(args.listen), user="gateway")
    try:
        server = T38GatewayServer(endpoint, args.to, t38_leg=args.t38_leg, ecm=args.ecm,
                                  nsx_suppression=args.suppress_nsx,
                                  jitter_delay=args.jitter_ms / 1000)
        host, port = endpoint.sip.local
        print(f"listening on sip:gateway@{host}:{port}", flush=True)

        lines = ResultLines()               # never a print on the loop that paces the calls

        def show(result: Any) -> None:
            lines.write(json.dumps(result.as_dict()) if args.json else result.line())

        try:
            return await server.serve(show, max_calls=1 if args.once else args.calls)
        finally:
            lines.close()
    finally:
        endpoint.close()


def t38gateway_main(argv: list[str] | None = None) -> int:
    """``faxengine t38gateway``: 0 when every call's fax went through (or Ctrl-C
    stopped it with none failed), 1 when one did not, 2 on a usage error."""
    args = _t38gateway_parser().parse_args(argv)

    def serve() -> list[Any]:
        _listen_address(args.listen)
        if args.calls is not None and args.calls < 1:
            raise ValueError(f"--calls takes a number of calls >= 1, not {args.calls}")
        return asyncio.run(_t38gateway(args))
    return _serving_status("t38gateway", serve)
