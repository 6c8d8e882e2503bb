"""The progress bar every sending command shows (``loopback``, ``send``).

It reads ``FaxTerminal.progress`` (page, pages, fraction of the current
transmission) and draws on stderr only, so stdout keeps the result lines.
"""
from __future__ import annotations

import sys
from typing import Any

__all__ = ["PageBar"]


class PageBar:
    """The sending terminal's progress on stderr: a bar per page redrawn with
    carriage returns on a terminal, one line per finished page when stderr is
    a file.  Called with the terminal after each block; ``end()`` closes the
    bar's line."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.page, self.width = 0, -1

    def __call__(self, terminal: Any) -> None:
        page, total, frac = terminal.progress
        width = int(frac * 30)
        if (page, width) == (self.page, self.width):
            return
        if self.live and page != self.page and self.page:
            print(file=sys.stderr)
        self.page, self.width = page, width
        if self.live:
            print(f"\rpage {page}/{total} [{'#' * width}{'.' * (30 - width)}] {frac:4.0%}",
                  end="", file=sys.stderr, flush=True)
        elif width == 30:
            print(f"page {page}/{total} sent", file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.live and self.page:
            print(file=sys.stderr)
