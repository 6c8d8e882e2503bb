import pytest

import faxengine
from faxengine.errors import FaxError
from faxengine.modem import ModemError
from faxengine.t4.page import Page, resolution_name


def test_error_family_roots_at_faxerror():
    assert issubclass(ModemError, FaxError)
    assert faxengine.FaxError is FaxError


def test_page_normalises_image_and_names_resolution():
    import numpy as np

    page = Page(np.zeros((3, 5), dtype=np.uint8), 204, 98)
    assert page.image.dtype == bool and page.width == 5 and page.height == 3
    assert page.resolution == "standard"
    assert resolution_name(203.2, 195.58) == "fine"
    assert resolution_name(150, 150) is None
    with pytest.raises(ValueError, match="2-D"):
        Page(np.zeros(4, dtype=bool))


def test_modem_names_are_lazy_and_unknown_names_fail_clearly():
    import faxengine.modem as modem

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        modem.Nope


# ---- what a wheel holds and says about itself

PACKAGING = ("pyproject.toml", "setup.py", "README.md", "LICENSE")
_PROBE = """
import json, sys
from distutils.core import run_setup
dist = run_setup("setup.py", stop_after="config")
build_py = dist.get_command_obj("build_py")
build_py.ensure_finalized()
m = dist.metadata
json.dump({"files": [f.split("/faxengine/", 1)[1] for f in build_py.get_outputs(False)],
           "license": m.license_expression, "license_files": m.license_files,
           "version": m.version, "description": m.description}, sys.stdout)
"""


@pytest.fixture(scope="module")
def wheel_plan(tmp_path_factory):
    """What setuptools puts in the wheel (build_py's files) and its metadata,
    found in a copy of the tree so the checkout gains no egg-info."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    copy = tmp_path_factory.mktemp("tree")
    for name in PACKAGING:
        shutil.copy2(root / name, copy / name)
    for tree in ("faxengine", "csrc"):
        shutil.copytree(root / tree, copy / tree, ignore=shutil.ignore_patterns("__pycache__"))
    assert list(copy.glob("faxengine/**/_*.c")), "build the extensions first"
    proc = subprocess.run([sys.executable, "-c", _PROBE], cwd=copy, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_wheel_ships_no_generated_c(wheel_plan):
    files = wheel_plan["files"]
    assert "t4/_t4.pyi" in files and "py.typed" in files and "t4/page.py" in files
    assert [f for f in files if f.endswith(".c")] == []


def test_license_is_an_spdx_expression_with_its_text():
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")                   # Python 3.11+
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["license"] == "LGPL-2.1-or-later"          # PEP 639, not a table
    assert project["license-files"] == ["LICENSE"]
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in (root / "LICENSE").read_text()


def test_metadata_says_the_version_once_and_promises_what_exists(wheel_plan):
    import importlib.util

    assert wheel_plan["license"] == "LGPL-2.1-or-later"
    assert wheel_plan["license_files"] == ["LICENSE"]
    assert wheel_plan["version"] == faxengine.__version__
    description = wheel_plan["description"]
    # what the description may name only once the layer that does it exists
    promises = {"gateway": "faxengine.gateway", "mail": "faxengine.gateway",
                "SIP": "faxengine.media", "RTP": "faxengine.media", "sound card": "faxengine.media",
                "T.38": "faxengine.t38"}
    for words, module in promises.items():
        if words in description:
            assert importlib.util.find_spec(module) is not None, f"{words!r}: no {module}"
