"""A real browser (Debian's chromium through Playwright) uses the web admin.

Log in, find a fax by number and date, open its detail and timeline,
download its TIFF and the CSV, turn retries and result mails off, and see
the next request follow the new settings.  Screenshots of each page are
kept in the test's tmp dir (``docs/make_screenshots.py`` makes the ones of
docs/figures/web/ the same way).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from gwweb_support import CHROMIUM, chromium_args, tour
from sqlalchemy import select

from faxengine.gateway.store import models as m

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is absent: pip install -e .[test]")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="chromium is absent: apt-get install chromium "
                                       "(the Makefile's APT_PACKAGES)")


def test_a_person_uses_the_web_admin(web, store, tmp_path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args())
        try:
            got = tour(browser, web.url, store, tmp_path)
        finally:
            browser.close()
    assert got["tif"] == (store.data_dir / "images" / "3.tif").read_bytes()
    csv = got["csv"].decode("cp932").split("\r\n")
    assert csv[0] == "送信日時,明細番号,送信先,枚数,件名,発信メールアドレス,発信状況"
    assert csv[1:5] == [
        "2026-12-06 09:59:00,0000000004001,0120123456,-,'見積書 (再送)',sample@edicworks.com,送信待ち,",
        "2026-12-06 09:55:00,0000000003001,0921234567,3,'FAX送信サンプル福岡',sample@edicworks.com,送信完了,",
        "2026-12-06 09:30:00,0000000002001,0451234567,-,'FAX送信サンプル横浜',sample@edicworks.com,送信待ち,",
        "2026-12-03 10:00:00,0000000001001,0312345678,2,'11月分 請求書',sample@edicworks.com,送信完了,"]
    with store.session() as s:
        account = s.scalar(select(m.Account).where(m.Account.name == "sample"))
        assert (account.retries, account.result_mail) == (0, False)
        assert s.get(m.JobRow, got["after"]).status == "送信エラー"
        assert s.scalar(select(m.OutboxRow).where(m.OutboxRow.detail_no == got["after"])) is None
    for name in ("login", "history", "detail", "detail-error", "settings", "history-phone"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_screenshots_of_the_docs_are_committed_and_small():
    figures = Path(__file__).resolve().parents[3] / "docs" / "figures" / "web"
    pngs = sorted(p.name for p in figures.glob("*.png"))
    assert pngs == ["detail-error.png", "detail.png", "history-phone.png", "history.png",
                    "login.png", "settings.png"]
    assert sum(p.stat().st_size for p in figures.glob("*.png")) < 250_000
