"""``faxengine send/receive --device N``: a fax through sound cards (issue 10).

The commands open their cards with ``commands.CARD_OPTIONS``; the tests put a
``FakePyAudio`` (tests/media/test_soundcard.py) there with two devices, run
``receive --device 1`` and ``send --device 0`` on two threads, and play
PortAudio's part: each tick captures on one card what the other played.
"""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from faxengine import tiff
from faxengine.media import commands
from faxengine.media.commands import receive_main, send_main
from test_soundcard import FakePyAudio, text_page


class TwoCards(FakePyAudio):
    """A fake PyAudio with cards 0 and 1 that remembers which card each stream is on."""

    def __init__(self):
        super().__init__(devices=(("card a", 1, 1, 8000.0), ("card b", 1, 1, 8000.0)))
        self.by_device = {}

    def open(self, *args, input_device_index=None, **kw):
        stream = super().open(*args, **kw)
        self.by_device[input_device_index] = stream
        return stream


LATE = 60.0     # the card's real-time wait for a buffer: far beyond any stall of the
                # test's thread, so a loaded machine never makes a block late


@pytest.fixture
def cards(monkeypatch):
    fake = TwoCards()
    terminals = []

    class Recorded(commands.FaxTerminal):     # lets the test find each call's terminal
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            terminals.append(self)

    monkeypatch.setattr(commands, "FaxTerminal", Recorded)
    monkeypatch.setattr(commands, "CARD_OPTIONS", {"pyaudio": fake, "late": LATE})
    return fake, terminals


def wait(condition, what: str, seconds: float = 30.0) -> None:
    """Poll ``condition()`` until true; fail with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds:.0f} s"
        time.sleep(0.0001)


def wire(fake, workers) -> None:
    """Cross-connect cards 0 and 1, one buffer at a time, until both are closed.

    The test is PortAudio here, and no clock of its own may decide anything, so
    the call is the same every run however loaded the machine is:

    - a card is ticked (captures what the other played, plays its next buffer)
      only when its worker has queued an answer to every buffer before:
      ``stats.blocks`` counts a block once it is on the output queue;
    - once the worker drains (its terminal finished: no more blocks come), the
      card is ticked while it has buffers queued, and never again after that:
      the test waits for the worker to close it (``drain`` gives up only after
      ``LATE`` seconds without a buffer taken).

    So every underrun, overrun or late block counted is the card's fault.
    """
    wait(lambda: len(fake.by_device) == 2 or not all(w.is_alive() for w in workers),
         "both commands did not open their cards")
    assert len(fake.by_device) == 2, "a command ended before it opened its card"
    streams = [fake.by_device[0], fake.by_device[1]]
    cards = [s.callback.__self__ for s in streams]
    given = [0, 0]                  # buffers each card has captured
    heard = [np.zeros(160, np.int16)] * 2
    for _ in range(120 * 50):       # 120 s of line time
        if all(s.closed for s in streams):
            return
        played = [np.zeros(160, np.int16)] * 2
        for i, (s, c) in enumerate(zip(streams, cards)):
            if c.draining and not c.queued:     # played out: the worker closes the card
                wait(lambda: s.closed, f"card {i} was not closed after it played out")
            if not s.closed:
                played[i] = s.tick(heard[i])
                given[i] += 1
        heard = played[::-1]
        for i, (s, c) in enumerate(zip(streams, cards)):
            wait(lambda: c.stats.blocks >= given[i] or c.draining or s.closed,
                 f"worker {i} did not answer buffer {given[i]}")
    raise AssertionError("the call did not end within 120 s of line time")


def run_both(send_argv, receive_argv, fake, terminals, capsys):
    status = {}
    workers = [threading.Thread(target=lambda: status.setdefault("rx", receive_main(receive_argv))),
               threading.Thread(target=lambda: status.setdefault("tx", send_main(send_argv)))]
    workers[0].start()
    wait(lambda: terminals or not workers[0].is_alive(), "receive did not start")
    workers[1].start()
    try:
        wire(fake, workers)
    finally:                            # after a failure: end both calls (a terminal made
        for _ in range(3000):           # late too) and give a worker still waiting its buffers
            if not any(w.is_alive() for w in workers):
                break
            for t in terminals:
                t.abort()
            for s in fake.by_device.values():
                if not s.closed:
                    s.tick(np.zeros(160, np.int16))
            time.sleep(0.01)
        for w in workers:
            w.join(10)
    return status, capsys.readouterr()


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "no-ecm"])
def test_send_and_receive_through_two_cross_connected_cards(tmp_path, cards, capsys, ecm):
    fake, terminals = cards
    pages = [text_page(1), text_page(2)]
    tiff.write(tmp_path / "doc.tif", pages, coding="mmr")
    mode = "--ecm" if ecm else "--no-ecm"
    status, out = run_both([str(tmp_path / "doc.tif"), "--device", "0", mode],
                           ["--device", "1", "--out", str(tmp_path / "in"), mode],
                           fake, terminals, capsys)
    assert status == {"rx": 0, "tx": 0}, out
    lines = out.out.splitlines()
    assert lines[0] == "waiting on sound card 1"
    written = sorted((tmp_path / "in").glob("fax-*-device1.tif"))
    assert len(written) == 1
    mode_words = "MMR, ECM" if ecm else "MR, no ECM"  # T.6 (MMR) coding is only sent with ECM
    assert f"sent: OK -- the document was transferred; 2 pages, 14400 bit/s, {mode_words}; " \
           "sound card 0 at 8000 samples/s, late 0 overruns in 0 out 0 underruns 0" in lines
    assert f"received: OK -- the document was transferred; 2 pages, 14400 bit/s, " \
           f"{mode_words}; sound card 1 at 8000 samples/s, late 0 overruns in 0 out 0 " \
           f"underruns 0; wrote {written[0]}" in lines
    assert [p.image.tolist() for p in tiff.read(written[0])] == \
        [p.image.tolist() for p in pages]
    # the same progress as over SIP: stderr is no terminal here, so one line per page sent
    assert out.err.splitlines() == ["page 1/2 sent", "page 2/2 sent"]


def test_json_results_through_cards(tmp_path, cards, capsys):
    fake, terminals = cards
    tiff.write(tmp_path / "doc.tif", [text_page(3)], coding="mmr")
    status, out = run_both([str(tmp_path / "doc.tif"), "--device", "0", "--json"],
                           ["--device", "1", "--out", str(tmp_path / "in"), "--json"],
                           fake, terminals, capsys)
    assert status == {"rx": 0, "tx": 0}
    results = [json.loads(line) for line in out.out.splitlines()[1:]]
    assert sorted((r["device"], r["ok"], r["fax"]["pages"]) for r in results) == \
        [(0, True, 1), (1, True, 1)]
    rx = next(r for r in results if r["device"] == 1)
    assert rx["path"].endswith("-device1.tif") and rx["rate"] == 8000
    assert rx["card"]["late"] == 0 and out.err == ""          # --json draws no progress


@pytest.mark.parametrize("argv,line", [
    (["doc.tif"], "faxengine send: give --to sip:NUMBER@HOST (a SIP call) or --device N "
                  "(a sound card), one of them"),
    (["doc.tif", "--to", "sip:fax@127.0.0.1", "--device", "0"],
     "faxengine send: give --to sip:NUMBER@HOST (a SIP call) or --device N (a sound card), "
     "not both"),
])
def test_send_takes_to_or_device(argv, line, capsys):
    assert send_main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [line]


@pytest.mark.parametrize("argv,line", [
    (["--out", "in"], "faxengine receive: give --listen HOST:PORT (a SIP call) or --device N "
                      "(a sound card), one of them"),
    (["--out", "in", "--listen", "127.0.0.1:0", "--device", "1"],
     "faxengine receive: give --listen HOST:PORT (a SIP call) or --device N (a sound card), "
     "not both"),
    (["--out", "in", "--device", "1", "--calls", "3"],
     "faxengine receive: receive --device takes one call: leave out --calls"),
])
def test_receive_takes_listen_or_device(argv, line, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert receive_main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [line]
    assert not (tmp_path / "in").exists()      # refused before making any folder


def test_a_card_that_cannot_be_opened_is_one_line(tmp_path, cards, capsys):
    fake, _ = cards
    tiff.write(tmp_path / "doc.tif", [text_page(4)], coding="mmr")
    assert send_main([str(tmp_path / "doc.tif"), "--device", "7"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "faxengine send: sound card 7 cannot be opened at 8000 samples/s or its own rate, "
        "mono int16: Invalid device index (faxengine devices lists the cards)"]


def test_a_device_number_must_be_a_number(capsys):
    with pytest.raises(SystemExit) as exit_:
        send_main(["doc.tif", "--device", "usb"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "faxengine send: error: argument --device: --device takes a card's number "
        "(faxengine devices lists them), not 'usb'")
