"""Page thumbnails: one decode of the TIFF per fax, whatever many pages are asked at once."""
import io
import threading

from gwweb_support import page_image
from PIL import Image

from faxengine import tiff
from faxengine.gateway.web import thumbs


def test_many_pages_asked_at_once_decode_the_file_once(tmp_path, monkeypatch):
    path = tmp_path / "fax.tif"
    tiff.write(path, [page_image(i) for i in range(5)])
    calls = []
    real = thumbs.render
    monkeypatch.setattr(thumbs, "render", lambda p: calls.append(p) or real(p))
    cache = thumbs.Thumbnails()
    got = {}
    workers = [threading.Thread(target=lambda i=i: got.__setitem__(i, cache.page("1", path, i)))
               for i in range(1, 7) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert calls == [path]
    assert got[6] is None                    # a page the fax does not have
    for i in range(1, 6):
        with Image.open(io.BytesIO(got[i])) as im:
            assert im.size == (180, 43) and im.mode == "1"
    assert len({got[i] for i in range(1, 6)}) == 5      # each page its own picture


def test_the_oldest_faxes_go_first_and_a_bad_file_gives_none(tmp_path):
    path = tmp_path / "fax.tif"
    tiff.write(path, [page_image(0)])
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage")
    cache = thumbs.Thumbnails(faxes=2)
    assert cache.page("bad", bad, 1) is None
    assert cache.page("missing", tmp_path / "nope.tif", 1) is None
    for n in ("a", "b", "c"):
        assert cache.page(n, path, 1) is not None
    assert list(cache._cache) == ["b", "c"]
