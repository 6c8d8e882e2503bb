"""T.4/T.6 codec speed: faxengine.t4 against libtiff on the eight CCITT charts

One round codes (or decodes) all eight charts, 1728 x 2376, once.  For each
coding (MH, MR with K = 4 as at fine resolution, MMR) and direction:

* ours, encode: ``t4.encode(chart, coding, k, rtc=False)`` from the bool array;
* libtiff, encode: Pillow saving the same page as a one-strip Group 3/4 TIFF
  into a BytesIO (the Pillow image is built outside the timing);
* ours, decode: ``t4.decode(strip, 1728, coding)`` on libtiff's strip;
* libtiff, decode: ``Image.open(BytesIO(tiff)).load()`` of libtiff's own file
  (Pillow parses the TIFF, libtiff decodes the strip; Pillow's image is not
  turned into a numpy array, ours is returned as one).

Both contenders of a job run back to back in the same session; the ratio
ours/libtiff of pages per second is printed at the end (bench/conftest.py).
Required by issue 2: at least 2x for MH and MMR, at least 1x for MR.
"""
from __future__ import annotations

import io

import pytest
from PIL import Image

from charts import CCITT_CHARTS, load_chart
from faxengine import t4
from libtiff_util import DPI_FOR_K, black_mask_image, save_tiff, tiff_strip

# coding -> (K, least ratio ours/libtiff for both directions)
CODINGS = {"mh": (None, 2.0), "mr": (4, 1.0), "mmr": (None, 2.0)}


@pytest.fixture(scope="module")
def pages():
    """The charts, as arrays (ours) and as Pillow images (libtiff's input)."""
    images = [load_chart(n) for n in CCITT_CHARTS]
    return images, [black_mask_image(image) for image in images]


@pytest.fixture(scope="module")
def libtiff_files(pages):
    """coding -> libtiff's TIFF file of every chart."""
    dpi = {coding: DPI_FOR_K[k] if k else None for coding, (k, _) in CODINGS.items()}
    return {coding: [save_tiff(pil, coding, dpi[coding]) for pil in pages[1]] for coding in CODINGS}


def run(benchmark, speed, group, contender, job, required=None):
    benchmark.group = group
    benchmark(job)
    stats = getattr(benchmark, "stats", None)
    if stats:                               # absent with --benchmark-disable
        speed.record(group, contender, len(CCITT_CHARTS), stats.stats.min, stats.stats.rounds,
                     required=required)


@pytest.mark.parametrize("contender", ["ours", "libtiff"])
@pytest.mark.parametrize("coding", list(CODINGS))
def test_encode(benchmark, speed, pages, libtiff_files, coding, contender):
    k, required = CODINGS[coding]
    images, pil_images = pages
    if contender == "ours":
        # same bits as libtiff's strip: EOL before each line, no RTC (MMR: EOFB)
        def job():
            for image in images:
                t4.encode(image, coding, k=k, rtc=False)
    else:
        dpi = DPI_FOR_K[k] if k else None

        def job():
            for pil in pil_images:
                save_tiff(pil, coding, dpi)
    run(benchmark, speed, f"{coding} encode", contender, job, required)


@pytest.mark.parametrize("contender", ["ours", "libtiff"])
@pytest.mark.parametrize("coding", list(CODINGS))
def test_decode(benchmark, speed, pages, libtiff_files, coding, contender):
    _, required = CODINGS[coding]
    files = libtiff_files[coding]
    if contender == "ours":
        strips = [tiff_strip(f) for f in files]
        width = pages[0][0].shape[1]

        def job():
            for strip in strips:
                t4.decode(strip, width, coding)
    else:
        def job():
            for f in files:
                Image.open(io.BytesIO(f)).load()
    run(benchmark, speed, f"{coding} decode", contender, job, required)


def test_same_work(pages, libtiff_files):
    """Both contenders do the same job: libtiff's strips decode to the charts in our decoder."""
    images = pages[0]
    for coding in CODINGS:
        for image, f in zip(images, libtiff_files[coding]):
            assert (t4.decode(tiff_strip(f), image.shape[1], coding) == image).all()
