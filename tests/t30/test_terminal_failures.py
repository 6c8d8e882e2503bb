"""FaxTerminal when things go wrong: every failure ends the call cleanly with its code.

Nothing here may raise: a silent peer, a peer that hangs up, a line too
noisy to train, a page hit by a noise burst, garbage frames -- each ends
with ``finished`` and the right ``result.code``, and a receiver keeps the
pages it confirmed.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

from faxengine import line, t4
from faxengine.t30.ecm import split_page
from faxengine.levels import dbm0_to_power
from faxengine.modem import HdlcTx, V21Tx
from faxengine.t30.frames import Fcf, Frame
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page
from faxengine.t30.facilities import Capabilities, Dcs
from faxengine.t30.ecm import PartialPage
from spandsp import Silent, run_call as pump
from test_terminal import call, received, text_page


class Tone(Silent):
    """Someone who answers and talks: a 440 Hz tone at -20 dBm0 (or ``dbm0``)."""

    def __init__(self, dbm0=None):
        self.t = 0
        self.amplitude = 2300 if dbm0 is None else (2 * dbm0_to_power(dbm0)) ** 0.5

    def tx(self, n):
        t = np.arange(self.t, self.t + n)
        self.t += n
        return (self.amplitude * np.sin(2 * np.pi * 440 * t / 8000)).astype(np.int16)


class CutOff:
    """A terminal that goes dead (silent and deaf) once ``when(term)`` is true."""

    def __init__(self, term, when):
        self.term, self.when, self.dead = term, when, False

    @property
    def finished(self):
        return self.dead or self.term.finished

    def tx(self, n):
        self.dead = self.dead or self.when(self.term)
        return np.zeros(n, dtype=np.int16) if self.dead else self.term.tx(n)

    def rx(self, samples):
        if not self.dead:
            self.term.rx(samples)


class Window:
    """A line that adds a loud noise burst (or mutes) between two times, in seconds."""

    def __init__(self, start_s, end_s, mute=False, seed=3, std=6000.0):
        self.t, self.start, self.end, self.mute = 0, int(start_s * 8000), int(end_s * 8000), mute
        self.rng = np.random.default_rng(seed)
        self.std = std

    def process(self, samples):
        n = samples.size
        lo, hi = max(self.start - self.t, 0), min(self.end - self.t, n)
        self.t += n
        if lo >= hi:
            return samples
        out = samples.astype(np.float64)
        if self.mute:
            out[lo:hi] = 0
        else:
            out[lo:hi] += self.rng.normal(0, self.std, hi - lo)
        return np.clip(out, -32768, 32767).astype(np.int16)


def trace(caplog):
    return [r.getMessage() for r in caplog.records]


def test_no_answer_ends_after_t1():
    caller = FaxTerminal(True, send=[text_page(1)])
    seconds = pump(caller, Silent(), max_seconds=60)
    assert caller.finished and caller.result.code == "NO_ANSWER"
    assert caller.result.duration_s == pytest.approx(35.0, abs=0.1)
    assert seconds < 36 and not caller.result.ok and "T1" in caller.result.message


def test_voice_answer_is_not_fax():
    caller = FaxTerminal(True, send=[text_page(1)])
    pump(caller, Tone(), max_seconds=60)
    assert caller.result.code == "NOT_FAX"


def test_faint_audio_is_no_answer_not_a_voice():
    """Only audio above NOT_FAX_DBM0 (-40 dBm0) counts as a voice: a faint
    one (line hum, crosstalk) is a line nobody answered."""
    caller = FaxTerminal(True, send=[text_page(1)])
    pump(caller, Tone(dbm0=-46.0), max_seconds=60)
    assert caller.result.code == "NO_ANSWER"
    caller = FaxTerminal(True, send=[text_page(1)])
    pump(caller, Tone(dbm0=-34.0), max_seconds=60)
    assert caller.result.code == "NOT_FAX"


class Speaker(Silent):
    """Someone who answers and keeps talking: synthetic running speech (voiced
    syllables through formants, fricatives, pauses) at -18 dBm0."""

    def __init__(self, seed):
        from speech import synthetic_speech
        self.speech, self.t = synthetic_speech(40.0, seed), 0

    def tx(self, n):
        out = self.speech[self.t:self.t + n]
        self.t += n
        return np.pad(out, (0, n - out.size))


class CedOnly(Silent):
    """A fax machine that answers with CED and then says nothing we can decode."""

    def __init__(self):
        from faxengine.modem import CedTx
        self.ced = CedTx(-13.0, duration_s=2.6, silence_before_s=0.2)

    def tx(self, n):
        return self.ced.generate(n)


@pytest.mark.parametrize("seed", [1, 2])
def test_speech_answer_is_not_fax(seed):
    caller = FaxTerminal(True, send=[text_page(1)])
    pump(caller, Speaker(seed), max_seconds=60)
    assert caller.result.code == "NOT_FAX" and not caller.result.ok
    assert caller.result.duration_s == pytest.approx(35.0, abs=0.1)     # at T1


def test_ced_without_frames_is_a_fax_that_did_not_answer():
    """CED marks a fax machine even when none of its frames gets through:
    T1 ends the call as NO_ANSWER, not NOT_FAX (its level alone would say voice)."""
    caller = FaxTerminal(True, send=[text_page(1)])
    pump(caller, CedOnly(), max_seconds=60)
    assert caller.result.code == "NO_ANSWER"


def test_fax_answer_without_ced_still_works(tmp_path):
    """A fax that answers with DIS but no CED (here CED is lost on the line):
    V.21 marks it as a fax and the call goes through."""
    page = text_page(1, rows=300)
    tx, rx, out, _ = call(tmp_path, [page], line_ba=Window(0.0, 2.85, mute=True))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert np.array_equal(received(out)[0], page.image)


def test_no_common_modem_is_incompatible(tmp_path):
    tx, rx, out, _ = call(tmp_path, [text_page(1)], sender=dict(modems=("V.29",)),
                          receiver=dict(modems=("V.27ter",)))
    assert tx.result.code == "INCOMPATIBLE" and "no modem in common" in tx.result.message
    assert rx.result.code == "REMOTE_DISCONNECT" and rx.result.pages == 0


def test_sender_silent_mid_page_ends_receiver_by_t2(tmp_path):
    out = tmp_path / "rx.tif"
    sender = FaxTerminal(True, send=[text_page(1, rows=2000)], ecm=False)
    receiver = FaxTerminal(False, receive=out)
    dead = CutOff(sender, lambda t: t.state == "C:SEND_PAGE" and t._tx_time > 11 * 8000)
    pump(dead, receiver, max_seconds=60)
    assert dead.dead and receiver.finished
    assert receiver.result.code == "TIMEOUT_T2" and receiver.result.pages == 0


@pytest.mark.parametrize("ecm", [False, True], ids=["non-ecm", "ecm"])
def test_receiver_hangs_up_in_phase_d_keeps_its_pages(tmp_path, ecm):
    """Cut the receiver right after it saved page 3 of 5, before its MCF goes out."""
    out = tmp_path / "rx.tif"
    pages = [text_page(s, rows=200) for s in range(5)]
    sender = FaxTerminal(True, send=pages, ecm=ecm)
    receiver = FaxTerminal(False, receive=out)
    dead = CutOff(receiver, lambda t: t.pages_done == 3)
    pump(sender, dead, max_seconds=200)
    assert sender.result.code == "TIMEOUT_T4" and sender.result.pages == 2
    assert "3 tries" in sender.result.message
    got = received(out)
    assert len(got) == 3
    assert all(np.array_equal(a, p.image) for a, p in zip(got, pages))


def test_noise_too_strong_to_train_at_any_rate(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    tx, rx, _, _ = call(tmp_path, [text_page(1)], sender=dict(ecm=False),
                        line_ab=line.Line(noise_dbm0=-15, seed=1),
                        line_ba=line.Line(noise_dbm0=-15, seed=2))
    assert tx.result.code == "TRAINING_FAILED" and rx.result.code == "REMOTE_DISCONNECT"
    dcs = [m for m in trace(caplog) if m.startswith("tx DCS")]
    rates = [m.split(",")[0].split()[-1] for m in dcs]
    assert rates[:6] == ["14400", "12000", "9600", "7200", "4800", "2400"]


def test_ftt_falls_back_then_the_call_succeeds(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    page = text_page(2)
    tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=True),
                          line_ab=line.Line(noise_dbm0=-30, seed=1),
                          line_ba=line.Line(noise_dbm0=-30, seed=2))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    assert tx.result.bit_rate < 14400
    assert "rx FTT" in trace(caplog)
    assert np.array_equal(received(out)[0], page.image)


def test_rtn_is_answered_by_retraining_and_resending(tmp_path, caplog):
    """A noise burst in the middle of a non-ECM page: RTN, DCS + TCF again, the page again."""
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    page = text_page(3, rows=2000)
    tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=False),
                          line_ab=Window(12.0, 12.6))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    log = trace(caplog)
    assert "tx RTN" in log and "rx RTN" in log
    assert sum(m.startswith("tx DCS") for m in log) == 2
    assert rx.result.pages == tx.result.pages == 1
    assert np.array_equal(received(out)[0], page.image)


def test_lost_dcs_is_sent_again_when_dis_repeats(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    page = text_page(4)
    tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=True),
                          line_ab=Window(4.3, 6.2, mute=True))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    log = trace(caplog)
    assert sum(m.startswith("tx DIS") for m in log) >= 2       # T4 brought DIS again
    assert sum(m.startswith("tx DCS") for m in log) == 2
    assert np.array_equal(received(out)[0], page.image)


def test_local_abort_sends_dcn(tmp_path):
    out = tmp_path / "rx.tif"
    sender = FaxTerminal(True, send=[text_page(1, rows=2000)], ecm=False)
    receiver = FaxTerminal(False, receive=out)
    t = 0
    while not (sender.finished and receiver.finished) and t < 60 * 8000:
        if t == 10 * 8000:
            sender.abort()
        a, b = sender.tx(160), receiver.tx(160)
        receiver.rx(a)
        sender.rx(b)
        t += 160
    assert sender.result.code == "LOCAL_ABORT"
    assert receiver.result.code == "REMOTE_DISCONNECT"


def _v21(frames):
    h, m = HdlcTx(), V21Tx()
    bits = np.concatenate([h.encode(frames), h.finish()])
    return np.concatenate([np.zeros(800, np.int16), m.modulate(bits), m.finish()])


@pytest.mark.parametrize("side", ["sender", "receiver"])
def test_garbage_frames_never_crash(tmp_path, side):
    """Random and mutated T.30 frames heard in every phase: no exception, a clean end."""
    rng = np.random.default_rng(7 if side == "sender" else 8)
    good = [Frame(Fcf.DIS, Capabilities(ecm=True, codings={"mh", "mr", "mmr"}).encode()),
            Frame(Fcf.DCS, Dcs(ecm=True, coding="mmr").encode(), x=True),
            Frame(Fcf.CFR), Frame(Fcf.MCF), Frame(Fcf.FTT), Frame(Fcf.RTN),
            PartialPage(Fcf.EOP, 0, 0, 3).frame(True), Frame(Fcf.PPR, bytes(32)),
            Frame(Fcf.CTC, b"\x00\x00"), Frame(Fcf.EOR, b"\x00"), Frame(Fcf.CRP),
            Frame(Fcf.RNR), Frame(Fcf.FCD, b"\x01abc")]
    for trial in range(12):
        term = (FaxTerminal(True, send=[text_page(1, rows=50)]) if side == "sender"
                else FaxTerminal(False, receive=tmp_path / f"rx{trial}.tif"))
        for _ in range(20):
            f = bytearray(good[rng.integers(len(good))].to_bytes())
            kind = rng.integers(4)
            if kind == 0:
                f[rng.integers(len(f))] ^= 1 << rng.integers(8)
            elif kind == 1:
                f = f[:rng.integers(1, len(f) + 1)]
            elif kind == 2:
                f = bytearray(rng.integers(0, 256, rng.integers(1, 40)).astype(np.uint8).tobytes())
            signal = _v21([bytes(f)])
            for i in range(0, signal.size, 160):
                term.tx(160)
                term.rx(signal[i:i + 160])
        for _ in range(8000 * 70 // 160):          # let its timers end it
            if term.finished:
                break
            term.tx(160)
            term.rx(np.zeros(160, np.int16))
        assert term.finished and term.result is not None


def _drain(term, seconds):
    """Let ``term`` talk to silence for a while; returns whether it transmitted."""
    sent = False
    for _ in range(int(seconds * 8000) // 160):
        sent |= bool(np.any(term.tx(160)))
        term.rx(np.zeros(160, np.int16))
    return sent


def _hear(term, *frames):
    from faxengine.t30 import link
    signal = link.v21_signal(frames)
    for i in range(0, signal.size, 160):
        term.tx(160)
        term.rx(signal[i:i + 160])


def test_dcs_is_repeated_on_crp_and_t4_three_times_in_all(caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    sender = FaxTerminal(True, send=[text_page(1, rows=50)])
    _hear(sender, Frame(Fcf.DIS, Capabilities(ecm=True).encode()))
    _drain(sender, 4.5)                          # DCS and TCF go out
    assert sender.state == "B:WAIT_CFR"
    _hear(sender, Frame(Fcf.CRP))                # CRP: the command again at once
    _drain(sender, 0.5)
    assert sum(m.startswith("tx DCS") for m in trace(caplog)) == 2
    _drain(sender, 30)                           # then T4 once more, and the end
    assert sum(m.startswith("tx DCS") for m in trace(caplog)) == 3
    assert sender.finished and sender.result.code == "TIMEOUT_T4"
    assert trace(caplog)[-2] == "tx DCN"


class Jam:
    """Noise bursts of ``width`` seconds every ``every`` seconds from ``a`` to ``b``."""

    def __init__(self, a, b, every, width):
        self.windows = [Window(t, t + width, seed=int(t * 10)) for t in np.arange(a, b, every)]

    def process(self, samples):
        for w in self.windows:
            samples = w.process(samples)
        return samples


def test_ecm_frames_lost_to_a_burst_are_asked_for_again(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    page = text_page(3, rows=3000)
    tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=True, codings=("mh",)),
                          line_ab=Window(12.0, 12.3))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    log = trace(caplog)
    ppr = [m for m in log if m.startswith("tx PPR")]
    assert len(ppr) == 1 and "rx " + ppr[0][3:] in log
    assert tx.result.bit_rate == 14400
    assert np.array_equal(received(out)[0], page.image)
    # the page's event counts the PPR; every frame of its blocks arrived in the end
    [got] = [e for e in rx.events() if type(e).__name__ == "PageReceived"]
    assert got.ecm.ppr == 1 and not got.ecm.incomplete and got.bad_lines is None
    frames_sent = sum(len(b.frames) for b in split_page(
        t4.encode(page.image, "mh"), 256))
    assert got.ecm.frames == frames_sent and got.ecm.blocks == -(-frames_sent // 256)


@pytest.mark.parametrize("start", [11.0, 13.0])
def test_a_burst_that_loses_the_signal_costs_one_ppr_not_a_ctc(tmp_path, caplog, start):
    """A burst loud enough (clipping) to lose the V.17 signal mid-block.  The
    retransmission after PPR comes with the short training, which relies on
    the equaliser the receiver holds; the V.17 receiver starts it from the
    taps it had while its decisions were good, not from what the burst made
    of them, so one PPR mends the block at 14400.  (Starting from the taps
    the burst left, every short-trained retransmission failed: four PPRs,
    then CTC and its long training at 12000, twice the line time.)"""
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    page = text_page(3, rows=3000)
    tx, rx, out, seconds = call(tmp_path, [page], sender=dict(ecm=True, codings=("mh",)),
                                line_ab=Window(start, start + 1.0, std=20000.0))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    log = trace(caplog)
    assert sum(m.startswith("tx PPR") for m in log) == 1
    assert not any(m.startswith("tx CTC") for m in log)
    assert tx.result.bit_rate == rx.result.bit_rate == 14400
    assert seconds < 40
    assert np.array_equal(received(out)[0], page.image)


def test_v17_short_training_after_a_burst_lost_the_signal():
    """Modem level: long-trained signal, a clipping burst over its data, then a
    short-trained signal: every bit of the second arrives."""
    from faxengine.modem import V17Rx, V17Tx
    rng = np.random.default_rng(1)
    first = rng.integers(0, 2, 14400 * 3).astype(np.uint8)
    second = rng.integers(0, 2, 14400 * 2).astype(np.uint8)

    def signal(bits, short):
        tx = V17Tx(14400, short_train=short)
        return np.concatenate([np.zeros(600, np.int16), tx.modulate(bits), tx.finish()])

    for at, width in ((2.0, 0.3), (2.0, 1.0), (2.5, 0.5)):
        rx = V17Rx(14400)
        rx.demodulate(Window(at, at + width, std=20000.0).process(signal(first, False)))
        got = rx.demodulate(np.concatenate([np.zeros(4000, np.int16), signal(second, True),
                                            np.zeros(800, np.int16)]))
        # before them, at most a few bits the burst made of the first signal's end
        # (the turn-off's ones follow them)
        assert any(np.array_equal(got[k:k + second.size], second) for k in range(0, 401, 6)), \
            (at, width, int(np.sum(got[:second.size] != second)))


def test_fourth_ppr_brings_ctc_at_a_lower_rate(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    page = text_page(3, rows=3000)
    tx, rx, out, _ = call(tmp_path, [page], sender=dict(ecm=True, codings=("mh",)),
                          line_ab=Jam(12.0, 45.0, every=0.4, width=0.1))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    log = trace(caplog)
    assert sum(m.startswith("tx PPR") for m in log) == 4
    assert "tx CTC: continue at V.17 12000" in log and "tx CTR" in log
    assert tx.result.bit_rate == rx.result.bit_rate == 12000
    assert np.array_equal(received(out)[0], page.image)


def test_bad_options_are_refused_at_once(tmp_path):
    from faxengine.t30.errors import LocalProtocolError
    page = text_page(1, rows=50)
    with pytest.raises(LocalProtocolError, match="digits"):
        FaxTerminal(True, send=[page], ident="FAX-OFFICE")
    with pytest.raises(LocalProtocolError, match="not both"):
        FaxTerminal(True, send=[page], receive=tmp_path / "x.tif")
    with pytest.raises(LocalProtocolError, match="1000 pels wide"):
        FaxTerminal(True, send=[Page(np.zeros((10, 1000), bool), 204, 196)])
    with pytest.raises(LocalProtocolError, match="dpi"):
        FaxTerminal(True, send=[Page(np.zeros((10, 1728), bool), 100, 100)])
    with pytest.raises(LocalProtocolError, match="max_rate"):
        FaxTerminal(True, send=[page], max_rate=33600)


def test_rtp_keeps_the_page_and_retrains_before_the_next(tmp_path, caplog):
    """Short noise bursts hurt a few lines of a superfine page: RTP, DCS + TCF, next page."""
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    pages = [text_page(3, rows=3000, resolution="superfine"),
             text_page(4, rows=500, resolution="superfine")]
    tx, rx, out, _ = call(tmp_path, pages, sender=dict(ecm=False, codings=("mh",)),
                          line_ab=Jam(11.0, 14.0, every=1.0, width=0.01))
    assert tx.result.ok and rx.result.ok, (tx.result, rx.result)
    log = trace(caplog)
    assert "tx RTP" in log and "tx RTN" not in log
    assert sum(m.startswith("tx DCS") for m in log) == 2
    got = received(out)
    assert len(got) == 2 and tx.result.pages == rx.result.pages == 2
    assert np.array_equal(got[1], pages[1].image)
    # page 1 kept: garbage lines where the bursts hit, the rest as sent
    assert abs(got[0].shape[0] - 3000) < 300
    first_bad = int(np.argmax(np.any(got[0][:3000] != pages[0].image[:len(got[0])], axis=1)))
    assert first_bad > 300


def test_a_receiver_busy_for_60_s_ends_by_t5(tmp_path, caplog):
    """ECM flow control: RNR answered by RR, for at most T5 (60 s)."""
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    sender = FaxTerminal(True, send=[text_page(1, rows=200)], ecm=True)
    receiver = FaxTerminal(False, receive=tmp_path / "rx.tif")
    cut = pump(CutOff(sender, lambda t: t.state == "D:SENT_PPS-EOP" and not t.transmitting),
               receiver, max_seconds=60)
    assert sender.state == "D:SENT_PPS-EOP"
    for _ in range(60):
        _hear(sender, Frame(Fcf.RNR))
        _drain(sender, 1.5)
        if sender.finished:
            break
    assert sender.result.code == "TIMEOUT_T5"
    assert 55 < sender.result.duration_s - cut < 70
    assert sum(m == "tx RR" for m in trace(caplog)) >= 10


def test_answering_terminal_repeats_dis_until_t1(caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    receiver = FaxTerminal(False)                   # pages in memory: no file at all
    pump(receiver, Silent(), max_seconds=60)
    assert receiver.result.code == "NO_ANSWER"
    assert sum(m.startswith("tx DIS") for m in trace(caplog)) >= 7      # every T4, 35 s


def test_ecm_gives_up_with_eor_at_the_lowest_rate(tmp_path, caplog):
    """Four PPRs at 2400 bit/s, no lower rate: EOR, ERR, go on; the result says which pages."""
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    pages = [text_page(3, rows=600), text_page(4, rows=300)]
    tx, rx, out, _ = call(tmp_path, pages, sender=dict(ecm=True, codings=("mh",), max_rate=2400),
                          line_ab=Jam(10.0, 150.0, every=0.5, width=0.1), max_seconds=400)
    log = trace(caplog)
    assert "tx EOR-MPS" in log and "tx EOR-EOP" in log and "tx ERR" in log
    assert "tx CTC" not in " ".join(log)
    for result in (tx.result, rx.result):
        assert result.code == "PAGE_REJECTED" and "page(s) 1, 2 incomplete" in result.message
    assert tx.result.pages == 0 and tx.result.bit_rate == 2400


def test_a_file_that_cannot_be_written_ends_the_call_cleanly(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    sender = FaxTerminal(True, send=[text_page(1, rows=100)])
    receiver = FaxTerminal(False, receive=folder / "rx.tif")
    folder.rmdir()                  # gone after the checks: open() fails at the first page
    pump(sender, receiver, max_seconds=120)
    assert receiver.result.code == "LOCAL_ABORT" and "dir" in receiver.result.message
    assert receiver.result.pages == 0       # not written: not counted
    assert not sender.result.ok


@pytest.mark.parametrize("seed", range(6))
def test_random_line_trouble_never_raises(tmp_path, seed):
    """Bursts and dropouts at random places: the call ends, one way or another."""
    rng = np.random.default_rng(seed)
    windows = [Window(t, t + w, mute=bool(m), seed=seed)
               for t, w, m in zip(np.sort(rng.uniform(2, 60, 8)), rng.uniform(0.02, 1.5, 8),
                                  rng.integers(0, 2, 8))]

    class Trouble:
        def process(self, samples):
            for w in windows:
                samples = w.process(samples)
            return samples

    tx, rx, out, _ = call(tmp_path, [text_page(s, rows=400) for s in range(3)],
                          sender=dict(ecm=bool(seed % 2)), line_ab=Trouble(), max_seconds=600)
    assert tx.finished and rx.finished
    assert tx.result.code in ("OK", "TIMEOUT_T4", "TIMEOUT_T2", "REMOTE_DISCONNECT",
                              "PAGE_REJECTED", "TRAINING_FAILED", "NO_ANSWER")


def test_page_helpers_take_any_bits():
    from faxengine.t30.quality import first_eol as _first_eol, lines_lost as _lines_lost
    from faxengine.t30.quality import rtc_end as _rtc_end
    rng = np.random.default_rng(1)
    for n in (0, 1, 5, 12, 13, 30, 100, 5000):
        for bits in (np.zeros(n, np.uint8), np.ones(n, np.uint8),
                     rng.integers(0, 2, n).astype(np.uint8)):
            assert 0 <= _first_eol(bits) <= max(n, 0)
            assert _rtc_end(bits) <= n and _lines_lost(bits) >= 0
    eol = np.array([0] * 11 + [1], np.uint8)
    line = np.concatenate([eol, np.ones(20, np.uint8)])
    page = np.concatenate([line] * 30 + [eol] * 6 + [np.ones(50, np.uint8)])
    assert _rtc_end(page) == 30 * 32 + 6 * 12 + 1       # just past RTC's last EOL (+ tag)


class DropWhile:
    """A line that silences one transmission of ``term``: the first during which ``when(term)``."""

    def __init__(self, term, when):
        self.term, self.when, self.state = term, when, "waiting"

    def process(self, samples):
        active = self.term.transmitting and self.when(self.term)
        if self.state == "waiting" and active:
            self.state = "dropping"
        elif self.state == "dropping" and not self.term.transmitting:
            self.state = "done"
        return np.zeros_like(samples) if self.state == "dropping" else samples


def _pair(tmp_path, pages):
    return FaxTerminal(True, send=pages, ecm=False), FaxTerminal(False, receive=tmp_path / "rx.tif")


def test_lost_mcf_brings_the_same_mps_and_the_same_mcf(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    pages = [text_page(s, rows=300) for s in range(3)]
    sender, receiver = _pair(tmp_path, pages)
    drop = DropWhile(receiver, lambda t: t.pages_done == 1 and t.state == "C:RECEIVE_PAGE")
    pump(sender, receiver, line_ba=drop, max_seconds=200)
    assert drop.state == "done"
    assert sender.result.ok and receiver.result.ok and receiver.result.pages == 3
    log = trace(caplog)
    assert log.count("tx MPS") == 3 and "tx RTN" not in log        # page 1's MPS twice
    assert all(np.array_equal(a, p.image) for a, p in zip(received(tmp_path / "rx.tif"), pages))


def test_a_page_lost_whole_is_rejected_and_sent_again(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    pages = [text_page(s, rows=300) for s in range(2)]
    sender, receiver = _pair(tmp_path, pages)
    drop = DropWhile(sender, lambda t: t.state == "C:SEND_PAGE")
    pump(sender, receiver, line_ab=drop, max_seconds=200)
    assert sender.result.ok and receiver.result.ok and receiver.result.pages == 2
    log = trace(caplog)
    assert "tx RTN" in log and "tx CFR" in log and log.count("tx CFR") == 2
    assert all(np.array_equal(a, p.image) for a, p in zip(received(tmp_path / "rx.tif"), pages))


def test_dis_after_mps_retrains_and_sends_the_page_again(caplog):
    """A DIS while MPS waits for its response: the receiver is back in phase B
    and never confirmed the page, so DCS, TCF, and the same page again."""
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    sender = FaxTerminal(True, send=[text_page(1, rows=50), text_page(2, rows=50)], ecm=False)
    dis = Frame(Fcf.DIS, Capabilities(ecm=False).encode())
    _hear(sender, dis)
    _drain(sender, 4.5)                          # DCS and TCF
    _hear(sender, Frame(Fcf.CFR))
    _drain(sender, 4.0)                          # page 1 and MPS
    assert sender.state == "D:SENT_MPS"
    _hear(sender, dis)
    _drain(sender, 4.5)
    assert sender.state == "B:WAIT_CFR"
    _hear(sender, Frame(Fcf.CFR))
    _drain(sender, 4.0)
    pages = [m for m in trace(caplog) if m.startswith("tx page")]
    assert [p.split(":")[0] for p in pages] == ["tx page 1", "tx page 1"]
    assert sum(m.startswith("tx DCS") for m in trace(caplog)) == 2
    assert sender.state == "D:SENT_MPS" and sender.pages_done == 0
    for _ in range(2):                           # DIS again and again: given up
        _hear(sender, dis)
        _drain(sender, 4.5)
        if sender.finished:
            break
        _hear(sender, Frame(Fcf.CFR))
        _drain(sender, 4.0)
    assert sender.finished and sender.result.code == "PAGE_REJECTED"
    assert "page 1 with DIS (back to phase B) 3 times" in sender.result.message


def test_nsf_and_unknown_frames_before_dis_are_ignored(caplog):
    """T.30 §5.3.6.2.1: NSF is optional and vendor-defined, and frames a
    terminal does not know must not stop it: a DIS message led by an NSF, an
    unknown FCF and a CSI is answered with DCS and TCF all the same."""
    from faxengine.t30.frames import ident_frame, message

    caplog.set_level(logging.INFO, logger="faxengine.t30")
    sender = FaxTerminal(True, send=[text_page(1, rows=50)])
    _hear(sender, *message(Frame(Fcf.NSF, b"\x00\x00\x0e vendor blob \xff\xfe"),
                           Frame(Fcf.UNKNOWN, b"\x12\x34", code=0x0A),
                           ident_frame(Fcf.CSI, "+81 3 0000 0001"),
                           Frame(Fcf.DIS, Capabilities(ecm=True).encode())))
    _drain(sender, 4.5)
    assert sender.state == "B:WAIT_CFR"
    log = "\n".join(trace(caplog))
    assert "rx NSF" in log and "rx DIS" in log and "tx DCS" in log
    assert sender.result is None or sender.result.remote_ident == "+81 3 0000 0001"


@pytest.mark.parametrize("ecm", [False, True], ids=["non-ecm", "ecm"])
def test_sender_gone_after_page_1_of_an_eom_document_is_not_no_answer(tmp_path, ecm):
    """Page 1 fine, page 2 standard: EOM.  The sender goes dead after MCF:
    the receiver's phase B runs out (T1) with a code that says the other end
    stopped mid-document, and keeps page 1."""
    out = tmp_path / "rx.tif"
    pages = [text_page(1, rows=200), text_page(2, rows=200, resolution="standard")]
    sender = FaxTerminal(True, send=pages, ecm=ecm)
    receiver = FaxTerminal(False, receive=out)
    dead = CutOff(sender, lambda t: t.pages_done == 1)
    pump(dead, receiver, max_seconds=120)
    assert receiver.result.code == "TIMEOUT_T1" and receiver.result.pages == 1
    assert "stopped in the middle of the document" in receiver.result.message
    assert "check the number" not in receiver.result.message
    [got] = received(out)
    assert np.array_equal(got, pages[0].image)


def test_receiver_gone_after_its_mcf_to_eom_is_not_no_answer(tmp_path):
    pages = [text_page(1, rows=200), text_page(2, rows=200, resolution="standard")]
    sender = FaxTerminal(True, send=pages, ecm=False)
    receiver = FaxTerminal(False)
    dead = CutOff(receiver, lambda _: sender.pages_done == 1)     # its MCF was heard
    pump(sender, dead, max_seconds=120)
    assert sender.result.code == "TIMEOUT_T1" and sender.result.pages == 1


def test_a_local_protocol_error_ends_the_call_and_is_never_ignored(caplog):
    """A fault of our own while handling a frame (here: the mode for the
    document cannot be built) is not a frame to ignore: the call ends with
    LOCAL_ABORT, DCN and the reason."""
    from faxengine.t30.errors import LocalProtocolError

    def broken(index):
        raise LocalProtocolError("preferences out of order")

    caplog.set_level(logging.INFO, logger="faxengine.t30")
    sender = FaxTerminal(True, send=[text_page(1, rows=100)])
    sender._preferences = broken
    receiver = FaxTerminal(False)
    pump(sender, receiver, max_seconds=60)
    assert sender.result.code == "LOCAL_ABORT"
    assert sender.result.message.endswith("preferences out of order")
    assert receiver.result.code == "REMOTE_DISCONNECT"
    assert not any(m.startswith("ignored") for m in trace(caplog))
