"""faxengine.gateway.render: Word and Excel through LibreOffice, and its bounds."""
import io
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from faxengine.gateway.mail import Document
from faxengine.gateway.render import WIDTH, RenderFailure, RenderLimits, render_documents
from faxengine.gateway.render import office

needs_soffice = pytest.mark.skipif(
    office.soffice() is None,
    reason="LibreOffice is not installed (apt-get install libreoffice-writer-nogui "
           "libreoffice-calc-nogui)")

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _zip(parts: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    """A minimal WordprocessingML package; "\\f" in the list is a page break."""
    body = "".join('<w:p><w:r><w:br w:type="page"/></w:r></w:p>' if p == "\f" else
                   f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return _zip({
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
            f'Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml":
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            f'openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}'
            # an A4 page (twentieths of a point: 210 x 297 mm)
            '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>',
    })


def xlsx(rows: list[tuple[str, int]]) -> bytes:
    """A minimal SpreadsheetML package: one sheet, a text and a number per row."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    data = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{a}</t></is></c>'
                   f'<c r="B{i}"><v>{b}</v></c></row>' for i, (a, b) in enumerate(rows, 1))
    return _zip({
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
            f'Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship '
            f'Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml":
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>{data}'
            '</sheetData></worksheet>',
    })


def zip_bomb(size: int, *, lie: int | None = None) -> bytes:
    """A .docx-shaped ZIP whose document.xml unpacks to ``size`` bytes of zeros;
    ``lie``: the sizes in its headers say that many bytes instead."""
    buf = io.BytesIO()
    info = zipfile.ZipInfo("word/document.xml")
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", compresslevel=9) as z:
        with z.open(info, "w") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)
    data = bytearray(buf.getvalue())
    if lie is not None:
        real = size.to_bytes(4, "little")
        fake = lie.to_bytes(4, "little")
        # the uncompressed size in the local header (offset 22) and the central
        # directory entry (offset 24 after its signature)
        assert data.count(real) == 2
        data = data.replace(real, fake)
    return bytes(data)


def _binary(data: bytes, suffix: str, target: str, work: Path) -> bytes:
    """The Word 97 / Excel 97 file LibreOffice saves of an OOXML one."""
    source = work / f"source{suffix}"
    source.write_bytes(data)
    subprocess.run([office.soffice(), f"-env:UserInstallation={Path(office._profile_dir()).as_uri()}",
                    "--headless", "--convert-to", target, "--outdir", str(work), str(source)],
                   capture_output=True, timeout=120, check=True)
    return (work / f"source.{target}").read_bytes()


@pytest.fixture(scope="module")
def office_rendering():
    if office.soffice() is None:
        pytest.skip("LibreOffice is not installed")
    docs = [Document("手紙.docx", "word", docx(["FAX送信サンプル", "東京都千代田区", "\f",
                                                 "二枚目"])),
            Document("表.xlsx", "excel", xlsx([("品名", 42), ("数量", 7)]))]
    return render_documents(docs)


@needs_soffice
def test_word_and_excel_become_fax_pages(office_rendering):
    r = office_rendering
    assert r.error is None and r.counts == [2, 1] and len(r.pages) == 3
    for page in r.pages:
        assert page.width == WIDTH and page.resolution == "fine" and page.image.any()
    # an A4 page at its own size
    assert r.pages[0].height == 2287


@needs_soffice
def test_the_import_filters_are_names_libreoffice_knows():
    registry = Path(os.path.realpath(office.soffice())).parent.parent / "share" / "registry"
    known = "".join(p.read_text(errors="replace") for p in registry.glob("*.xcd"))
    for suffix, name in office.IMPORT_FILTERS.items():
        assert f'<node oor:name="{name}" oor:op="replace">' in known, suffix


@needs_soffice
@pytest.mark.slow            # four LibreOffice runs: 10-20 s
def test_word_97_and_excel_97_files_become_fax_pages(tmp_path):
    letter = docx(["FAX送信サンプル", "東京都千代田区", "\f", "二枚目"])
    table = xlsx([("品名", 42), ("数量", 7)])
    docs = [Document("手紙.doc", "word", _binary(letter, ".docx", "doc", tmp_path)),
            Document("表.xls", "excel", _binary(table, ".xlsx", "xls", tmp_path))]
    r = render_documents(docs)
    assert r.error is None and r.counts == [2, 1]
    assert all(p.width == WIDTH and p.image.any() for p in r.pages)


def test_a_zip_bomb_renamed_docx_is_refused_before_libreoffice_sees_it():
    r = render_documents([Document("bomb.docx", "word", zip_bomb(64 << 20))])
    assert r.error is not None and r.error.document == "bomb.docx"
    assert r.error.message.startswith("bomb.docx: its part word/document.xml unpacks ")
    assert r.error.message.endswith(" times its size (a ZIP bomb?); send it as PDF")


def test_a_zip_too_large_in_all_is_refused():
    r = render_documents([Document("big.docx", "word", docx(["x" * 5000]))],
                         limits=RenderLimits(max_unzipped=1000))
    assert r.error is not None
    assert r.error.message.startswith("big.docx: the file unpacks to ")
    assert r.error.message.endswith("bytes, more than 1,000 (a ZIP bomb?); send it as PDF")


def test_a_zip_that_lies_about_its_sizes_is_caught_by_the_crc():
    r = render_documents([Document("liar.docx", "word", zip_bomb(2 << 20, lie=1000))])
    assert r.error is not None and r.error.document == "liar.docx"
    assert r.error.message.startswith("liar.docx: not an Office file that can be read (a "
                                      "damaged ZIP: ")


def _leftovers(tag: str) -> list[int]:
    """Processes other than this one whose command line names ``tag``, given up
    to 5 s to go (SIGKILL takes effect asynchronously; zombies have none)."""
    deadline = time.monotonic() + 5
    while True:
        found = []
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    if tag.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                        found.append(int(pid))
                except OSError:
                    pass
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@needs_soffice
def test_libreoffice_past_its_time_is_killed_with_its_process_group():
    r = render_documents([Document("slow.docx", "word", docx(["遅い"]))],
                         limits=RenderLimits(max_seconds=0.3))
    assert r.error == RenderFailure(
        "slow.docx", "slow.docx: LibreOffice took more than 0.3 s to convert it; send it as PDF")
    assert _leftovers("faxengine-render-") == []


@needs_soffice
@pytest.mark.parametrize("prlimit", [True, False], ids=["prlimit", "preexec"])
def test_libreoffice_runs_under_a_memory_limit(prlimit, monkeypatch):
    if not prlimit:                    # the fallback without util-linux's prlimit
        which = office.shutil.which
        monkeypatch.setattr(office.shutil, "which",
                            lambda name: None if name == "prlimit" else which(name))
    r = render_documents([Document("m.docx", "word", docx(["x"]))],
                         limits=RenderLimits(office_memory=16 << 20))
    assert r.error is not None
    assert r.error.message.startswith("m.docx: LibreOffice could not convert it (exit ")
    assert _leftovers("faxengine-render-") == []


def test_without_libreoffice_word_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(office, "soffice", lambda: None)
    r = render_documents([Document("a.doc", "word", b"\xd0\xcf\x11\xe0")])
    assert r.error == RenderFailure(
        "a.doc", "a.doc: LibreOffice is not installed, so Word and Excel files cannot be "
        "rendered: install it (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui)")


@needs_soffice
def test_garbage_named_doc_is_an_error_naming_the_file():
    r = render_documents([Document("壊れた.doc", "word", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
                                   + bytes(range(256)) * 8)])
    assert r.error is not None and r.error.document == "壊れた.doc"
    assert r.error.message.startswith("壊れた.doc: LibreOffice could not convert it (exit ")
    assert r.error.message.endswith("); send it as PDF")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_each_worker_process_has_a_profile_removed_when_it_exits(method):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
        first = pool.submit(office._profile_dir).result(timeout=60)
        again = pool.submit(office._profile_dir).result(timeout=60)
        assert first == again and Path(first).is_dir()
        assert first != office._profile_dir()          # not the parent's
    assert not Path(first).exists()


def test_profiles_of_killed_processes_are_swept_when_a_new_one_is_made(monkeypatch):
    import tempfile

    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = Path(tempfile.mkdtemp(prefix=f"faxengine-soffice-{gone.pid}-"))
    mine = Path(tempfile.mkdtemp(prefix=f"faxengine-soffice-{os.getpid()}-"))
    try:
        monkeypatch.setattr(office, "_profile", None)
        made = Path(office._profile_dir())
        assert made.is_dir() and made.name.startswith(f"faxengine-soffice-{os.getpid()}-")
        assert not stale.exists() and mine.exists()          # a live process's stays
    finally:
        for path in (stale, mine):
            shutil.rmtree(path, ignore_errors=True)
