"""faxengine.gateway.render: the contract, and text typeset with the Japanese rules."""
import pickle

import numpy as np
import pytest

from faxengine.gateway.mail import Document
from faxengine.gateway.render import (A4_LINES, WIDTH, RenderFailure, RenderLimits, Rendering,
                                      render_documents, wrap_text)
from faxengine.gateway.render import text as text_mod


def body(text: str, name: str = "") -> Document:
    return Document(name, "text", text.encode("utf-8"), text=text)


@pytest.fixture(scope="module")
def em_font():
    """IPAexGothic at 20 pels per em: full-width characters are exactly 1 em."""
    f = text_mod.font(20)
    assert f.getlength("あ") == f.getlength("、") == f.getlength("「") == 20
    return f


def wrap(text: str, ems: float, f) -> list[str]:
    return wrap_text(text, ems * f.size, f)


# --- line breaking (JIS X 4051 kinsoku shori) -------------------------------------------

def test_full_lines_break_at_the_width(em_font):
    assert wrap("あいうえおかきくけこさしす", 10, em_font) == ["あいうえおかきくけこ", "さしす"]


def test_no_line_starts_with_closing_punctuation_it_hangs_in_the_margin(em_font):
    # 、 and 。 that do not fit hang past the width (ぶら下げ)
    assert wrap("あいうえおかきくけこ、さしす", 10, em_font) == ["あいうえおかきくけこ、", "さしす"]
    assert wrap("あいうえおかきくけこ。", 10, em_font) == ["あいうえおかきくけこ。"]


def test_no_line_starts_with_a_closing_bracket_the_word_before_moves_down(em_font):
    assert wrap("あいうえおかきくけこ」です", 10, em_font) == ["あいうえおかきくけ", "こ」です"]
    # 。」: the full stop cannot hang, the bracket could not start the next line
    assert wrap("あいうえおかきくけこ。」あ", 10, em_font) == ["あいうえおかきくけ", "こ。」あ"]


def test_no_line_starts_with_small_kana_or_the_prolonged_sound_mark(em_font):
    assert wrap("あいうえおかきくけこっと", 10, em_font) == ["あいうえおかきくけ", "こっと"]
    assert wrap("あいうえおかきくけコーヒー", 10, em_font) == ["あいうえおかきくけ", "コーヒー"]


def test_no_line_ends_with_an_opening_bracket(em_font):
    assert wrap("あいうえおかきくけ「こさ」", 10, em_font) == ["あいうえおかきくけ", "「こさ」"]


def test_latin_words_are_not_broken_and_the_space_is_dropped(em_font):
    width = em_font.getlength("Hello world") + 1
    assert wrap_text("Hello world again", width, em_font) == ["Hello world", "again"]
    # a number and a URL stay whole; Japanese beside them may break
    assert wrap("あいうえおかきhttp://x.jp/", 10, em_font) == ["あいうえおかき", "http://x.jp/"]


def test_a_word_longer_than_a_line_is_cut_where_the_line_is_full(em_font):
    word = "W" * 40
    lines = wrap(word, 10, em_font)
    assert "".join(lines) == word and len(lines) > 1
    assert all(em_font.getlength(line) <= 10 * em_font.size for line in lines)


def test_an_indented_word_longer_than_a_line_is_cut_not_moved_off_its_indent(em_font):
    lines = wrap("  " + "W" * 40, 10, em_font)
    assert lines[0].startswith("  W") and "".join(lines) == "  " + "W" * 40


def test_empty_lines_and_indentation_are_kept(em_font):
    assert wrap("あ\n\n  い\n", 10, em_font) == ["あ", "", "  い", ""]


def test_tabs_go_to_the_next_stop_of_four_ems(em_font):
    assert wrap("\tあいうえおか", 10, em_font) == ["\tあいうえおか"]
    assert wrap("\tあいうえおかき", 10, em_font) == ["\tあいうえおか", "き"]
    assert wrap("あ\tい\tう", 10, em_font) == ["あ\tい\tう"]      # stops at 4 and 8 em


# --- text pages ---------------------------------------------------------------------------

def test_a_text_page_is_a4_fine_and_1728_wide():
    r = render_documents([body("FAX送信サンプル福岡\n本文です。")])
    assert r.error is None and r.counts == [1] and len(r.pages) == 1
    page = r.pages[0]
    assert page.image.shape == (A4_LINES, WIDTH) == (2287, 1728)
    assert (page.x_res, page.y_res) == (204.0, 196.0) and page.resolution == "fine"
    assert page.paper == "A4"
    black = page.image
    # 15 mm margins: nothing outside the text area, something inside it
    assert black.any() and not black[:100].any() and not black[:, :100].any()


def test_the_text_is_crisp_black_on_white():
    page = render_documents([body("東京都千代田区 ABC 0123")]).pages[0]
    rows = np.flatnonzero(page.image.any(axis=1))
    # one line of 10.5 pt type: about 30 lines high, in one band
    assert 20 < rows.max() - rows.min() < 40


def test_form_feed_starts_a_page_but_not_after_the_last_text():
    assert render_documents([body("一\f二\f三")]).counts == [3]
    assert render_documents([body("一\f")]).counts == [1]
    assert render_documents([body("")]).counts == [1]        # an empty .txt is a blank page


def test_long_text_runs_on_pages_of_47_lines():
    r = render_documents([body("\n".join(f"{i}行目" for i in range(1, 101)))])
    assert r.counts == [3]                       # 47 + 47 + 6 lines


def test_extension_characters_render_as_glyphs_not_the_missing_glyph_box():
    def page(ch):
        return render_documents([body(ch)]).pages[0].image
    box = page("\u0378")                          # unassigned: the font's .notdef box
    assert box.any()
    for ch in "①㈱髙﨑":
        img = page(ch)
        assert img.any(), ch
        assert not np.array_equal(img, box), ch


def test_control_characters_are_dropped_and_cr_lf_are_line_ends(em_font):
    a = render_documents([body("あ\r\nい\x00\x1b\rう")]).pages[0].image
    b = render_documents([body("あ\nい\nう")]).pages[0].image
    assert np.array_equal(a, b)


def test_a_very_long_line_stops_at_the_page_limit_without_typesetting_it_all():
    huge = "あ" * 5_000_000                       # 100 000 lines of 50
    r = render_documents([body(huge)], max_pages=3)
    assert r.counts == [4] and r.pages == [] and r.error is None


def test_typesetting_is_bounded_in_time():
    r = render_documents([body("あ\f" * 10)], limits=RenderLimits(max_seconds=0))
    assert r.error == RenderFailure(
        "", "the mail body: typesetting page 1 took past the time limit; send it in parts")


def test_the_font_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(text_mod, "FONT_PATHS", ("/nonexistent/ipaexg.ttf",))
    monkeypatch.setattr(text_mod, "FONT_NAME", "NoSuchFontAtAll")
    text_mod.font_path.cache_clear()
    text_mod.font.cache_clear()
    try:
        r = render_documents([body("あ", "letter.txt")])
    finally:
        text_mod.font_path.cache_clear()
        text_mod.font.cache_clear()
    assert r.error == RenderFailure(
        "letter.txt", "the Japanese font NoSuchFontAtAll is not installed, so text cannot be "
        "rendered: install it (apt-get install fonts-ipaexfont-gothic)")


# --- the contract ---------------------------------------------------------------------------

def test_counts_per_document_and_pages_in_order():
    r = render_documents([body("一"), body("二\f三", "b.txt")])
    assert r.counts == [1, 2] and len(r.pages) == 3 and r.error is None
    assert not np.array_equal(r.pages[0].image, r.pages[1].image)


def test_past_max_pages_it_stops_the_counts_pass_the_limit_and_no_pages_are_returned():
    docs = [body("一\f" * 30 + "x"), body("二\f" * 30 + "y", "b.txt"), body("三", "c.txt")]
    r = render_documents(docs, max_pages=50)
    assert r.counts == [31, 20, 0] and sum(r.counts) == 51 and r.pages == []
    assert r.error is None


def test_a_document_that_fails_names_the_file_and_the_rest_is_not_rendered():
    docs = [body("一"), Document("broken.pdf", "pdf", b"%PDF-1.4\nnot really"), body("二", "z.txt")]
    r = render_documents(docs)
    assert r.counts == [1, 0, 0] and r.pages == []
    assert r.error == RenderFailure(
        "broken.pdf", "broken.pdf: not a PDF that can be read (damaged or incomplete: Failed to "
        "load document (PDFium: Data format error).); send it again")


def test_an_unknown_type_is_an_error_not_an_exception():
    r = render_documents([Document("x.bin", "binary", b"\0")])
    assert r.error == RenderFailure(
        "x.bin", "x.bin: a document of type 'binary' cannot be rendered; send Word, Excel, PDF, "
        "TIFF, JPEG or text")


def test_limits_check_themselves():
    from faxengine.gateway.errors import GatewayConfigError

    for bad in (-1, float("nan"), "60", None, True):
        with pytest.raises(GatewayConfigError, match=r"^RenderLimits.max_seconds must be a "
                                                     r"number of 0 or more, not "):
            RenderLimits(max_seconds=bad)


def test_inputs_and_outputs_pickle_for_a_worker_process():
    r = render_documents([body("あ")], limits=RenderLimits(max_seconds=10))
    data = pickle.dumps(r)
    assert len(data) < 1728 * 2287 // 8 + 1000        # 8 pels a byte, not a bool each
    back = pickle.loads(data)
    assert isinstance(back, Rendering) and back.counts == [1] and back.error is None
    assert back.pages[0].image.dtype == bool
    assert np.array_equal(back.pages[0].image, r.pages[0].image)
    assert (back.pages[0].x_res, back.pages[0].y_res) == (204.0, 196.0)
    failed = render_documents([Document("x.pdf", "pdf", b"")])
    assert pickle.loads(pickle.dumps(failed)) == failed
    assert pickle.loads(pickle.dumps(RenderLimits())) == RenderLimits()


def test_it_runs_in_a_worker_process_as_the_service_runs_it():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    docs = [body("一\f二"), body("三", "c.txt")]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        r = pool.submit(render_documents, docs, max_pages=5).result(timeout=120)
    here = render_documents(docs, max_pages=5)
    assert r.counts == here.counts == [2, 1] and r.error is None
    assert all(np.array_equal(a.image, b.image) for a, b in zip(r.pages, here.pages))
