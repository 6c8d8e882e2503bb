"""The exceptions of faxengine.tiff, and the one way it reaches the codec.

``TiffError`` is a file that cannot be read or written; ``TiffWarning`` is
what ``read(..., strict=False)`` says about a page it had to repair.
"""
from __future__ import annotations

from faxengine.errors import FaxError

__all__ = ["TiffError", "TiffWarning", "codec"]


class TiffError(FaxError):
    """A TIFF file that cannot be read or written, and why."""


class TiffWarning(UserWarning):
    """``read(..., strict=False)`` repaired a page: which page and strip, how
    many lines, and why (data that end early, corrupt lines)."""


def codec():
    try:
        from faxengine import t4
        t4.decode, t4.encode, t4.T4Error  # noqa: B018 - present once the codec is built
    except (ImportError, AttributeError) as exc:
        raise TiffError(
            "the T.4/T.6 codec is not built; run"
            " `python setup.py build_ext --inplace` (or `make test`)"
        ) from exc
    return t4
