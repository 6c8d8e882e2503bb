"""V.17 and V.29 on distorted channels: error-free at most 1 dB worse than flat.

For every rate our transmitter sends ``channel_matrix.RUNS`` runs of
``SECONDS`` s of random data; our receiver's flat threshold is found as the
benchmark finds it (``channel_matrix.threshold``: 0.5 dB steps down, every
run error-free), and on a channel every run must then come through without a
single bit error at that threshold + 1 dB.  The channels are those of
``faxengine.line.channel`` (M.1020 at and beyond its limits, V.56bis's test
channels); bench/test_channels.py sweeps them all beside spandsp's receivers.

MEASURED holds what that benchmark found for our receivers: the channel
threshold's excess over flat in dB, None where no SNR up to 34 dB was
error-free.  The default suite checks the channels with at least 0.5 dB to
spare; those just at the criterion (+1.0 dB) are checked behind ``slow``;
those that miss it are expected failures behind ``slow`` (strict: when the
receivers improve, the XPASS says to move them up).  And at 40 dB, every
V.56bis channel but those with EDD-3 is crossed without error.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

import channel_matrix as cm
from faxengine import line

MARGIN_DB = 1.0

# bench/test_channels.py, ours, excess over flat in dB (None: fails), per
# (kind, rate), in the order of channel_matrix.CHANNELS:
#   m1020 m1020x2 ad1-edd1 ad5-edd2 ad6-edd3 ad7-edd3 ad8-edd2 ad9-edd1 ad9-edd2 ad9-edd3
# (V.17 after its slower data-mode loops, checked at +1.0 dB only, not swept
# again: 14400 on ad8-edd2 no longer holds at +1.0, 9600 on ad9-edd1 now does;
# after its 12-symbol matched filter 12000 on ad9-edd1 holds at +1.0 too, and
# 14400 on ad9-edd1 since the transmitters' shaper change (output within 1 LSB
# of before). V.29 9600 on ad1-edd1 held at +1.0 after that change too and
# missed again after the V.29 front end's integer NCO (1 ulp in 0.6 % of
# samples): a case on a single noise event, kept with those that fall short.)
_TABLE = {
    ("v17", 14400): (None, None, 0.5, 1.5, None, None, 1.5, 1.0, 2.5, None),
    ("v17", 12000): (None, None, 0.5, 1.0, None, None, 1.0, 1.0, 2.0, None),
    ("v17", 9600): (None, None, 0.5, 0.5, None, None, 0.5, 1.0, 2.0, None),
    ("v17", 7200): (None, None, 0.5, 0.0, None, None, 0.0, 4.0, 1.0, None),
    ("v29", 9600): (None, None, 2.0, 1.0, None, None, 1.0, 2.5, 2.0, None),
    ("v29", 7200): (None, None, 1.0, 0.0, None, None, 0.5, 2.5, 2.0, None),
}
MEASURED = {(kind, rate, ch): excess for (kind, rate), row in _TABLE.items()
            for ch, excess in zip(cm.CHANNELS, row)}


def _cases(keep):
    return [case for case, excess in MEASURED.items() if keep(excess)]


WITH_MARGIN = _cases(lambda e: e is not None and e <= MARGIN_DB - 0.5)
AT_THE_LIMIT = _cases(lambda e: e is not None and MARGIN_DB - 0.5 < e <= MARGIN_DB)
FALLS_SHORT = _cases(lambda e: e is None or e > MARGIN_DB)


@lru_cache(maxsize=None)
def runs(kind: str, rate: int):
    return tuple(cm.runs(kind, rate))


@lru_cache(maxsize=None)
def flat_threshold(kind: str, rate: int) -> float:
    start = {14400: 30.0, 12000: 27.0, 9600: 25.0, 7200: 22.0}[rate]
    t = cm.threshold(cm.ours, kind, rate, cm.FLAT, runs(kind, rate), start, start - 20)
    assert t is not None, f"{kind} {rate}: not even error-free at {start} dB on a flat line"
    return t


def check(kind: str, rate: int, channel: str) -> None:
    snr = flat_threshold(kind, rate) + MARGIN_DB
    for i, (bits, audio) in enumerate(runs(kind, rate)):
        heard = cm.through(audio, channel, snr, seed=100 + i)
        errors = cm.ours(kind, rate, bits, heard)
        assert errors == 0, f"{kind} {rate} on {channel} at {snr} dB (flat + {MARGIN_DB}): {errors} errors, run {i}"


def _id(case):
    return "-".join(map(str, case))


@pytest.mark.parametrize("case", WITH_MARGIN, ids=_id)
def test_error_free_within_1_db_of_flat(case):
    check(*case)


@pytest.mark.slow
@pytest.mark.parametrize("case", AT_THE_LIMIT, ids=_id)
def test_error_free_within_1_db_of_flat_just(case):
    check(*case)


@pytest.mark.slow
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(
    strict=True, reason=f"measured: {'never error-free' if MEASURED[c] is None else f'+{MEASURED[c]} dB'}"))
    for c in FALLS_SHORT], ids=_id)
def test_channels_where_ours_falls_short(case):
    check(*case)


HIGH_SNR_DB = 40.0
#: every V.56bis channel but those with EDD-3, whose delay no receiver here spans
MILD = [name for name in line.CHANNELS if name.startswith("v56bis") and not name.endswith("edd3")]


@pytest.mark.parametrize("kind,rate", cm.MODEMS, ids=[f"{k}-{r}" for k, r in cm.MODEMS])
def test_every_v56bis_channel_without_edd3_is_error_free_at_40_db(kind, rate):
    bits, audio = cm.transmission(kind, rate, 3, seed=9)
    bad = [name for name in MILD if cm.ours(kind, rate, bits, cm.through(audio, name, HIGH_SNR_DB, seed=9))]
    assert not bad


def test_the_table_covers_every_rate_and_channel_once():
    assert set(_TABLE) == set(cm.MODEMS)
    assert all(len(row) == len(cm.CHANNELS) for row in _TABLE.values())
    assert len(WITH_MARGIN) + len(AT_THE_LIMIT) + len(FALLS_SHORT) == len(cm.MODEMS) * len(cm.CHANNELS)
