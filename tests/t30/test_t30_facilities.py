"""DIS/DTC/DCS bit by bit (T.30 Table 2), choose_dcs, fallback, describe."""
from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxengine.t30 import (Capabilities, Dcs, FacilitiesError, IncompatibleError,
                           LocalProtocolError, Preferences, choose_dcs, fallback)
from faxengine.t30.facilities import (LENGTHS, MODES, RESOLUTIONS, WIDTHS, _DIS_MODEMS,
                                      _DIS_SCAN, describe, min_bits_per_line)

ALL = Capabilities(modems=frozenset({"V.17", "V.29", "V.27ter"}),
                   resolutions=frozenset(RESOLUTIONS), codings=frozenset({"mr", "mmr"}),
                   max_width="A3", max_length="unlimited", ecm=True)


def bit(fif: bytes, n: int) -> int:
    """Table 2 bit n of a FIF, first bit on the line = LSB."""
    return fif[(n - 1) // 8] >> ((n - 1) % 8) & 1 if (n - 1) // 8 < len(fif) else 0


# --- known octets -----------------------------------------------------------

def test_decode_dis_from_a_service_manual():
    # Epson's example DIS "80 20 C2 8A C4 80 D5 83 80 18" (FCF 80, then the FIF)
    caps = Capabilities.decode(bytes.fromhex("20C28AC480D5838018"))
    assert caps.modems == frozenset()                 # 0000: V.8 terminals, fall-back
    assert caps.resolutions >= {"fine", "superfine", "400"} and "300" not in caps.resolutions
    assert caps.codings == {"mh", "mr", "mmr"} and caps.ecm
    assert caps.max_width == "A3" and caps.max_length == "unlimited"
    assert caps.min_scan_ms == 20 and not caps.scan_half_fine
    assert caps.metric_preferred and not caps.inch_preferred and caps.can_receive


def test_decode_dcs_from_a_service_manual():
    dcs = Dcs.decode(bytes.fromhex("0042F844"))      # Epson's DCS "83 00 42 F8 44"
    assert dcs == Dcs(modem="V.27ter", rate=2400, resolution="fine", coding="mmr",
                      width="A4", length="unlimited", min_scan_ms=0, ecm=True)


def test_spandsp_style_dis_octets():
    # what spandsp 0.0.6 sends for V.17/V.29/V.27ter, fine+superfine, MR+MMR, ECM, A3,
    # unlimited (measured with tests/t30/spandsp_t30.c): bit 45 metric preferred too
    caps = dataclasses.replace(ALL, resolutions=frozenset({"fine", "superfine"}),
                               metric_preferred=True)
    assert caps.encode() == bytes.fromhex("00eefac48011")


@pytest.mark.parametrize("modem, rate, code", [  # DCS bits 11, 12, 13, 14
    ("V.27ter", 2400, "0000"), ("V.27ter", 4800, "0100"), ("V.29", 9600, "1000"),
    ("V.29", 7200, "1100"), ("V.17", 14400, "0001"), ("V.17", 12000, "0101"),
    ("V.17", 9600, "1001"), ("V.17", 7200, "1101")])
def test_dcs_rate_codes(modem, rate, code):
    fif = Dcs(modem=modem, rate=rate).encode()
    assert "".join(str(bit(fif, n)) for n in (11, 12, 13, 14)) == code
    assert bit(fif, 10) == 1


@pytest.mark.parametrize("modems, code", [
    (set(), "0000"), ({"V.27ter"}, "0100"), ({"V.29"}, "1000"),
    ({"V.27ter", "V.29"}, "1100"), ({"V.27ter", "V.29", "V.17"}, "1101")])
def test_dis_modem_codes(modems, code):
    fif = Capabilities(modems=frozenset(modems)).encode()
    assert "".join(str(bit(fif, n)) for n in (11, 12, 13, 14)) == code


@pytest.mark.parametrize("width, dis_code, dcs_code", [
    ("A4", "00", "00"), ("B4", "10", "10"), ("A3", "01", "01")])
def test_width_codes(width, dis_code, dcs_code):
    assert f"{bit(Capabilities(max_width=width).encode(), 17)}" \
           f"{bit(Capabilities(max_width=width).encode(), 18)}" == dis_code
    fif = Dcs(width=width).encode()
    assert f"{bit(fif, 17)}{bit(fif, 18)}" == dcs_code


@pytest.mark.parametrize("length, code", [("A4", "00"), ("B4", "10"), ("unlimited", "01")])
def test_length_codes(length, code):
    for fif in (Capabilities(max_length=length).encode(), Dcs(length=length).encode()):
        assert f"{bit(fif, 19)}{bit(fif, 20)}" == code


@pytest.mark.parametrize("ms, half, code", [
    (20, False, "000"), (40, False, "001"), (10, False, "010"), (5, False, "100"),
    (10, True, "011"), (20, True, "110"), (40, True, "101"), (0, False, "111")])
def test_dis_scan_time_codes(ms, half, code):
    fif = Capabilities(min_scan_ms=ms, scan_half_fine=half).encode()
    assert "".join(str(bit(fif, n)) for n in (21, 22, 23)) == code


@pytest.mark.parametrize("ms, code", [(20, "000"), (40, "001"), (10, "010"), (5, "100"),
                                      (0, "111")])
def test_dcs_scan_time_codes(ms, code):
    fif = Dcs(min_scan_ms=ms).encode()
    assert "".join(str(bit(fif, n)) for n in (21, 22, 23)) == code


@pytest.mark.parametrize("resolution, bits", [
    ("standard", set()), ("fine", {15}), ("200", {15, 44}), ("superfine", {41}),
    ("300", {42, 44}), ("r16-superfine", {43}), ("400", {43, 44})])
def test_dcs_resolution_bits(resolution, bits):
    fif = Dcs(resolution=resolution).encode()
    assert {n for n in (15, 41, 42, 43, 44) if bit(fif, n)} == bits


def test_dcs_ecm_bits_and_extend_octets():
    fif = Dcs(coding="mmr", ecm=True, frame_size=64).encode()
    assert len(fif) == 4 and bit(fif, 24) == 1 and bit(fif, 32) == 0
    assert bit(fif, 27) == bit(fif, 28) == bit(fif, 31) == 1 and bit(fif, 16) == 0
    assert len(Dcs(coding="mr").encode()) == 3 and bit(Dcs(coding="mr").encode(), 16)
    fif = Dcs(resolution="superfine").encode()       # bit 41 -> octet 6, extends on 24-40
    assert len(fif) == 6 and bit(fif, 24) and bit(fif, 32) and bit(fif, 40) and not bit(fif, 48)


# --- round trips ------------------------------------------------------------

dcs_strategy = st.builds(
    lambda mode, res, coding, w, length, ms, ecm, size, unc: Dcs(
        modem=mode[0], rate=mode[1], resolution=res,
        coding=coding if ecm or coding != "mmr" else "mr", width=w, length=length,
        min_scan_ms=ms, ecm=ecm, frame_size=size if ecm else 256, uncompressed=unc),
    st.sampled_from(MODES), st.sampled_from(RESOLUTIONS), st.sampled_from(["mh", "mr", "mmr"]),
    st.sampled_from(WIDTHS), st.sampled_from(LENGTHS), st.sampled_from([0, 5, 10, 20, 40]),
    st.booleans(), st.sampled_from([256, 64]), st.booleans())

caps_strategy = st.builds(
    lambda modems, res, codings, w, length, scan, half2, flags: Capabilities(
        modems=modems, resolutions=frozenset(res), codings=frozenset(codings),
        max_width=w, max_length=length, min_scan_ms=scan[0], scan_half_fine=scan[1],
        scan_half_superfine=half2, ecm=flags[0], frames_64_preferred=flags[1],
        uncompressed=flags[2], inch_preferred=flags[3], metric_preferred=flags[4],
        can_receive=flags[5], ready_to_transmit=flags[6]),
    st.sampled_from(list(_DIS_MODEMS.values())), st.sets(st.sampled_from(RESOLUTIONS)),
    st.sets(st.sampled_from(["mh", "mr", "mmr"])), st.sampled_from(WIDTHS),
    st.sampled_from(LENGTHS), st.sampled_from(list(_DIS_SCAN.values())), st.booleans(),
    st.tuples(*[st.booleans()] * 7))


@settings(max_examples=300, deadline=None)
@given(dcs_strategy)
def test_dcs_round_trip(dcs):
    assert Dcs.decode(dcs.encode()) == dcs


@settings(max_examples=300, deadline=None)
@given(caps_strategy)
def test_capabilities_round_trip(caps):
    assert Capabilities.decode(caps.encode()) == caps


@settings(max_examples=100, deadline=None)
@given(caps_strategy, st.binary(max_size=6))
def test_decoding_ignores_what_follows_the_last_octet(caps, junk):
    fif = caps.encode()
    assert Capabilities.decode(fif + junk) == caps   # extend bit 0: later octets ignored


def test_short_fields_mean_capabilities_absent():
    full = ALL.encode()
    short = full[:3]                                     # says "extend" but stops
    caps = Capabilities.decode(short)
    assert not caps.ecm and caps.codings == {"mh", "mr"} and caps.resolutions == {
        "standard", "fine", "200"}
    assert Capabilities.decode(full[:2]).max_width == "A4"
    with pytest.raises(FacilitiesError, match="empty"):
        Capabilities.decode(b"")


def test_dis_reserved_codes_read_leniently():
    fif = bytearray(Capabilities().encode())
    fif[2] |= 0x03                                       # width bits 17, 18 = 11
    assert Capabilities.decode(bytes(fif)).max_width == "A4"
    fif = bytearray(Capabilities(modems=frozenset()).encode())
    fif[1] |= 0b0111 << 2                               # bits 11-14 = 1110 (V.33 era)
    assert Capabilities.decode(bytes(fif)).modems == {"V.27ter", "V.29"}


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.__setitem__(1, f[1] | 0x04 << 2), "bits 11-14 = 0010"),     # V.33 14400
    (lambda f: f.__setitem__(2, f[2] | 0x03), "bits 17-18 = 11"),
    (lambda f: f.__setitem__(2, f[2] | 0x0C), "bits 19-20 = 11"),
    (lambda f: f.__setitem__(2, (f[2] & ~0x70) | 0x30), "bits 21-23 = 110"),
])
def test_invalid_dcs_raises(mutate, message):
    fif = bytearray(Dcs(modem="V.27ter", rate=2400).encode())
    mutate(fif)
    with pytest.raises(FacilitiesError, match=message):
        Dcs.decode(bytes(fif))


def test_dcs_mmr_without_ecm_is_rejected_both_ways():
    fif = bytearray(Dcs(coding="mmr", ecm=True).encode())
    fif[3] &= ~0x04                                      # clear bit 27
    with pytest.raises(FacilitiesError, match="MMR"):
        Dcs.decode(bytes(fif))
    with pytest.raises(LocalProtocolError, match="needs ECM"):
        Dcs(coding="mmr")
    with pytest.raises(LocalProtocolError, match="ECM setting"):
        Dcs(frame_size=64)
    with pytest.raises(LocalProtocolError):
        Dcs(modem="V.29", rate=14400)
    with pytest.raises(LocalProtocolError, match="cannot offer"):
        Capabilities(modems=frozenset({"V.17"}))


# --- choosing a mode --------------------------------------------------------

def test_choose_best_common_mode():
    dcs = choose_dcs(ALL, ALL)
    assert dcs == Dcs(modem="V.17", rate=14400, resolution="fine", coding="mmr",
                      width="A4", length="A4", min_scan_ms=0, ecm=True, frame_size=256)
    assert describe(dcs) == "DCS: V.17 14400, fine, MMR, ECM 256, A4"


def test_choose_without_ecm_uses_mr_and_scan_time():
    remote = Capabilities(modems=frozenset({"V.27ter", "V.29"}), codings=frozenset({"mr"}),
                          min_scan_ms=20, scan_half_fine=True)
    dcs = choose_dcs(ALL, remote, Preferences(resolution="fine"))
    assert (dcs.modem, dcs.rate, dcs.coding, dcs.ecm, dcs.min_scan_ms) == (
        "V.29", 9600, "mr", False, 10)
    assert dcs.min_bits_per_line == 96
    assert choose_dcs(ALL, remote, Preferences(resolution="standard")).min_scan_ms == 20
    assert describe(dcs) == "DCS: V.29 9600, fine, MR, no ECM, A4, scan 10 ms"


def test_choose_honours_preferences():
    prefs = Preferences(max_rate=9600, ecm=False, codings=("mr", "mh"), width="B4",
                        length="B4", resolution="superfine")
    dcs = choose_dcs(ALL, ALL, prefs)
    assert (dcs.modem, dcs.rate, dcs.coding, dcs.ecm, dcs.width, dcs.length,
            dcs.resolution) == ("V.17", 9600, "mr", False, "B4", "B4", "superfine")
    ecm64 = choose_dcs(ALL, ALL, Preferences(frame_size=64))
    assert ecm64.frame_size == 64 and ecm64.ecm


def test_mmr_needs_ecm_on_both_sides():
    remote = dataclasses.replace(ALL, ecm=False)
    assert choose_dcs(ALL, remote).coding == "mr"
    with pytest.raises(IncompatibleError, match="MMR needs ECM"):
        choose_dcs(ALL, remote, Preferences(codings=("mmr",)))


def test_min_scan_time_for_higher_resolutions():
    remote = dataclasses.replace(ALL, ecm=False, min_scan_ms=10, scan_half_fine=True,
                                 scan_half_superfine=True)
    assert remote.min_scan_for("standard") == 10
    assert remote.min_scan_for("fine") == 5
    assert remote.min_scan_for("superfine") == 5      # 2.5 ms rounds up to a DCS code
    remote = dataclasses.replace(remote, min_scan_ms=40)
    assert choose_dcs(ALL, remote, Preferences(resolution="400")).min_scan_ms == 10


@pytest.mark.parametrize("remote, prefs, message", [
    (Capabilities(resolutions=frozenset()), Preferences(resolution="fine"), "fine resolution"),
    (Capabilities(max_width="B4"), Preferences(width="A3"), "up to B4 width"),
    (Capabilities(max_length="A4"), Preferences(length="B4"), "up to A4 long"),
    (Capabilities(modems=frozenset({"V.29"})), Preferences(max_rate=4800), "no modem"),
    (Capabilities(can_receive=False), Preferences(), "cannot receive"),
])
def test_incompatible(remote, prefs, message):
    with pytest.raises(IncompatibleError, match=message):
        choose_dcs(ALL, remote, prefs)


def test_fallback_order_after_ftt():
    dcs = choose_dcs(ALL, ALL)
    rates = []
    while dcs is not None:
        rates.append((dcs.modem, dcs.rate))
        dcs = fallback(dcs, ALL)
    assert rates == [("V.17", 14400), ("V.17", 12000), ("V.17", 9600), ("V.17", 7200),
                     ("V.27ter", 4800), ("V.27ter", 2400)]
    v29 = Capabilities(modems=frozenset({"V.29"}))
    dcs = choose_dcs(ALL, v29, Preferences(resolution="standard"))
    assert (dcs.modem, dcs.rate) == ("V.29", 9600)
    assert fallback(dcs, v29) == dataclasses.replace(dcs, rate=7200)
    assert fallback(dataclasses.replace(dcs, rate=7200), v29) is None
    local = Capabilities(modems=frozenset({"V.27ter", "V.29"}))
    assert fallback(Dcs(modem="V.29", rate=7200), ALL, local).rate == 4800


def test_min_bits_per_line():
    assert min_bits_per_line(14400, 5) == 72
    assert min_bits_per_line(9600, 20) == 192
    assert min_bits_per_line(2400, 0) == 0
    assert Dcs(modem="V.27ter", rate=4800, min_scan_ms=10).min_bits_per_line == 48


def test_mr_k_by_resolution():
    # T.4 §4.2.1.3.4: K = 2 at standard resolution, 4 at higher ones
    assert Dcs(coding="mr", resolution="standard").k == 2
    assert Dcs(coding="mr", resolution="fine").k == 4
    assert Dcs(coding="mr", resolution="superfine").k == 4
    assert Dcs(coding="mh").k is None and Dcs(coding="mmr", ecm=True).k is None


def test_describe_dis():
    caps = dataclasses.replace(ALL, resolutions=frozenset({"fine", "superfine"}))
    assert describe(caps) == ("DIS: V.17 14400 V.29 V.27ter, fine superfine, MR MMR, ECM, "
                              "A4 B4 A3, unlimited length, scan 0 ms")
    plain = Capabilities(modems=frozenset({"V.27ter"}), resolutions=frozenset(),
                         codings=frozenset(), max_length="A4", min_scan_ms=20)
    assert describe(plain, "DTC") == ("DTC: V.27ter 4800, standard, MH, no ECM, A4, "
                                      "length up to A4, scan 20 ms")
    assert Dcs(resolution="300").pels == 2592 and Dcs(width="A3").pels == 2432


prefs_strategy = st.builds(
    Preferences, max_rate=st.sampled_from([2400, 4800, 7200, 9600, 12000, 14400]),
    ecm=st.booleans(), frame_size=st.sampled_from([256, 64]),
    codings=st.lists(st.sampled_from(["mh", "mr", "mmr"]), min_size=1, max_size=3,
                     unique=True).map(tuple),
    resolution=st.sampled_from(RESOLUTIONS), width=st.sampled_from(WIDTHS),
    length=st.sampled_from(LENGTHS))


@settings(max_examples=300, deadline=None)
@given(caps_strategy, caps_strategy, prefs_strategy)
def test_choose_dcs_only_picks_what_both_ends_have(local, remote, prefs):
    try:
        dcs = choose_dcs(local, remote, prefs)
    except IncompatibleError:
        return
    mode = (dcs.modem, dcs.rate)
    assert mode in local.modes() and mode in remote.modes() and dcs.rate <= prefs.max_rate
    faster = [m for m in MODES if m[1] > dcs.rate and m[1] <= prefs.max_rate]
    assert not any(m in local.modes() and m in remote.modes() for m in faster)
    assert dcs.coding in local.codings and dcs.coding in remote.codings
    assert dcs.coding in prefs.codings and (dcs.coding != "mmr" or dcs.ecm)
    assert dcs.ecm == (prefs.ecm and local.ecm and remote.ecm)
    assert dcs.resolution in remote.resolutions and dcs.resolution in local.resolutions
    assert dcs.min_scan_ms == (0 if dcs.ecm else remote.min_scan_for(dcs.resolution))
    assert Dcs.decode(dcs.encode()) == dcs
    rates = [dcs.rate]
    while (dcs := fallback(dcs, remote, local)) is not None:
        assert (dcs.modem, dcs.rate) in remote.modes() and dcs.rate < rates[-1]
        rates.append(dcs.rate)
    assert rates[-1] == min(r for _, r in set(local.modes()) & set(remote.modes()))
