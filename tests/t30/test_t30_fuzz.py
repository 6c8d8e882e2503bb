"""Bounded fuzz: random and mutated frames give clean results or T30Error, nothing else."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxengine.t30 import Capabilities, Dcs, Fcf, Frame, T30Error
from faxengine.t30.ecm import EcmBlockReceiver, PartialPage, ctc_mode, eor_post, ppr_frames
from faxengine.t30.trace import describe_frame

SEEDS = [
    Frame(Fcf.DIS, Capabilities(ecm=True, codings=frozenset({"mr", "mmr"})).encode()).to_bytes(),
    Frame(Fcf.DCS, Dcs(coding="mmr", ecm=True, resolution="superfine").encode(), x=True).to_bytes(),
    PartialPage(Fcf.MPS, 3, 1, 200).frame(True).to_bytes(),
    Frame(Fcf.PPR, bytes(32)).to_bytes(),
    bytes.fromhex("ff030605aabbcc"),
    bytes.fromhex("ff13fb"),
]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.integers(0, 2))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == 0 and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            data.insert(i, draw(st.integers(0, 255)))
        elif data:
            del data[i]
    return bytes(data)


def exercise(data: bytes) -> None:
    try:
        frame = Frame.parse(data)
    except T30Error:
        return
    assert isinstance(describe_frame(frame), str)
    assert frame.to_bytes() == data
    for decode in (lambda: Capabilities.decode(frame.fif), lambda: Dcs.decode(frame.fif),
                   lambda: PartialPage.parse(frame), lambda: ppr_frames(frame.fif),
                   lambda: eor_post(frame), lambda: ctc_mode(frame.fif),
                   lambda: EcmBlockReceiver(64).add(frame)):
        try:
            decode()
        except T30Error:
            pass


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated(), st.binary(max_size=40),
                 st.binary(max_size=40).map(lambda b: b"\xff\x13" + b)))
def test_fuzz_parsers(data):
    exercise(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=12))
def test_any_dis_field_decodes_and_reencodes_stably(fif):
    caps = Capabilities.decode(fif)
    assert Capabilities.decode(caps.encode()) == caps
