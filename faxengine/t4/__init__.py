"""faxengine.t4: fax pages and their T.4/T.6 coding (MH, MR, MMR).

``encode``/``decode``/``decode_lenient`` live in :mod:`faxengine.t4.codec`,
``Page`` and ``RESOLUTIONS`` in :mod:`faxengine.t4.page`.
"""
from faxengine.t4.codec import BadLines, T4ArgumentError, T4Error, decode, decode_lenient, encode
from faxengine.t4.page import RESOLUTIONS, Page

__all__ = ["encode", "decode", "decode_lenient", "T4Error", "T4ArgumentError", "BadLines", "Page",
           "RESOLUTIONS"]
