"""FaxTerminal refuses bad options and bad audio at once, with the project's errors.

Every option is checked when the terminal is made (not when the DIS comes
or the first page is written), ``rx`` takes int16 and what converts to it
exactly, ``tx(n)`` a whole number of samples.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import faxengine
from faxengine import FaxError
from faxengine.t30.errors import LocalProtocolError, T30Error
from faxengine.t30.terminal import FaxTerminal
from test_terminal import text_page

PAGE = text_page(1, rows=50)


@pytest.mark.parametrize("options, message", [
    (dict(frame_size=128), "frame_size must be 256 or 64"),
    (dict(frame_size="256"), "frame_size must be 256 or 64"),
    (dict(modems=("V.17", "V.34")), "modems: unknown 'V.34'; use names out of V.17, V.29, V.27ter"),
    (dict(modems="V.17"), "modems takes a list of names"),
    (dict(modems=()), "modems is empty"),
    (dict(codings=("mmr", "jbig")), "codings: unknown 'jbig'"),
    (dict(codings="mmr"), "codings takes a list of names"),
    (dict(codings=[]), "codings is empty"),
    (dict(power_dbm0=0.0), "power_dbm0 must be from -60 to -3 dBm0"),
    (dict(power_dbm0=-70), "power_dbm0 must be from -60 to -3 dBm0"),
    (dict(power_dbm0=float("nan")), "power_dbm0 must be from -60 to -3 dBm0"),
    (dict(page_retries=0), "page_retries must be a whole number from 1 to 10"),
    (dict(page_retries=2.5), "page_retries must be a whole number from 1 to 10"),
    (dict(page_retries=True), "page_retries must be a whole number from 1 to 10"),
    (dict(max_rate=33600), "max_rate must be one of 14400, 12000, 9600"),
], ids=lambda v: str(v)[:40])
def test_every_sender_option_is_checked_when_made(options, message):
    with pytest.raises(LocalProtocolError) as info:
        FaxTerminal(True, send=[PAGE], **options)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, T30Error) and isinstance(info.value, FaxError)
    assert faxengine.LocalProtocolError is LocalProtocolError     # exported at the top


@pytest.mark.parametrize("options, message", [
    (dict(receive_coding="jbig"), "receive_coding must be one of mh, mr, mmr"),
    (dict(frame_size=100), "frame_size must be 256 or 64"),
    (dict(power_dbm0=3.0), "power_dbm0 must be from -60 to -3 dBm0"),
])
def test_every_receiver_option_is_checked_when_made(tmp_path, options, message):
    with pytest.raises(LocalProtocolError, match=f"^{message}"):
        FaxTerminal(False, receive=tmp_path / "rx.tif", **options)


def test_the_receive_path_must_be_writable(tmp_path):
    with pytest.raises(LocalProtocolError, match="the directory '.*missing' does not exist; "
                                                 "create it first"):
        FaxTerminal(False, receive=tmp_path / "missing" / "rx.tif")
    with pytest.raises(LocalProtocolError, match="it is a directory; give a file name"):
        FaxTerminal(False, receive=tmp_path)
    if os.geteuid() != 0:           # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(LocalProtocolError, match="is not writable"):
            FaxTerminal(False, receive=locked / "rx.tif")
    # checking writes nothing: the file appears with the first page
    FaxTerminal(False, receive=tmp_path / "rx.tif")
    assert not (tmp_path / "rx.tif").exists()


def test_good_options_pass():
    term = FaxTerminal(True, send=[PAGE], frame_size=64, modems=["V.29", "V.27ter"],
                       codings=["mh"], power_dbm0=-3, page_retries=10, receive_coding="mh")
    assert term.power_dbm0 == -3.0 and term.page_retries == 10


def test_send_items_must_be_pages_or_paths():
    with pytest.raises(LocalProtocolError, match="send takes TIFF paths and faxengine Page "
                                                 "objects, not int"):
        FaxTerminal(True, send=[PAGE, 3])


@pytest.mark.parametrize("send,name", [(42, "int"), (2.5, "float"), (np.zeros((8, 1728), bool), "ndarray")])
def test_send_that_is_not_a_document_is_refused_by_name(send, name):
    with pytest.raises(LocalProtocolError, match=f"send takes TIFF paths and faxengine Page "
                                                 f"objects, not {name}$"):
        FaxTerminal(True, send=send)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint16])
def test_rx_takes_integer_audio_that_fits_in_int16(dtype):
    values = np.array([0, 1, 100, 127], dtype)
    a, b = FaxTerminal(False), FaxTerminal(False)
    a.rx(values)
    b.rx(values.astype(np.int16))
    a.rx([5, -5, 0])                    # a list of ints
    assert a._now == b._now + 3 == 7


@pytest.mark.parametrize("samples, message", [
    (np.zeros(160, np.float32), "rx takes int16 samples (8000/s, mono), not float32: scale"),
    (np.zeros(160), "rx takes int16 samples (8000/s, mono), not float64"),
    (np.zeros(160, bool), "rx takes int16 samples (8000/s, mono), not bool"),
    (np.array([0, 40000], np.int32), "rx takes int16 samples; these int32 values reach 0..40000"),
    (np.array([0, 65535], np.uint16), "rx takes int16 samples; these uint16 values reach"),
    (np.zeros((2, 80), np.int16), "rx takes a 1-D array of mono samples"),
])
def test_rx_refuses_audio_it_would_have_to_guess_at(samples, message):
    term = FaxTerminal(False)
    with pytest.raises(LocalProtocolError) as info:
        term.rx(samples)
    assert str(info.value).startswith(message)
    assert term._now == 0 and not term.finished


@pytest.mark.parametrize("n", [-1, 2.5, "160", None, True])
def test_tx_takes_a_whole_number_of_samples(n):
    term = FaxTerminal(False)
    with pytest.raises(LocalProtocolError, match="tx\\(n\\) takes a whole number of samples"):
        term.tx(n)


def test_tx_takes_numpy_integers_and_zero():
    term = FaxTerminal(False)
    assert term.tx(np.int64(160)).shape == (160,) and term.tx(0).shape == (0,)


def test_a_page_without_a_line_is_refused_when_made():
    from faxengine.t4 import Page
    empty = Page(np.zeros((0, 1728), dtype=bool), 204, 196)
    with pytest.raises(LocalProtocolError, match=r"page 2 has no line \(0 x 1728 pels\)"):
        FaxTerminal(True, send=[text_page(1), empty])
