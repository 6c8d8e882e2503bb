"""Japanese mail charsets as real mail programs write them, both ways.

Requests come in ISO-2022-JP (RFC 1468), Shift_JIS, EUC-JP or UTF-8, and
the mail programs of Windows write the characters that only Microsoft's
code page 932 has -- NEC row 13 (① ㈱ №), the NEC-selected and IBM
extensions (髙 﨑 ⅰ) -- under all of those labels.  Python's ``shift_jis``
and ``iso2022_jp`` codecs refuse them, so, as Microsoft's CP50221 does:

* ``Shift_JIS`` and its aliases decode with ``cp932`` (a superset);
* ``ISO-2022-JP`` is decoded here: each two-octet JIS X 0208 character is
  turned into its Shift_JIS code and looked up in CP932 (JIS row 13 is NEC
  row 13, rows 89-92 the NEC-selected IBM extensions), ``ESC ( I`` is
  half-width katakana;
* ``EUC-JP`` decodes with ``euc_jp``, then ``euc_jis_2004``.

A charset that is missing, unknown or wrong is found out by trying
ISO-2022-JP (the octets have ``ESC $``), UTF-8, CP932 and EUC-JP, and the
labelled charset read with U+FFFD for the octets it cannot decode (damaged
ISO-2022-JP, an unknown escape or a cut character, read with U+FFFD for
just those): of the texts these give, the one with the fewest half-width
katakana, private-use characters, U+FFFD and ESC wins, the first of them on
a tie.  (EUC-JP octets are
mostly valid CP932, as half-width katakana; a damaged UTF-8 mail is UTF-8
with one U+FFFD, not CP932.)  Never an exception.

The other way, ``encode_iso2022jp`` writes text in ISO-2022-JP for result
mails (RFC 1468's JIS X 0208, plus the CP932 extensions in the JIS rows
CP50221 gives them), and returns None for text that has characters outside
that repertoire, so the caller can use UTF-8 instead.
"""
from __future__ import annotations

import codecs
import re
import unicodedata

__all__ = ["decode", "decode_iso2022jp", "encode_iso2022jp", "python_codec"]

ESC = b"\x1b"
_ISO2022JP_LABELS = {"iso-2022-jp", "iso2022jp", "csiso2022jp", "iso-2022-jp-ms",
                     "iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-2004",
                     "cp50220", "cp50221", "cp50222", "jis"}
_SJIS_LABELS = {"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "cp932",
                "windows-31j", "ms932", "x-ms-cp932", "shift_jis-2004", "shift_jisx0213"}
_EUCJP_LABELS = {"euc-jp", "eucjp", "x-euc-jp", "cseucpkdfmtjapanese", "euc_jp", "cp51932",
                 "euc-jis-2004", "euc-jisx0213"}
_GUESSES = ("iso-2022-jp", "utf-8", "cp932", "euc-jp")

# escape sequences of ISO-2022-JP and what they switch to (RFC 1468; ESC ( I: JIS X 0201 kana)
_ESCAPES = {b"\x1b(B": "ascii", b"\x1b(J": "ascii", b"\x1b$@": "jis", b"\x1b$B": "jis",
            b"\x1b(I": "kana"}
_ESCAPE = re.compile(rb"\x1b(?:\(B|\(J|\$@|\$B|\(I)")
_HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]+")


def python_codec(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None if Python has none."""
    if not charset:
        return None
    label = charset.strip().strip('"').lower()
    if label in _ISO2022JP_LABELS:
        return "iso-2022-jp"            # decoded by decode_iso2022jp, not a Python codec
    if label in _SJIS_LABELS:
        return "cp932"
    if label in _EUCJP_LABELS:
        return "euc-jp"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode(data: bytes, charset: str | None = None) -> str:
    """Text from octets in MIME charset ``charset`` (guessed when None or wrong).

    Never raises: octets no charset explains become U+FFFD.
    """
    codec = python_codec(charset)
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            return text
    fits = []
    for guess in _GUESSES:
        if guess == "iso-2022-jp" and ESC + b"$" not in data:
            continue
        text = _strict(data, guess)
        if text is not None:
            fits.append(text)
    if codec == "iso-2022-jp" or ESC + b"$" in data:
        # damaged ISO-2022-JP: the rest is still read; first, as its escapes are
        # ASCII too and would tie as "UTF-8" with the escapes left in the text
        fits.insert(0, decode_iso2022jp(data, "replace"))
    # the label itself, damaged octets as U+FFFD (a flipped bit is not another charset)
    fits.append(data.decode(codec if codec and codec != "iso-2022-jp" else "utf-8", "replace"))
    return min(fits, key=_oddness)          # the first of the most plausible


_ODD = re.compile("[\x1b\ue000-\uf8ff\uff61-\uff9f\ufffd]")  # ESC: escapes not decoded


def _oddness(text: str) -> int:
    """How unlike Japanese mail ``text`` is: EUC-JP or broken UTF-8 read as CP932
    is half-width katakana and private-use characters, which people rarely write."""
    return len(_ODD.findall(text))


def _strict(data: bytes, codec: str) -> str | None:
    """``data`` decoded with ``codec`` (and its wider relatives), None if it does not fit."""
    if codec == "iso-2022-jp":
        return decode_iso2022jp(data)
    for name in {"euc-jp": ("euc_jp", "euc_jis_2004"),
                 "cp932": ("cp932", "shift_jis_2004")}.get(codec, (codec,)):
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def _sjis(row: int, col: int) -> bytes:
    """The Shift_JIS code of JIS X 0208 character (row, col), both 0x21..0x7E."""
    s1 = (row + 1) // 2 + (0x70 if row <= 0x5E else 0xB0)
    if row % 2:
        s2 = col + (0x1F if col <= 0x5F else 0x20)
    else:
        s2 = col + 0x7E
    return bytes((s1, s2))


def _jis(s1: int, s2: int) -> tuple[int, int]:
    """The JIS X 0208 (row, col) of a two-octet Shift_JIS code (inverse of ``_sjis``)."""
    row = (s1 - 0x70 if s1 < 0xA0 else s1 - 0xB0) * 2
    if s2 < 0x9F:
        return row - 1, s2 - 0x1F - (1 if s2 >= 0x80 else 0)
    return row, s2 - 0x7E


def decode_iso2022jp(data: bytes, errors: str = "strict") -> str | None:
    """ISO-2022-JP octets as text with CP932's extensions (CP50221).

    ``errors="strict"``: None if the octets are not valid ISO-2022-JP.
    ``errors="replace"``: what is broken (an escape sequence RFC 1468 does not
    have, 8-bit octets, an odd octet or a code with no character in a JIS X 0208
    run) becomes U+FFFD and the rest is read, as mobile carriers' gateways that
    cut a message mid-character need: the other lines are still Japanese.
    """
    lenient = errors == "replace"
    out: list[str] = []
    mode, pos = "ascii", 0
    for m in list(_ESCAPE.finditer(data)) + [None]:
        end = m.start() if m else len(data)
        chunk = data[pos:end]
        if ESC in chunk or any(b > 0x7F for b in chunk):
            if not lenient:
                return None             # an escape we do not know, or 8-bit octets
            chunk = re.sub(rb"\x1b[\x20-\x2f]*[\x30-\x7e]?|[\x80-\xff]", b"\x00", chunk)
        if mode == "ascii":
            out.append(chunk.decode("ascii").replace("\x00", "\ufffd"))
        elif mode == "kana":
            if lenient:     # JIS X 0201 katakana are 0x21..0x5F; the rest as it is
                out.append("".join(chr(0xFF61 + b - 0x21) if 0x21 <= b <= 0x5F else
                                   "\ufffd" if b == 0 else chr(b) for b in chunk))
            else:
                out.append(bytes(b | 0x80 for b in chunk).decode("cp932"))
        else:
            if lenient:     # a line left in JIS X 0208 (no ESC ( B): its break kept
                out.append("".join(_jis_run(piece, True) if i % 2 == 0 else
                                   piece.decode("ascii")
                                   for i, piece in enumerate(re.split(rb"(\r?\n)", chunk))))
            else:
                text = _jis_run(chunk.replace(b"\r", b"").replace(b"\n", b""), False)
                if text is None:
                    return None
                out.append(text)
        if m:
            mode, pos = _ESCAPES[m.group()], m.end()
    return "".join(out)


def _jis_run(chunk: bytes, lenient: bool) -> str | None:
    """A run of two-octet JIS X 0208 codes (a line break is no character); with
    ``lenient`` a broken code is U+FFFD, else the run is None."""
    if len(chunk) % 2 or any(b < 0x21 or b > 0x7E for b in chunk):
        if not lenient:
            return None
    out: list[str] = []
    for i in range(0, len(chunk) - 1, 2):
        a, b = chunk[i], chunk[i + 1]
        if not (0x21 <= a <= 0x7E and 0x21 <= b <= 0x7E):
            out.append("\ufffd")
            continue
        try:
            out.append(_sjis(a, b).decode("cp932"))
        except UnicodeDecodeError:
            if not lenient:
                return None
            out.append("\ufffd")
    if len(chunk) % 2:
        out.append("\ufffd")
    return "".join(out)


def _nec_codes() -> dict[str, bytes]:
    """Character -> its Shift_JIS code in JIS rows 13 and 89-92 (NEC), for CP932's
    IBM-extension duplicates (0xFA40-0xFC4B), which ISO-2022-JP cannot carry."""
    table: dict[str, bytes] = {}
    for s1 in (0x87, 0xED, 0xEE):
        for s2 in range(0x40, 0xFD):
            code = bytes((s1, s2))
            try:
                table.setdefault(code.decode("cp932"), code)
            except UnicodeDecodeError:
                pass
    return table


_NEC = _nec_codes()


def encode_iso2022jp(text: str) -> bytes | None:
    """``text`` in ISO-2022-JP (CP50221: with NEC row 13 and the IBM extensions in
    JIS rows 89-92), ending in ASCII; None if a character has no place there."""
    # half-width katakana is not in ISO-2022-JP: written full width (RFC 1468 §3),
    # a voiced mark joined to its letter (ｶﾞ -> ガ)
    text = _HALF_WIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    out, mode = bytearray(), "ascii"
    for ch in text:
        if ch < "\x80":
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out += ch.encode("ascii")
            continue
        try:
            code = ch.encode("cp932")
        except UnicodeEncodeError:
            return None
        if len(code) != 2:              # CP932's single octets 0x80, 0xA0, 0xFD-0xFF
            return None
        if code[0] >= 0xF0:             # IBM extension: its NEC-selected twin, if any
            code = _NEC.get(ch, b"")
            if not code:
                return None
        if mode != "jis":
            out += b"\x1b$B"
            mode = "jis"
        out += bytes(_jis(code[0], code[1]))
    if mode != "ascii":
        out += b"\x1b(B"
    return bytes(out)
