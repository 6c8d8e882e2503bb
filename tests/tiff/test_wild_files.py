"""Fax TIFFs as other software writes them, read as libtiff reads them.

Each file is built here byte by byte (a small TIFF builder below) and our
pels are compared with what libtiff makes of the same bytes, through Pillow
or through ``tiffcp`` (which reads with libtiff and writes a plain file).
The cases are the ones found refused or misread: a strip taller than 20000
lines, a file that ends right after its last IFD entry, StripByteCounts of
0 or none, a tag given twice, tiles, data that end early (strict=False),
and the Orientation tag.
"""
from __future__ import annotations

import io
import shutil
import struct
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageOps

from faxengine import t4, tiff
from faxengine.t4.page import Page
from faxengine.tiff import TiffError, TiffWarning
from libtiff_util import captured_c_stderr

SHORT, LONG, RATIONAL = 3, 4, 5
needs_tools = pytest.mark.skipif(
    not (shutil.which("tiffinfo") and shutil.which("tiffcp")), reason="libtiff-tools missing"
)


def build(entries, blobs=(), next_offset=True, blobs_last=False) -> bytes:
    """A little-endian TIFF: header, the blobs (strips or tiles), the values
    that do not fit in an entry, then one IFD with ``entries`` in the order
    given (duplicates allowed).  A value may be a function of the blobs'
    offsets.  ``next_offset=False`` ends the file right after the entries;
    ``blobs_last`` puts the blobs at the end of the file instead."""
    head = build(entries, [b""] * len(blobs), next_offset) if blobs_last else b"II*\0" + bytes(4)
    out = bytearray(head if not blobs_last else b"II*\0" + bytes(4))
    at = []
    start = len(head) if blobs_last else len(out)
    for blob in blobs:
        at.append(start)
        start += len(blob) + (len(blob) & 1)
        if not blobs_last:
            out += blob + b"\0" * (len(blob) & 1)
    fields = []
    for tag, typ, values in entries:
        values = values(at) if callable(values) else values
        if typ == RATIONAL:
            payload = b"".join(struct.pack("<II", n, d) for n, d in values)
        else:
            payload = struct.pack("<" + ("H" if typ == SHORT else "I") * len(values), *values)
        if len(payload) > 4:
            fields.append(struct.pack("<HHII", tag, typ, len(values), len(out)))
            out += payload
        else:
            fields.append(struct.pack("<HHI", tag, typ, len(values)) + payload.ljust(4, b"\0"))
    struct.pack_into("<I", out, 4, len(out))
    out += struct.pack("<H", len(fields)) + b"".join(fields)
    if next_offset:
        out += bytes(4)
    if blobs_last:
        assert len(out) == len(head)
        for blob in blobs:
            out += blob + b"\0" * (len(blob) & 1)
    return bytes(out)


def page_entries(width, height, compression, counts, rows=None, photometric=0, extra=()):
    """The tags of a one-page file whose strips are the blobs."""
    return [
        (256, LONG, [width]), (257, LONG, [height]), (258, SHORT, [1]),
        (259, SHORT, [compression]), (262, SHORT, [photometric]),
        (273, LONG, lambda at: at), (277, SHORT, [1]), (278, LONG, [rows or height]),
        *([(279, LONG, counts)] if counts is not None else []), *extra,
    ]


def pillow(data: bytes) -> np.ndarray:
    """libtiff's pels through Pillow (its warnings silenced), True = black."""
    with captured_c_stderr():
        with Image.open(io.BytesIO(data)) as img:
            return ~np.asarray(img.convert("1"))


def via_tiffcp(data: bytes, tmp_path) -> np.ndarray:
    """libtiff's reading of the file, as ``tiffcp`` copies it to a plain one."""
    src, dst = tmp_path / "in.tif", tmp_path / "out.tif"
    src.write_bytes(data)
    done = subprocess.run(["tiffcp", "-c", "none", str(src), str(dst)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return pillow(dst.read_bytes())


def sample(height=40, width=100, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.random((height, width)) < 0.1
    image[:, :3] = True        # a left margin and a top bar: orientation shows
    image[:2, : width // 2] = True
    return image


# ---- strips and directories -----------------------------------------------

@pytest.mark.parametrize("coding", ["mmr", "mh"])
def test_a_strip_taller_than_20000_lines_reads_when_the_page_says_so(tmp_path, coding):
    width = 1728 if coding == "mmr" else 64
    image = np.zeros((25000, width), dtype=bool)
    image[::997, 5:40] = True
    image[24999, -8:] = True
    path = tmp_path / "tall.tif"
    tiff.write(path, [Page(image)], coding)   # one strip of 25000 rows
    (page,) = tiff.read(path)
    np.testing.assert_array_equal(page.image, image)
    if coding == "mmr":
        np.testing.assert_array_equal(pillow(path.read_bytes()), image)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow says so; libtiff reads on
@pytest.mark.parametrize("compression", [1, 4])
def test_a_file_ending_right_after_its_last_ifd_entry(compression):
    image = sample()
    strip = np.packbits(image, axis=1).tobytes() if compression == 1 else t4.encode(image, "mmr")
    data = build(page_entries(100, 40, compression, [len(strip)]), [strip], next_offset=False)
    (page,) = tiff.read(data)
    np.testing.assert_array_equal(page.image, pillow(data))
    np.testing.assert_array_equal(page.image, image)


@pytest.mark.parametrize("coding, compression, options", [
    ("mh", 3, 0), ("mr", 3, 1), ("mmr", 4, 0)])
@pytest.mark.parametrize("counts", [[0], None], ids=["zero", "absent"])
def test_strip_byte_counts_of_zero_or_none_are_worked_out(tmp_path, coding, compression, options,
                                                          counts):
    image = sample()
    strip = t4.encode(image, coding, k=4, rtc=False)
    extra = [(292, LONG, [options])] if compression == 3 else []
    data = build(page_entries(100, 40, compression, counts, extra=extra), [strip])
    (page,) = tiff.read(data)
    np.testing.assert_array_equal(page.image, image)
    np.testing.assert_array_equal(page.image, via_tiffcp(data, tmp_path))


def test_a_group3_strip_without_any_eol_is_read_as_libtiff_reads_it():
    """Some writers store MH lines back to back under Compression 3, with no
    EOL at all: libtiff, finding none, reads them so; so do we."""
    image = sample()
    strip = t4.encode(image, "mh", eol=False, align=1)
    data = build(page_entries(100, 40, 3, [len(strip)], extra=[(292, LONG, [0])]), [strip])
    np.testing.assert_array_equal(pillow(data), image)
    np.testing.assert_array_equal(tiff.read(data)[0].image, image)
    np.testing.assert_array_equal(tiff.read(data, strict=False)[0].image, image)


@pytest.mark.timeout(30)
def test_worked_out_byte_counts_cost_no_more_than_the_pels():
    """1000 one-row strips at one offset, no StripByteCounts, 2 MB of ones
    (no EOL anywhere; as MH lines without EOLs, white 7 black 2 over and
    over): each strip's worked-out count stops where its row could end, or
    reading would go through the 2 MB a thousand times."""
    entries = page_entries(1728, 1000, 3, None, rows=1, extra=[(292, LONG, [0])])
    entries[5] = (273, LONG, lambda at: at * 1000)
    data = build(entries, [b"\xff" * (2 << 20)])
    row = (np.arange(1728) % 9 >= 7).tolist()
    for strict in (True, False):
        (page,) = tiff.read(data, strict=strict)
        assert page.image.shape == (1000, 1728) and page.image[999].tolist() == row


@needs_tools
def test_a_tag_given_twice_counts_once_the_first_time(tmp_path):
    image = sample()
    strip = t4.encode(image, "mmr")
    entries = page_entries(100, 40, 4, [len(strip)])
    # Photometric again, saying min-is-black, and Compression again, saying none
    entries[4:5] = [(262, SHORT, [0]), (262, SHORT, [1])]
    entries.insert(4, (259, SHORT, [1]))
    data = build(entries, [strip])
    (page,) = tiff.read(data)
    np.testing.assert_array_equal(page.image, via_tiffcp(data, tmp_path))
    np.testing.assert_array_equal(page.image, image)


# ---- tiles --------------------------------------------------------------------

@needs_tools
@pytest.mark.parametrize("codec", ["g4", "g3", "g3:2d", "none", "packbits"])
def test_tiled_bilevel_files(tmp_path, codec):
    image = sample(70, 150, seed=3)        # not a multiple of the tile size either way
    path, tiled = tmp_path / "strips.tif", tmp_path / "tiles.tif"
    Image.fromarray(~image).save(path, compression="raw")
    done = subprocess.run(["tiffcp", "-t", "-w", "32", "-l", "48", "-c", codec, str(path),
                           str(tiled)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Tile Width: 32" in subprocess.run(["tiffinfo", str(tiled)], capture_output=True,
                                              text=True, timeout=60).stdout
    (page,) = tiff.read(tiled)
    np.testing.assert_array_equal(page.image, image)
    np.testing.assert_array_equal(page.image, pillow(tiled.read_bytes()))


def test_tiles_need_their_offsets_and_a_sane_size():
    image = sample(16, 16)
    tile = np.packbits(image, axis=1).tobytes()
    base = [(256, LONG, [32]), (257, LONG, [16]), (258, SHORT, [1]), (259, SHORT, [1]),
            (262, SHORT, [0]), (277, SHORT, [1])]
    data = build(base + [(322, LONG, [16]), (323, LONG, [16]), (324, LONG, lambda at: at)],
                 [tile])
    with pytest.raises(TiffError, match=r"^TIFF page 1 has 1 TileOffsets for 2 tiles$"):
        tiff.read(data)
    data = build(base + [(322, LONG, [0]), (323, LONG, [16]), (324, LONG, lambda at: at * 2)],
                 [tile])
    with pytest.raises(TiffError, match=r"^TIFF page 1 has impossible tiles of 0x16 pels$"):
        tiff.read(data)


# ---- data that end early --------------------------------------------------------

@pytest.mark.parametrize("coding, compression, options", [
    ("mh", 3, 0), ("mr", 3, 1), ("mmr", 4, 0)])
def test_data_ending_early_strict_or_as_libtiff(coding, compression, options):
    image = sample()
    lines = 25
    bits = "".join(f"{b:08b}" for b in t4.encode(image[:lines], coding, k=4, rtc=False))
    if coding == "mmr":
        bits = bits.rstrip("0")[:-24]      # no EOFB: the data just end
    bits += "0" * (-len(bits) % 8)
    strip = int(bits, 2).to_bytes(len(bits) // 8, "big")
    extra = [(292, LONG, [options])] if compression == 3 else []
    data = build(page_entries(100, 40, compression, [len(strip)], extra=extra), [strip])
    with pytest.raises(TiffError, match=r"^TIFF page 1, strip 0: corrupt .* page ends after 25"
                                        r" lines.*read\(\.\.\., strict=False\) reads it"):
        tiff.read(data)
    with pytest.warns(TiffWarning, match=r"^TIFF page 1, strip 0: .* end early or hold corrupt"
                                         r" lines; 15 of its 40 lines are white"):
        (page,) = tiff.read(data, strict=False)
    np.testing.assert_array_equal(page.image[:lines], image[:lines])
    assert not page.image[lines:].any()
    if coding == "mmr":  # libtiff's G3 decoder leaves a row of leftovers after the end
        np.testing.assert_array_equal(page.image, pillow(data))


def test_a_file_cut_short_reads_as_far_as_it_goes():
    image = sample()
    packed = np.packbits(image, axis=1).tobytes()
    whole = build(page_entries(100, 40, 1, [len(packed)]), [packed], blobs_last=True)
    assert tiff.read(whole)[0].image.tolist() == image.tolist()
    cut = whole[: len(whole) - len(packed) + 13 * 30 + 5]   # 30 rows and 5 bytes are left
    with pytest.raises(TiffError, match=r"^truncated TIFF file: TIFF page 1, strip 0 at offset"
                                        r" \d+ needs 520 bytes, the file has \d+$"):
        tiff.read(cut)
    with pytest.warns(TiffWarning, match=r"its data end after 395 of 520 bytes; 10 of its 40"):
        (page,) = tiff.read(cut, strict=False)
    expected = image.copy()
    expected[30:] = False
    expected[30, :40] = image[30, :40]      # the 5 bytes of row 30 that are there
    np.testing.assert_array_equal(page.image, expected)


# ---- orientation --------------------------------------------------------------------

@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_applied_as_libtiff_readers_do(orientation):
    image = sample(30, 50)
    packed = np.packbits(image, axis=1).tobytes()
    extra = [(274, SHORT, [orientation]), (282, RATIONAL, [(204, 1)]),
             (283, RATIONAL, [(98, 1)]), (296, SHORT, [2])]
    data = build(page_entries(50, 30, 1, [len(packed)], extra=extra), [packed])
    (page,) = tiff.read(data)
    with captured_c_stderr():
        with Image.open(io.BytesIO(data)) as img:
            upright = ~np.asarray(ImageOps.exif_transpose(img).convert("1"))
    np.testing.assert_array_equal(page.image, upright)
    turned = orientation >= 5
    assert page.image.shape == ((50, 30) if turned else (30, 50))
    assert (page.x_res, page.y_res) == ((98.0, 204.0) if turned else (204.0, 98.0))


def test_eols_are_found_across_octets():
    """The reader's EOL search (is this Group 3 strip without EOLs?) against
    a regular expression on the bits: 11 zeros then a one, anywhere."""
    import random
    import re
    rng = random.Random(3)
    for _ in range(3000):
        data = bytes(rng.choice([0, 0x80, 0x08, 0x01, 0x10, 0xFF, rng.randrange(256)])
                     for _ in range(rng.randint(0, 12)))
        bits = "".join(f"{b:08b}" for b in data)
        assert tiff.reader._has_eol(data) == bool(re.search("0{11}1", bits)), bits
