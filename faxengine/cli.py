"""The ``faxengine`` command.

Subcommands grow with the layers: ``demo`` shows the image codec on a
document (each coding's size, ratio and speed, and a TIFF-F file written);
``send``, ``receive``, ``loopback`` and ``gateway`` follow with the T.30
terminal and the media and gateway layers.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from faxengine.errors import FaxError


def _load_pages(path: Path, resolution: str):
    """Pages of a document: a TIFF as it is, any other image scaled to a fax page."""
    from PIL import Image

    from faxengine import tiff
    from faxengine.t4 import Page

    if path.suffix.lower() in (".tif", ".tiff"):
        return tiff.read(path)
    with Image.open(path) as img:
        return [Page.from_pil(img, resolution=resolution)]


def _cmd_demo(args: argparse.Namespace) -> int:
    from faxengine import t4, tiff

    pages = []
    for name in args.files:
        pages.extend(_load_pages(Path(name), args.resolution))
    raw_bits = sum(p.width * p.height for p in pages)
    print(f"{len(pages)} page(s), {pages[0].width} pels across, "
          f"{pages[0].resolution or 'custom'} resolution, {raw_bits // 8} bytes unpacked")
    print(f"{'coding':<8}{'bytes':>10}{'ratio':>9}{'encode ms':>11}{'decode ms':>11}  check")
    for coding in ("mh", "mr", "mmr"):
        size = enc_s = dec_s = 0.0
        same = True
        for page in pages:
            t0 = time.perf_counter()
            data = t4.encode(page.image, coding, k=page.mr_k if coding == "mr" else None)
            t1 = time.perf_counter()
            back = t4.decode(data, page.width, coding)
            t2 = time.perf_counter()
            size += len(data)
            enc_s += t1 - t0
            dec_s += t2 - t1
            same &= back.shape == page.image.shape and bool((back == page.image).all())
        print(f"{coding:<8}{int(size):>10}{raw_bits / 8 / size:>8.1f}x"
              f"{enc_s * 1e3:>11.2f}{dec_s * 1e3:>11.2f}  {'pixels equal' if same else 'MISMATCH'}")
        if not same:
            return 1
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tiff.write(out, pages, coding=args.coding)
        print(f"wrote {out} ({out.stat().st_size} bytes, TIFF Class F, {args.coding.upper()})")
    return 0


def _cmd_loopback(args: argparse.Namespace) -> int:
    """Two of our terminals back to back through the line model."""
    import logging

    from faxengine.loopback import Loopback

    pages = []
    for name in args.files:
        pages.extend(_load_pages(Path(name), args.resolution))
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    call = Loopback(pages, args.out, ecm=args.ecm, rate=args.rate, snr_db=args.snr,
                    g711=args.g711)
    shown = {"page": 0, "width": -1}
    # A bar redrawn with carriage returns suits a terminal; a log file gets
    # one line per finished page instead.
    live = sys.stderr.isatty()

    def bar(sender) -> None:
        page, total, frac = sender.progress
        width = int(frac * 30)
        if (page, width) == (shown["page"], shown["width"]):
            return
        if live and page != shown["page"] and shown["page"]:
            print(file=sys.stderr)
        shown.update(page=page, width=width)
        if live:
            print(f"\rpage {page}/{total} [{'#' * width}{'.' * (30 - width)}] {frac:4.0%}",
                  end="", file=sys.stderr, flush=True)
        elif width == 30:
            print(f"page {page}/{total} sent", file=sys.stderr, flush=True)

    outcome = call.run(None if args.verbose else bar)
    if live and not args.verbose:
        print(file=sys.stderr)
    for who, r in (("sender", outcome.sender), ("receiver", outcome.receiver)):
        detail = (f", {r.bit_rate} bit/s, {r.coding.upper()}, {'ECM' if r.ecm else 'no ECM'}"
                  if r.coding else "")
        print(f"{who}: {r.code} -- {r.message}; {r.pages} page(s){detail}")
    print(f"line time {outcome.line_seconds:.1f} s, CPU {outcome.cpu_seconds:.2f} s "
          f"({outcome.realtime_factor:.0f}x real time)")
    if outcome.ok:
        print(f"wrote {args.out}")
    return 0 if outcome.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faxengine", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="code a document in MH, MR and MMR and write TIFF-F")
    demo.add_argument("files", nargs="+", help="TIFF files or images (PNG, JPEG, PBM, ...)")
    demo.add_argument("--out", help="write the pages as a TIFF-F file here")
    demo.add_argument("--coding", choices=("mh", "mr", "mmr"), default="mmr",
                      help="coding of the TIFF-F file (default: mmr)")
    demo.add_argument("--resolution", choices=("standard", "fine", "superfine"), default="fine",
                      help="resolution for images that are not already fax pages (default: fine)")
    demo.set_defaults(func=_cmd_demo)
    loop = sub.add_parser("loopback", help="fax a document between two terminals back to back")
    loop.add_argument("files", nargs="+", help="TIFF files or images (PNG, JPEG, PBM, ...)")
    loop.add_argument("--out", required=True, help="the TIFF-F file the receiver writes")
    loop.add_argument("--ecm", action=argparse.BooleanOptionalAction, default=True,
                      help="use error correction mode (default: on)")
    loop.add_argument("--rate", type=int, default=14400,
                      choices=(14400, 12000, 9600, 7200, 4800, 2400),
                      help="highest image rate in bit/s (default: 14400)")
    loop.add_argument("--snr", type=float, metavar="DB", help="add white noise at this SNR")
    loop.add_argument("--g711", choices=("alaw", "ulaw"), help="pass the line through G.711")
    loop.add_argument("--resolution", choices=("standard", "fine", "superfine"), default="fine",
                      help="resolution for images that are not already fax pages (default: fine)")
    loop.add_argument("-v", "--verbose", action="store_true", help="print the T.30 trace")
    loop.set_defaults(func=_cmd_loopback)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FaxError, OSError) as exc:
        print(f"faxengine: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
