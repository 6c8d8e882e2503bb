"""TIFF 6.0 facts the reader and the writer share, stated once: the tag
numbers used, the field types, and the reader's bounds (see
:mod:`faxengine.tiff.reader` for what they guard against).
"""
from __future__ import annotations

__all__ = ["MAX_PAGES", "MAX_PIXELS", "MAX_DOCUMENT_PIXELS", "MAX_PELS_PER_BYTE",
           "NEW_SUBFILE_TYPE", "IMAGE_WIDTH", "IMAGE_LENGTH", "BITS_PER_SAMPLE",
           "COMPRESSION", "PHOTOMETRIC", "FILL_ORDER", "STRIP_OFFSETS",
           "SAMPLES_PER_PIXEL", "ROWS_PER_STRIP", "STRIP_BYTE_COUNTS", "X_RESOLUTION",
           "Y_RESOLUTION", "PLANAR_CONFIGURATION", "T4_OPTIONS", "T6_OPTIONS",
           "RESOLUTION_UNIT", "ORIENTATION", "PAGE_NUMBER", "SOFTWARE", "TILE_WIDTH",
           "TILE_LENGTH", "TILE_OFFSETS", "TILE_BYTE_COUNTS", "COLOR_MAP",
           "CLEAN_FAX_DATA", "MIN_RESOLUTION", "MAX_RESOLUTION"]

MAX_PAGES = 10000  # IFDs followed before giving up (a document, not a loop)
MAX_PIXELS = 1 << 27  # pels per page: A0 at 300 dpi; a bool array of 128 MiB
MAX_DOCUMENT_PIXELS = 1 << 30  # pels of all pages read by default: 1 GiB of bool arrays
MAX_PELS_PER_BYTE = 1 << 16  # ... and no more than this many per byte of file
# resolutions outside this range (dpi) are treated as absent (see faxengine.tiff.reader)
MIN_RESOLUTION, MAX_RESOLUTION = 1.0, 65535.0
_MAX_LONG = (1 << 32) - 1

# TIFF 6.0 tags used here
NEW_SUBFILE_TYPE = 254
IMAGE_WIDTH = 256
IMAGE_LENGTH = 257
BITS_PER_SAMPLE = 258
COMPRESSION = 259
PHOTOMETRIC = 262
FILL_ORDER = 266
STRIP_OFFSETS = 273
SAMPLES_PER_PIXEL = 277
ROWS_PER_STRIP = 278
STRIP_BYTE_COUNTS = 279
X_RESOLUTION = 282
Y_RESOLUTION = 283
PLANAR_CONFIGURATION = 284
T4_OPTIONS = 292
T6_OPTIONS = 293
RESOLUTION_UNIT = 296
ORIENTATION = 274
PAGE_NUMBER = 297
SOFTWARE = 305
TILE_WIDTH = 322
TILE_LENGTH = 323
TILE_OFFSETS = 324
TILE_BYTE_COUNTS = 325
COLOR_MAP = 320
CLEAN_FAX_DATA = 327

# field type -> (numpy type, size in bytes); RATIONAL is a pair of LONGs
_TYPES: dict[int, tuple[str, int]] = {
    1: ("u1", 1), 2: ("u1", 1), 3: ("u2", 2), 4: ("u4", 4), 5: ("u4", 8),
    6: ("i1", 1), 7: ("u1", 1), 8: ("i2", 2), 9: ("i4", 4), 10: ("i4", 8),
    11: ("f4", 4), 12: ("f8", 8), 13: ("u4", 4),
}
_SHORT, _LONG, _RATIONAL, _ASCII = 3, 4, 5, 2
_PACK = {_SHORT: "H", _LONG: "I", 9: "i", 11: "f", 12: "d"}  # struct codes of the types _ifd_bytes packs
