"""T.4/T.6 codec speed: faxengine.t4 against libtiff on the eight CCITT charts

One round codes (or decodes) all eight charts, 1728 x 2376, once.  For each
coding (MH, MR with K = 2 as at standard and K = 4 as at fine resolution, MMR)
and direction:

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

# job name -> (coding, K, least ratio ours/libtiff for both directions)
CODINGS = {"mh": ("mh", None, 2.0), "mr-k2": ("mr", 2, 1.0), "mr-k4": ("mr", 4, 1.0),
           "mmr": ("mmr", None, 2.0)}
JOBS = list(CODINGS)


def dpi_for(k):
    """The resolution at which libtiff codes MR with K = k (any for MH and MMR)."""
    return DPI_FOR_K[k] if k else None


@pytest.fixture(scope="module")
def pages():
    """The charts, as arrays (ours) and as Pillow images (libtiff's input)."""
    images = [load_chart(n) for n in CCITT_CHARTS]
    return images, [black_mask_image(image) for image in images]


@pytest.fixture(scope="module")
def libtiff_files(pages):
    """job name -> libtiff's TIFF file of every chart."""
    return {job: [save_tiff(pil, coding, dpi_for(k)) for pil in pages[1]]
            for job, (coding, k, _) in CODINGS.items()}


def run(benchmark, speed, group, contender, work, required=None):
    benchmark.group = group
    benchmark(work)
    stats = getattr(benchmark, "stats", None)
    if stats:                               # absent with --benchmark-disable
        speed.record(group, contender, len(CCITT_CHARTS), stats.stats.min, stats.stats.rounds,
                     required=required)


@pytest.mark.parametrize("contender", ["ours", "libtiff"])
@pytest.mark.parametrize("job", JOBS)
def test_encode(benchmark, speed, pages, libtiff_files, job, contender):
    coding, k, required = CODINGS[job]
    images, pil_images = pages
    if contender == "ours":
        # same bits as libtiff's strip: EOL before each line, no RTC (MMR: EOFB)
        def work():
            for image in images:
                t4.encode(image, coding, k=k, rtc=False)
    else:
        dpi = dpi_for(k)

        def work():
            for pil in pil_images:
                save_tiff(pil, coding, dpi)
    run(benchmark, speed, f"{job} encode", contender, work, required)


@pytest.mark.parametrize("contender", ["ours", "libtiff"])
@pytest.mark.parametrize("job", JOBS)
def test_decode(benchmark, speed, pages, libtiff_files, job, contender):
    coding, _, required = CODINGS[job]
    files = libtiff_files[job]
    if contender == "ours":
        strips = [tiff_strip(f) for f in files]
        width = pages[0][0].shape[1]

        def work():
            for strip in strips:
                t4.decode(strip, width, coding)
    else:
        def work():
            for f in files:
                Image.open(io.BytesIO(f)).load()
    run(benchmark, speed, f"{job} decode", contender, work, required)


def test_same_work(pages, libtiff_files):
    """Both contenders do the same job: libtiff's strips decode to the charts in our decoder."""
    images = pages[0]
    for job, (coding, _, _) in CODINGS.items():
        for image, f in zip(images, libtiff_files[job]):
            assert (t4.decode(tiff_strip(f), image.shape[1], coding) == image).all()
