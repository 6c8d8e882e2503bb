"""The T.30 timeline drawn from an attempt's trace (web/timeline.py)."""
import xml.etree.ElementTree as ET

import pytest

from faxengine.gateway.web.timeline import LANES, Step, steps, svg

SVG = "{http://www.w3.org/2000/svg}"
TRACE = [
    {"type": "FrameReceived", "time_s": 3.0, "name": "DIS", "words": "DIS: V.17 14400, ECM"},
    {"type": "FrameSent", "time_s": 3.5, "name": "DCS", "words": "DCS: V.17 14400"},
    {"type": "TrainingResult", "time_s": 5.0, "modem": "V.17", "rate": 14400, "accepted": False},
    {"type": "TrainingResult", "time_s": 7.0, "modem": "V.17", "rate": 12000, "accepted": True},
    {"type": "PageSent", "time_s": 15.0, "number": 1, "response": "MCF"},
    {"type": "CallEnded", "time_s": 52.5,
     "result": {"code": "TIMEOUT_T4", "message": "the other terminal stopped answering"}},
]


def test_steps_in_order_with_lanes_and_labels():
    assert steps(list(reversed(TRACE))) == [
        Step(3.0, "received", "DIS", "DIS: V.17 14400, ECM"),
        Step(3.5, "sent", "DCS", "DCS: V.17 14400"),
        Step(5.0, "call", "V.17 14400 FTT", "トレーニング失敗 (再トレーニング)", failure=True),
        Step(7.0, "call", "V.17 12000 CFR", "トレーニング成功"),
        Step(15.0, "call", "p1 MCF", "ページ 1 確認"),
        Step(52.5, "call", "TIMEOUT_T4", "the other terminal stopped answering", failure=True),
    ]


def test_svg_marks_frames_on_their_lanes_and_the_failure_point():
    root = ET.fromstring(svg(TRACE, title="0000000007001"))
    groups = root.findall(f"{SVG}g")
    marks = {g.find(f"{SVG}text").text: g for g in groups if "step" in g.get("class", "")}
    assert set(marks) == {"DIS", "DCS", "V.17 14400 FTT", "V.17 12000 CFR", "p1 MCF"}
    assert float(marks["DCS"].find(f"{SVG}rect").get("y")) + 6 == LANES["sent"]
    assert float(marks["DIS"].find(f"{SVG}rect").get("y")) + 6 == LANES["received"]
    assert marks["DIS"].find(f"{SVG}title").text == "3.00 s DIS: DIS: V.17 14400, ECM"
    # the DIS before the DCS: time runs left to right
    assert float(marks["DIS"].find(f"{SVG}rect").get("x")) < float(marks["DCS"].find(f"{SVG}rect").get("x"))
    failure = [g for g in groups if g.get("class") == "failure"]
    assert len(failure) == 1 and failure[0].find(f"{SVG}text").text == "TIMEOUT_T4"
    assert failure[0].find(f"{SVG}line").get("stroke") == "#c62828"
    # the retrain (FTT) is drawn red too
    assert marks["V.17 14400 FTT"].find(f"{SVG}rect").get("fill") == "#c62828"
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.endswith(" s")]
    assert ticks[:3] == ["0 s", "10 s", "20 s"] and ticks[-1] == "50 s"


def test_a_successful_call_has_no_failure_line():
    root = ET.fromstring(svg(TRACE[:5] + [{"type": "CallEnded", "time_s": 20,
                                           "result": {"code": "OK", "message": ""}}]))
    assert not [g for g in root.iter(f"{SVG}g") if g.get("class") == "failure"]


@pytest.mark.parametrize("trace", [
    None, "DIS", b"\x00", 42, {"type": "FrameSent"}, [None, 1, "x", []],
    [{"type": "FrameSent", "time_s": -1, "name": "DCS"}],
    [{"type": "FrameSent", "time_s": float("nan"), "name": "DCS"}],
    [{"type": "FrameSent", "time_s": True, "name": "DCS"}],
    [{"type": "Martian", "time_s": 1.0}],
    [{"type": "FrameSent", "time_s": 1e300, "name": "<script>alert(1)</script>" * 50}],
    [{"type": "CallEnded", "time_s": 1.0, "result": "not a dict"}],
])
def test_any_trace_draws_without_failing_and_escapes_text(trace):
    text = svg(trace)
    ET.fromstring(text)                     # well-formed whatever came in
    assert "<script" not in text


def test_every_result_code_has_plain_words_for_the_pages():
    from faxengine.gateway.jobs import CALL_OUTCOMES
    from faxengine.gateway.web.pages import PLAIN
    assert set(PLAIN) == set(CALL_OUTCOMES)


def test_the_line_drivers_shape_of_events():
    """gwlines' ``event_dict``: the class name under "event", CallEnded's result flat."""
    trace = [{"event": "FrameSent", "time_s": 1.25, "name": "DCS", "words": "DCS", "raw": "ff13c1"},
             {"event": "PageReceived", "time_s": 9.0, "number": 1, "lines": 2200, "width": 1728,
              "x_res": 204.0, "y_res": 196.0},
             {"event": "CallEnded", "time_s": 12.5, "code": "REMOTE_DISCONNECT",
              "message": "the other terminal hung up", "pages": 1, "bit_rate": 14400,
              "ecm": True, "coding": "mmr"}]
    assert steps(trace) == [Step(1.25, "sent", "DCS", "DCS"),
                            Step(9.0, "call", "p1", "ページ 1 確認"),
                            Step(12.5, "call", "REMOTE_DISCONNECT", "the other terminal hung up",
                                 failure=True)]
