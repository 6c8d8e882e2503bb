"""faxengine.t4: fax pages and their T.4/T.6 coding (MH, MR, MMR).

``encode``/``decode``/``decode_lenient``/``StreamDecoder``/``StreamEncoder`` live in :mod:`faxengine.t4.codec`,
``Page``, ``PageError``, ``RESOLUTIONS`` and ``MAX_LINES`` in :mod:`faxengine.t4.page`.
"""
from faxengine.t4.codec import (BadLines, StreamDecoder, StreamEncoder, T4ArgumentError, T4Error,
                                decode, decode_lenient, encode, eol_find, last_one)
from faxengine.t4.page import MAX_LINES, RESOLUTIONS, Page, PageError

__all__ = ["encode", "decode", "decode_lenient", "StreamDecoder", "StreamEncoder", "T4Error",
           "T4ArgumentError", "BadLines", "eol_find", "last_one", "Page", "PageError", "RESOLUTIONS", "MAX_LINES"]
