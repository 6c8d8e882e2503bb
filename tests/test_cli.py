"""The faxengine command, run as a user runs it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "faxengine", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_demo_codes_the_sample_in_every_coding_and_writes_tiff_f(tmp_path):
    out = tmp_path / "demo.tif"
    proc = run("demo", "samples/letter.png", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for coding in ("mh", "mr", "mmr"):
        row = next(line for line in lines if line.startswith(coding + " "))
        assert row.endswith("pixels equal")
    sizes = {line.split()[0]: int(line.split()[1]) for line in lines
             if line.split() and line.split()[0] in ("mh", "mr", "mmr")}
    # T.4/T.6: each coding exploits more redundancy than the one before.
    assert sizes["mmr"] < sizes["mr"] < sizes["mh"]
    with Image.open(out) as img:
        frames = [np.array(f.convert("1")) for f in ImageSequence.Iterator(img)]
        assert img.info.get("compression") == "group4"
    with Image.open(ROOT / "samples" / "letter.png") as src:
        assert (frames[0] == np.array(src.convert("1"))).all()


def test_demo_reports_a_missing_file_without_a_traceback(tmp_path):
    proc = run("demo", str(tmp_path / "nope.png"))
    assert proc.returncode == 2
    assert "nope.png" in proc.stderr and "Traceback" not in proc.stderr


# ---- as a stranger uses it: every failure one line naming the file, exit codes

def _png_of(path, width, height):
    """A grey PNG header claiming width x height, then one row of data: Pillow's
    decompression-bomb check looks at the header, before any pel is read."""
    import struct
    import zlib

    def chunk(kind, data):
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = zlib.compress(b"\0" + b"\xff" * width, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                      8, 0, 0, 0, 0))
                     + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


def run_limited(*args, limit=1 << 31):
    """The command with its address space bounded, as a stranger's small machine would."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "faxengine", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, preexec_fn=cap)


class Ran:
    """What ``faxengine ARGS`` did, run in this process (quicker than a child)."""

    def __init__(self, capsys, monkeypatch, *args):
        from faxengine.cli import main

        monkeypatch.chdir(ROOT)
        self.returncode = main(list(args))
        self.stdout, self.stderr = capsys.readouterr()


def one_line_error(proc, status=2):
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    return proc.stderr.rstrip("\n")


def test_a_thin_strip_is_refused_with_its_size_not_gigabytes(tmp_path):
    # the 118-byte PNG: 7 GB and a MemoryError before
    strip = tmp_path / "strip.png"
    Image.new("L", (1, 20000), 0).save(strip)
    assert strip.stat().st_size == 118
    line = one_line_error(run_limited("demo", str(strip)))
    assert line == (f"faxengine: {strip}: a 1 x 20000 picture makes a page 33204706 lines"
                    " (4,303.1 m) long at fine resolution; a fax page has at most 20000 lines"
                    " (2.6 m): crop the picture or split it into pages")


def test_a_decompression_bomb_is_one_line(tmp_path):
    bomb = _png_of(tmp_path / "bomb.png", 20000, 20000)   # 400 Mpels
    line = one_line_error(run_limited("demo", str(bomb)))
    assert line.startswith(f"faxengine: {bomb}: refused as a possible decompression bomb: Image"
                           " size (400000000 pixels) exceeds limit")
    # between Pillow's warning and error limits: refused alike, not a warning and a page
    big = _png_of(tmp_path / "big.png", 10000, 10000)
    assert "decompression bomb" in one_line_error(run_limited("demo", str(big)))


def _broken_files(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_bytes(b"hello, fax\n")
    letter = (ROOT / "samples" / "letter.png").read_bytes()
    (tmp_path / "half.png").write_bytes(letter[: len(letter) // 2])
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "bad.tif").write_bytes(b"II*\0\x08\0\0\0\xff\xff")
    return {
        "empty.png": "not a picture Pillow reads (PNG, JPEG, TIFF, PBM, GIF, ...)",
        "text.png": "not a picture Pillow reads (PNG, JPEG, TIFF, PBM, GIF, ...)",
        "half.png": "cannot read the picture: image file is truncated",
        "folder.png": "Is a directory",
        "missing.png": "No such file or directory",
        "bad.tif": "TIFF",
    }


def test_unreadable_files_are_one_line_each_naming_the_file(tmp_path, capsys, monkeypatch):
    for name, why in _broken_files(tmp_path).items():
        for command in (["demo"], ["loopback", "--out", str(tmp_path / "rx.tif")]):
            line = one_line_error(Ran(capsys, monkeypatch, *command, str(tmp_path / name)))
            assert line.startswith(f"faxengine: {tmp_path / name}: ") and why in line, line
    assert not (tmp_path / "rx.tif").exists()


def test_with_several_files_the_error_names_the_bad_one(tmp_path, capsys, monkeypatch):
    (tmp_path / "second.png").write_bytes(b"not a png")
    line = one_line_error(Ran(capsys, monkeypatch, "demo", "samples/letter.png",
                              str(tmp_path / "second.png")))
    assert line.startswith(f"faxengine: {tmp_path / 'second.png'}: not a picture")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "abc", "1000"])
def test_an_snr_that_is_no_level_is_a_usage_error(tmp_path, capsys, monkeypatch, value):
    proc = Ran(capsys, monkeypatch, "loopback", "samples/letter.png", "--out",
               str(tmp_path / "rx.tif"), f"--snr={value}")
    assert proc.returncode == 2
    assert proc.stderr.endswith("argument --snr: the SNR must be a finite number of dB from -30"
                                f" to 100, not {value!r}\n")
    assert "Traceback" not in proc.stderr and not (tmp_path / "rx.tif").exists()


def test_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    for command in ("loopback", "demo"):
        line = one_line_error(Ran(capsys, monkeypatch, command, "samples/letter.png", "--out",
                                  str(tmp_path)))
        assert line == f"faxengine: {tmp_path}: is a folder; --out takes a file name"
        proc = Ran(capsys, monkeypatch, command, "samples/letter.png", "--out", "/proc/no-such.tif")
        assert one_line_error(proc) == ("faxengine: /proc/no-such.tif: cannot write it: No such"
                                        " file or directory")
        assert proc.stdout == ""


def test_version_is_the_package_version():
    import faxengine

    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout == f"faxengine {faxengine.__version__}\n"


def test_a_closed_pipe_ends_quietly():
    proc = subprocess.run(f"'{sys.executable}' -m faxengine demo samples/letter.png | head -c 1",
                          shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stdout == "1" and proc.stderr == ""


# ---- documents as people have them

def _scan(path, width, height, dpi, mode="L"):
    """An A4 or letter scan: grey paper, a black bar across the middle third."""
    a = np.full((height, width), 240, dtype=np.uint8)
    a[height // 3 : 2 * height // 3, width // 4 : 3 * width // 4] = 10
    Image.fromarray(a).convert(mode).save(path, dpi=(dpi, dpi))
    return path


def test_demo_describes_each_page_of_a_mixed_document_and_keeps_fax_pages(tmp_path):
    from faxengine import tiff
    from faxengine.t4 import Page

    rng = np.random.default_rng(5)
    fax = Page(rng.random((300, 1728)) < 0.1, 204, 98)
    tiff.write(tmp_path / "fax.tif", [fax], coding="mr")
    files = [str(tmp_path / "fax.tif"),
             str(_scan(tmp_path / "a4-200.tif", 1654, 2339, 200, "1")),
             str(_scan(tmp_path / "a4-300.tif", 2480, 3508, 300)),
             str(_scan(tmp_path / "letter-300.tif", 2550, 3300, 300, "RGB")),
             str(_scan(tmp_path / "dot.png", 1, 1, 72))]
    out = tmp_path / "out.tif"
    proc = run("demo", *files, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("5 pages, ")
    assert lines[1:6] == [
        f"page 1: {files[0]}: 1728 x 300 pels, 204 x 98 dpi (standard), A4; as is",
        f"page 2: {files[1]}: 1728 x 2292 pels, 204 x 196 dpi (fine), A4; scaled from"
        " 1654 x 2339 pels at 200 x 200 dpi",
        f"page 3: {files[2]}: 1728 x 2292 pels, 204 x 196 dpi (fine), A4; scaled from"
        " 2480 x 3508 pels at 300 x 300 dpi",
        f"page 4: {files[3]}: 1728 x 2149 pels, 204 x 196 dpi (fine), A4; scaled from"
        " 2550 x 3300 pels at 300 x 300 dpi",
        f"page 5: {files[4]}: 1728 x 3 pels, 204 x 196 dpi (fine), A4; scaled from 1 x 1 pel"
        " at 72 x 72 dpi",
    ]
    pages = tiff.read(out)
    assert np.array_equal(pages[0].image, fax.image)            # pel for pel
    scan = pages[2].image                                       # the bar, scaled, centred
    w = round(2480 * 204 / 300)
    left = (1728 - w) // 2
    row = scan[scan.shape[0] // 2]
    assert row[left + w // 4 + 3 : left + 3 * w // 4 - 3].all()
    assert not row[: left + w // 4 - 3].any()


def test_dither_shades_a_photo_and_resolution_applies_to_pictures(tmp_path):
    from faxengine import tiff

    photo = tmp_path / "photo.png"
    Image.new("L", (400, 300), 140).save(photo)    # mid grey: a threshold makes it white
    for extra, black in (([], 0.0), (["--dither"], 0.45)):
        out = tmp_path / f"photo{len(extra)}.tif"
        proc = run("demo", str(photo), "--resolution", "300", *extra, "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        (page,) = tiff.read(out)
        assert (page.x_res, page.y_res, page.width) == (300, 300, 2592)
        assert page.image.mean() == pytest.approx(black, abs=0.05)


def test_loopback_sends_a_greyscale_scan(tmp_path):
    from faxengine import tiff

    scan = _scan(tmp_path / "scan.tif", 2480, 3508, 300)
    out = tmp_path / "rx.tif"
    proc = run("loopback", str(scan), "--resolution", "standard", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sender: OK -- the document was transferred; 1 page, " in proc.stdout
    (page,) = tiff.read(out)
    assert page.resolution == "standard" and page.width == 1728 and page.image.any()


# ---- the call as it is watched and stopped

def test_verbose_lines_say_which_terminal_wrote_them():
    import logging

    from faxengine.cli import _TraceFormatter

    record = logging.LogRecord("faxengine.t30.receiver", logging.INFO, __file__, 1,
                               "rx DCS: %s", ("V.17 14400",), None)
    assert _TraceFormatter().format(record) == "receiver: rx DCS: V.17 14400"


def test_verbose_call_ends_once_per_terminal(tmp_path):
    proc = run("loopback", "samples/letter.png", "--out", str(tmp_path / "rx.tif"), "-v")
    assert proc.returncode == 0, proc.stderr
    ended = [line for line in proc.stdout.splitlines() if "call ended" in line]
    assert len(ended) == 2 and all(": call ended: OK" in line for line in ended)
    # each terminal logs on its own logger, and -v says which one wrote the line
    assert sorted(line.split(":", 1)[0] for line in ended) == ["receiver", "sender"]
    assert any(line.startswith("sender: tx DCS: ") for line in proc.stdout.splitlines())
    assert any(line.startswith("receiver: rx DCS: ") for line in proc.stdout.splitlines())


def test_ctrl_c_hangs_up_keeps_the_pages_received_and_exits_130(tmp_path):
    import signal

    from faxengine import tiff
    from faxengine.t4 import Page

    rng = np.random.default_rng(2)
    pages = [Page(rng.random((400, 1728)) < 0.05, 204, 196) for _ in range(30)]
    tiff.write(tmp_path / "doc.tif", pages)
    out = tmp_path / "rx.tif"
    proc = subprocess.Popen([sys.executable, "-u", "-m", "faxengine", "loopback",
                             str(tmp_path / "doc.tif"), "--out", str(out), "-v", "--snr", "30",
                             "--g711", "alaw"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "rx page 2 saved" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest + err
    assert err == "faxengine: interrupted, hanging up\n"
    assert "tx DCN" in rest and "sender: LOCAL_ABORT" in rest and "receiver: LOCAL_ABORT" in rest
    assert sum("call ended" in line for line in seen + rest.splitlines()) == 2
    got = tiff.read(out)
    assert 2 <= len(got) < 30
    assert all(np.array_equal(p.image, q.image) for p, q in zip(got, pages))
    assert f"wrote {out} ({len(got)} pages before the interrupt)" in rest


def test_a_bug_is_one_line_and_its_traceback_is_on_request(monkeypatch, capsys):
    from faxengine import cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "_cmd_demo", broken)
    monkeypatch.delenv("FAXENGINE_TRACEBACK", raising=False)
    assert cli.main(["demo", "samples/letter.png"]) == 3
    assert capsys.readouterr().err == ("faxengine: internal error: ZeroDivisionError: division by"
                                       " zero (please report it; FAXENGINE_TRACEBACK=1 shows"
                                       " where)\n")
    monkeypatch.setenv("FAXENGINE_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["demo", "samples/letter.png"])


def test_a_long_scan_is_refused_naming_its_file(tmp_path, capsys, monkeypatch):
    long_scan = tmp_path / "long.tif"
    Image.new("1", (1700, 25000), 1).save(long_scan, dpi=(200, 200), compression="group4")
    line = one_line_error(Ran(capsys, monkeypatch, "demo", str(long_scan)))
    assert line.startswith(f"faxengine: {long_scan}: a 1700 x 25000 picture makes a page 24415"
                           " lines (3.2 m) long at fine resolution; a fax page has at most")


def test_the_document_is_bounded_however_many_pictures_a_file_holds(tmp_path, capsys,
                                                                    monkeypatch):
    from faxengine import tiff

    frames = [Image.new("L", (1, 1), 0) for _ in range(5)]   # each a whole fine page
    many = tmp_path / "many.tif"
    frames[0].save(many, save_all=True, append_images=frames[1:])
    monkeypatch.setattr(tiff, "MAX_DOCUMENT_PIXELS", 3 * 1728 * 1660)
    line = one_line_error(Ran(capsys, monkeypatch, "demo", str(many)))
    assert line == (f"faxengine: {many} page 4: the document passes {3 * 1728 * 1660} pels"
                    " (about 250 A4 pages at fine resolution) here: send it in parts")


def test_an_empty_tiff_page_is_refused(tmp_path, capsys, monkeypatch):
    import struct

    # a bilevel TIFF 1728 pels wide and 0 lines long: tiff.read gives a page
    # of no lines, which a call "sent" while the receiver saved nothing
    entries = [(256, 3, 1728), (257, 3, 0), (258, 3, 1), (259, 3, 1), (262, 3, 0),
               (273, 4, 8), (278, 3, 1), (279, 4, 0), (282, 5, 204), (283, 5, 196), (296, 3, 2)]
    rationals_at = 8 + 2 + 12 * len(entries) + 4
    ifd, rationals = struct.pack("<H", len(entries)), b""
    for tag, kind, value in entries:
        if kind == 5:
            ifd += struct.pack("<HHII", tag, kind, 1, rationals_at + len(rationals))
            rationals += struct.pack("<II", value, 1)
        else:
            ifd += struct.pack("<HHI" + ("HH" if kind == 3 else "I"), tag, kind, 1, value,
                               *((0,) if kind == 3 else ()))
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"II*\0" + struct.pack("<I", 8) + ifd + bytes(4) + rationals)
    for command in (["demo"], ["loopback", "--out", str(tmp_path / "rx.tif")]):
        line = one_line_error(Ran(capsys, monkeypatch, *command, str(empty)))
        assert line == f"faxengine: {empty}: an empty page (1728 x 0 pels): nothing to send"


def test_ctrl_c_outside_a_call_exits_130_in_one_line(monkeypatch, capsys):
    from faxengine import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_demo", interrupted)
    assert cli.main(["demo", "samples/letter.png"]) == 130
    assert capsys.readouterr().err == "faxengine: interrupted\n"


def test_a_closed_pipe_silences_the_trace_and_the_call_ends_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "faxengine", "loopback", "samples/letter.png",
                             "--out", str(tmp_path / "rx.tif"), "-v"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b": tx DIS: " in proc.stdout.readline()    # the answering terminal's first frame
    proc.stdout.close()                               # | head -1
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == b""


def test_commands_of_the_media_layer_are_listed_and_take_their_own_arguments():
    proc = run("--help")
    assert proc.returncode == 0
    assert "decode" in proc.stdout and "devices" in proc.stdout
    proc = run("devices", "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: faxengine devices")
    proc = run("devices", "--bogus")
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr


def test_devices_prints_no_native_library_noise():
    pytest.importorskip("pyaudio", reason="PyAudio is absent: pip install -e .[audio]")
    proc = run("devices")
    # PortAudio's probing of absent ALSA/JACK devices is silenced: only our own lines
    assert "ALSA lib" not in proc.stderr and "jack" not in proc.stderr.lower()
    assert proc.returncode == 0
