"""Digest answers checked against the worked examples of RFC 2617 §3.5 and RFC 7616 §3.9.1."""
from __future__ import annotations

import pytest

from faxengine.media.sip import SipParseError
from faxengine.media.sip.digest import Challenge, authorization, response


def test_rfc2617_example():
    c = Challenge.parse('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
                        'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    assert response(c, username="Mufasa", password="Circle Of Life", method="GET",
                    uri="/dir/index.html", cnonce="0a4f113b") == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize("algorithm, expected", [
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
])
def test_rfc7616_examples(algorithm, expected):
    c = Challenge.parse(f'Digest realm="http-auth@example.org", qop="auth, auth-int", '
                        f'algorithm={algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
                        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
    header = authorization(c, username="Mufasa", password="Circle of Life", method="GET",
                           uri="/dir/index.html", cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    assert f'response="{expected}"' in header and "qop=auth, nc=00000001" in header


def test_without_qop_rfc2069_form():
    c = Challenge.parse('Digest realm="r", nonce="n"')
    header = authorization(c, username="u", password="p", method="REGISTER", uri="sip:r",
                           cnonce="c")
    assert "qop" not in header and "cnonce" not in header


@pytest.mark.parametrize("value, message", [
    ('Basic realm="r"', "SIP challenge scheme 'Basic' is not Digest"),
    ('Digest realm="r"', "SIP Digest challenge lacks realm or nonce"),
    ('Digest realm="r", nonce="n", algorithm=SHA-512', "SIP Digest algorithm SHA-512 is not MD5 or SHA-256"),
    ('Digest realm="r", nonce="n", qop="auth-int"', "SIP Digest qop auth-int lacks auth"),
])
def test_challenges_we_cannot_answer(value, message):
    with pytest.raises(SipParseError) as e:
        Challenge.parse(value)
    assert str(e.value) == message
