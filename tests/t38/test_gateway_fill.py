"""The T.4 fill of ``faxengine.t38.gateway_audio.NonEcmBits``, on its own.

An MH- or MR-coded page goes in as chunks of any size while the modulator
takes blocks of any size, often before the data is there: whatever it was
given decodes to the same page (T.4 §4.1.3: fill only in the zeros before
an EOL), and fill was needed.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from faxengine import t4
from faxengine.t38.gateway_audio import NonEcmBits
from t38_pump import text_page


@pytest.mark.parametrize("coding,k", [("mh", None), ("mr", 4)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fill_never_breaks_a_code_word(coding, k, seed):
    page = text_page(seed, rows=120)
    bits = np.unpackbits(np.frombuffer(t4.encode(page.image, coding, k=k), np.uint8))
    rng = random.Random(seed)
    q, out, at = NonEcmBits(), [], 0
    while at < bits.size:
        if rng.random() < 0.5:                  # data arrives (or not, this block)
            n = rng.randrange(1, 400)
            q.add(bits[at:at + n])
            at += n
        out.append(q.take(rng.randrange(8, 300), ending=False))
    out.append(q.take(len(q), ending=True))
    sent = np.concatenate(out)
    assert q.fill_bits > 1000 and sent.size == bits.size + q.fill_bits
    image = t4.decode(np.packbits(sent).tobytes(), page.image.shape[1], coding)
    assert np.array_equal(image[:page.image.shape[0]], page.image)


def test_tcf_zeros_flow_without_waiting():
    """TCF is all zeros: every bit may go at once, fill is more zeros."""
    q = NonEcmBits()
    q.add(np.zeros(100, np.uint8))
    assert q.take(80, ending=False).tolist() == [0] * 80
    assert q.take(40, ending=False).tolist() == [0] * 40 and q.fill_bits == 20


def test_a_line_waits_for_its_eol():
    """Bits after the last EOL wait (a pause there would split a code word);
    the zeros before the EOL's 1 may go, fill follows them."""
    q = NonEcmBits()
    eol = [0] * 11 + [1]
    q.add(np.array(eol + [1, 0, 1, 1] + [0] * 11 + [1] + [0, 1, 1], np.uint8))
    got = q.take(40, ending=False).tolist()
    assert got[:27] == eol + [1, 0, 1, 1] + [0] * 11 and got[27:] == [0] * 13
    assert q.take(4, ending=True).tolist() == [1, 0, 1, 1]
