"""T.38 over SIP on 127.0.0.1, ours to ours, in real time (media.call with media.t38call).

A ``send_fax`` calls a ``FaxReceiver``; the call starts in G.711 and one
side re-INVITEs to ``m=image udptl t38`` (the receiver as soon as the call
is up, or the sender once it hears CED), both switch to a fresh
``T38Terminal`` on a ``UdptlPort``; or the re-INVITE is declined 488 and
the fax goes in audio.  The pages that arrive equal the pages sent.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faxengine import tiff
from faxengine.media.commands import receive_main, send_main
from faxengine.media.t38call import DEFAULT_PARAMS, T38Options

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "media"))
import fax_calls  # noqa: E402
from fax_calls import assert_went_through  # noqa: E402
from t38_pump import text_page  # noqa: E402



def run_call(pages, out, *, send_t38=None, receive_t38=None, ecm=True, relay=None):
    """One call, sender to receiver, the relay (if any) before the UDPTL sockets."""
    return fax_calls.run_call(
        pages, out, ecm=ecm, relay=relay, relayed="udptl",
        endpoint={"t38": None if receive_t38 is False else DEFAULT_PARAMS},
        send={"t38": send_t38}, receive={"t38": receive_t38})


@pytest.mark.slow
def test_receiver_reinvites_to_t38(tmp_path):
    pages = [text_page(1)]
    sent, received, _ = run_call(pages, tmp_path, receive_t38=True)
    assert_went_through(sent, received, pages)
    assert sent.t38 and received.t38
    assert sent.udptl.sent > 0 and sent.udptl.lost == 0
    assert sent.udptl.sent == received.udptl.received
    assert sent.t38_refused is None and received.t38_refused is None


def test_sender_reinvites_to_t38_when_it_hears_ced(tmp_path):
    pages = [text_page(2)]
    sent, received, _ = run_call(pages, tmp_path, send_t38=True)
    assert_went_through(sent, received, pages)
    assert sent.t38 and received.t38
    assert sent.codec == received.codec == "PCMU"    # how the call began


def test_reinvite_declined_488_the_fax_goes_in_audio(tmp_path):
    pages = [text_page(3)]
    sent, received, _ = run_call(pages, tmp_path, send_t38=True, receive_t38=False)
    assert_went_through(sent, received, pages)
    assert not sent.t38 and not received.t38 and sent.udptl is None
    assert sent.t38_refused == "488 Not Acceptable Here"
    assert sent.rtp.received > 0 and received.rtp.received > 0


def test_t38_with_5_percent_loss_and_redundancy_3(tmp_path):
    pages = [text_page(4)]
    redundant = T38Options(offer=True, redundancy_control=3, redundancy_image=3)
    sent, received, link = run_call(pages, tmp_path, send_t38=redundant,
                                    receive_t38=redundant, ecm=False,
                                    relay=dict(loss=0.05, seed=7))
    assert_went_through(sent, received, pages)
    assert sent.t38 and received.t38
    assert link.ways["a"].dropped > 0 and link.ways["b"].dropped > 0
    assert sent.udptl.recovered + received.udptl.recovered > 0


@pytest.mark.slow
@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "no-ecm"])
@pytest.mark.parametrize("who", ["sender", "receiver"])
@pytest.mark.parametrize("n_pages", [1, 3])
def test_matrix(tmp_path, ecm, who, n_pages):
    pages = [text_page(10 + i) for i in range(n_pages)]
    sent, received, _ = run_call(pages, tmp_path, ecm=ecm, send_t38=(who == "sender") or None,
                                 receive_t38=(who == "receiver") or None)
    assert_went_through(sent, received, pages)
    assert sent.t38 and received.t38 and sent.fax.ecm == ecm


RECEIVE = ("import sys; from faxengine.media.commands import receive_main; "
           "sys.exit(receive_main(sys.argv[1:]))")


def test_commands_receive_t38_reinvites_send_reports_it(tmp_path, capsys):
    """``faxengine receive --t38`` re-INVITEs as soon as the call is up; the
    sender (default: take T.38 when offered) says so in its result line, the
    receiver in its JSON."""
    pages = [text_page(20)]
    doc = tmp_path / "doc.tif"
    tiff.write(doc, pages)
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVE, "--listen", "127.0.0.1:0",
                                 "--out", str(tmp_path / "in"), "--once", "--json", "--t38"],
                                stdout=subprocess.PIPE, text=True)
    try:
        listening = receiver.stdout.readline().split()
        assert listening[:2] == ["listening", "on"]
        assert send_main([str(doc), "--to", listening[2]]) == 0
        received = json.loads(receiver.stdout.readline())
        assert receiver.wait(30) == 0
    finally:
        receiver.kill()
        receiver.wait()
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("sent: OK -- ")
    assert re.search(r"; PCMU, RTP sent \d+ .*; T\.38, UDPTL sent \d+ received \d+ lost 0 "
                     r"recovered \d+$", line), line
    assert received["ok"] and received["t38"] and received["codec"] == "PCMU"
    assert received["udptl"]["received"] > 0 and received["udptl"]["lost"] == 0
    assert set(received["udptl"]) == {"sent", "received", "lost", "recovered", "duplicates",
                                      "malformed", "overflow", "dropped", "late_ms"}
    assert received["udptl"]["dropped"] == 0 and received["udptl"]["late_ms"] >= 0
    got = tiff.read(received["path"])
    assert len(got) == 1 and np.array_equal(got[0].image, pages[0].image)


def test_t38_flags_refused_for_a_sound_card(capsys, tmp_path):
    assert send_main(["x.tif", "--device", "0", "--t38"]) == 2
    assert capsys.readouterr().err == ("faxengine send: --t38/--no-t38 are for SIP calls; "
                                       "a sound card call is audio\n")
    assert receive_main(["--device", "0", "--no-t38", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("faxengine receive: --t38/--no-t38 are for SIP calls; "
                                       "a sound card call is audio\n")


@pytest.mark.slow
def test_invite_with_only_t38_is_a_t38_call_from_the_start(tmp_path):
    pages = [text_page(21)]
    sent, received, _ = run_call(pages, tmp_path, send_t38=T38Options(t38_only=True))
    assert_went_through(sent, received, pages)
    assert sent.t38 and received.t38
    assert sent.codec is None and sent.rtp is None and received.rtp is None
