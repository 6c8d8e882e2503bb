"""The terminal's file side: documents read from TIFF files, pages written to one.

The T.30 engine (``faxengine.t30.terminal``) works on ``Page`` objects and
reports received pages as ``PageReceived`` events; it never opens a file.
This thin layer is what keeps ``FaxTerminal(send=["doc.tif"])`` and
``FaxTerminal(receive="out.tif")`` working:

* ``load_pages`` turns ``send=`` (TIFF paths, ``Page`` objects, lists of
  either) into pages before the call starts.
* ``TiffSink`` listens to the terminal's events and appends each page to a
  TIFF-F file once it is confirmed (``tiff.TiffWriter`` leaves a complete
  file after every page), so a call cut short -- an abort, a Ctrl-C in the
  program pumping it -- leaves a readable file with the pages so far;
  ``CallEnded`` writes a page still waiting and closes it.  Coding a page
  for the file costs about a millisecond, too much for one 20 ms step of a
  real-time call: the sink codes it ``link.PAGE_SLICE_ROWS`` lines a step
  (``step``, which the terminal calls once per ``tx``), the page is on disk
  some twenty steps (0.4 s of line time) after it was confirmed, while the
  post-page exchange goes on.  An ECM page that arrived in the file's
  coding (MMR) and decoded cleanly up to its EOFB is not coded again: the
  terminal offers its received data (``TiffSink.offer``) and they are the
  strip, as a fax server stores what it received.  ``check_target``
  refuses a path that cannot be written before the call begins.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.events import CallEnded, Event, PageReceived
from faxengine.t30.link import PageCoder
from faxengine.t4.page import Page

RECEIVE_CODINGS = ("mh", "mr", "mmr")    # what tiff.TiffWriter can write


def load_pages(send) -> list[Page]:
    """The pages to send: paths of TIFF files, Pages, or lists of them.

    Raises:
        LocalProtocolError: nothing to send, or an item that is neither.
        TiffError, OSError: a file that cannot be read as a bilevel TIFF.
    """
    from faxengine import tiff

    pages: list[Page] = []
    if isinstance(send, (str, os.PathLike, Page)):
        items = [send]
    elif isinstance(send, Iterable) and not hasattr(send, "dtype"):    # not an image
        items = list(send)
    else:
        raise LocalProtocolError(
            f"send takes TIFF paths and faxengine Page objects, not {type(send).__name__}")
    for item in items:
        if isinstance(item, Page):
            pages.append(item)
        elif isinstance(item, (str, os.PathLike)):
            pages.extend(tiff.read(item))
        elif isinstance(item, Iterable) and not hasattr(item, "dtype"):    # not an image
            pages.extend(load_pages(item))
        else:
            raise LocalProtocolError(
                f"send takes TIFF paths and faxengine Page objects, not {type(item).__name__}")
    if not pages:
        raise LocalProtocolError("nothing to send: the document has no pages")
    return pages


def check_target(path: str | os.PathLike) -> Path:
    """``path`` as a file this process can create or overwrite.

    Raises:
        LocalProtocolError: it is a directory, its directory does not exist,
            or it cannot be written there.
    """
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise LocalProtocolError(f"cannot receive into {str(target)!r}: it is a directory; "
                                 "give a file name such as 'received.tif'")
    if not folder.is_dir():
        raise LocalProtocolError(f"cannot receive into {str(target)!r}: the directory "
                                 f"{str(folder)!r} does not exist; create it first")
    if target.exists() and not os.access(target, os.W_OK):
        raise LocalProtocolError(f"cannot receive into {str(target)!r}: the file is not "
                                 "writable; give another name or change its permissions")
    if not target.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise LocalProtocolError(f"cannot receive into {str(target)!r}: the directory "
                                 f"{str(folder)!r} is not writable; give another place")
    return target


class TiffSink:
    """Writes the pages of a terminal's ``PageReceived`` events to a TIFF-F file.

    Args:
        path: the file (created at the first page, overwritten if it exists).
        coding: "mh", "mr" or "mmr", the file's coding.
    """

    def __init__(self, path: str | os.PathLike, coding: str = "mmr") -> None:
        self.path = check_target(path)
        self.coding = coding
        self._writer = None
        self._waiting: list[tuple[Page, PageCoder | _Received]] = []    # confirmed, being coded
        self._lost = 0
        self.received: bytes | None = None

    def offer(self, coding: str, data: bytes) -> None:
        """The coded data of the page whose ``PageReceived`` comes next, as
        they arrived (an ECM page: its blocks' frames joined), in ``coding``;
        the terminal offers them only when they decoded cleanly to that page
        and ended at its EOFB or RTC.  In the file's coding they are written
        as they are (a fax server stores what it received: no coding again,
        a millisecond saved per page); in another they are not used.  Only
        MMR is taken so: an MMR strip ends at EOFB as the received data do
        (the zero octets after it, ECM fill, are left out), while a TIFF's MH
        and MR strips have no RTC and their own k."""
        self.received = data.rstrip(b"\0") if coding == self.coding == "mmr" else None

    def __call__(self, event: Event) -> None:
        """Take one terminal event: a page to code and write, or the end of the call."""
        if isinstance(event, PageReceived):
            page = Page(event.image, event.x_res, event.y_res)
            received, self.received = self.received, None
            if received is not None:
                self._waiting.append((page, _Received(received)))
                return
            k = page.mr_k if self.coding == "mr" else None
            self._waiting.append((page, PageCoder(None, page.image, self.coding, k, rtc=False)))
        elif isinstance(event, CallEnded):
            self.close()

    @property
    def waiting(self) -> int:
        """Pages confirmed and not yet written."""
        return len(self._waiting)

    def step(self) -> None:
        """Code the next slice of the page waiting (``PageCoder.step``), and
        write it once it is all coded."""
        if self._waiting:
            coder = self._waiting[0][1]
            coder.step()
            if coder.done:
                self._write()

    @property
    def unwritten(self) -> int:
        """Pages given and not in the file: waiting, or lost to a write that failed."""
        return len(self._waiting) + self._lost

    def _write(self) -> None:
        page, coder = self._waiting.pop(0)
        self._lost += 1                     # until it is written
        if self._writer is None:
            from faxengine.tiff import TiffWriter
            self._writer = TiffWriter(self.path, self.coding)
        self._writer.add_page(page, coded=coder.data())
        self._lost -= 1

    def flush(self) -> None:
        """Write the pages still waiting now."""
        while self._waiting:
            self._write()

    def close(self) -> None:
        """Write the pages still waiting, fill in the page totals and close the
        file (nothing if no page came)."""
        self.flush()
        if self._writer is not None:
            self._writer.close()


class _Received:
    """A page's data as received, in the file's coding: nothing to code
    (``PageCoder``'s ``step``/``done``/``data`` for ``TiffSink``)."""

    done = True

    def __init__(self, data: bytes) -> None:
        self._data = data

    def step(self) -> None:
        pass

    def data(self) -> bytes:
        return self._data
