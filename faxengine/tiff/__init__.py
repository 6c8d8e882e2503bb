"""TIFF files of fax pages: read any bilevel TIFF, write TIFF Class F.

``read`` (:mod:`faxengine.tiff.reader`: which files, which tags, how files
from the wild and hostile files are handled) and ``write`` / ``TiffWriter``
(:mod:`faxengine.tiff.writer`: what a Class F file holds) share the TIFF 6.0
tag numbers and the reader's bounds (:mod:`faxengine.tiff.tags`) and the
errors (:mod:`faxengine.tiff.errors`); all of them are here too.
"""
from faxengine.tiff.errors import TiffError, TiffWarning
from faxengine.tiff.reader import read
from faxengine.tiff.tags import *  # noqa: F403 - tag numbers and bounds, as before the split
from faxengine.tiff.writer import TiffWriter, write

__all__ = ["TiffError", "TiffWarning", "TiffWriter", "read", "write", "MAX_PAGES", "MAX_PIXELS",
           "MAX_DOCUMENT_PIXELS", "MAX_PELS_PER_BYTE", "MIN_RESOLUTION", "MAX_RESOLUTION"]
