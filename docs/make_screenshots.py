"""Screenshots of the gateway's web admin for docs/gateway.md, made by a real browser.

``python docs/make_screenshots.py`` starts the web admin on a throwaway
store (SQLite in a temporary directory) with a morning of faxes, on
127.0.0.1 at a free port, and has Debian's chromium (``/usr/bin/chromium``,
driven by Playwright) walk through it as
``tests/gateway/web/test_web_browser.py`` does -- the same tour
(``gwweb_support.tour``) -- writing docs/figures/web/*.png (128 colours,
small).  Needs ``pip install -e .[gateway,test]`` and ``apt-get install chromium``.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
OUT = DOCS / "figures" / "web"
for _p in (REPO, REPO / "tests", REPO / "tests" / "gateway" / "web"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


def main() -> int:
    from gwweb_support import (ACCOUNTS, CHROMIUM, DOMAIN, SECRET, ZONE, Clock, chromium_args,
                               serve, stop, tour)
    from playwright.sync_api import sync_playwright

    from faxengine.gateway.store import Store
    from faxengine.gateway.web import create_app

    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is absent: apt-get install chromium", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open("", Path(tmp) / "data")
        store.sync_accounts(ACCOUNTS)

        async def submit(raw: bytes, mail_from: str, rcpt_to: list[str]) -> int:
            return await asyncio.to_thread(store.accept, raw, mail_from, rcpt_to, clock())

        clock = Clock()
        server, thread, url = serve(create_app(store, secret_key=SECRET, timezone=ZONE,
                                               fax_domain=DOMAIN, submit=submit, now=clock))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args())
                try:
                    tour(browser, url, store, OUT)
                finally:
                    browser.close()
        finally:
            stop(server, thread)
            store.close()
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(REPO)}  {png.stat().st_size // 1024} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
