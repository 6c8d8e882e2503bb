"""The layer rule of the architecture: a layer imports only layers below it.

``shared/design/architecture.md``: t4 < modem < t30 < t38 < media < gateway, and
the line models import no other layer.  Package-wide modules (``errors``,
``levels``) sit under every layer.  The check reads the import statements of
every module, so it also catches imports inside functions.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "faxengine"
ORDER = ["t4", "modem", "t30", "t38", "media", "gateway"]
BASE = {"errors", "levels", "g711", "datagram"}     # under every layer
TOP = {"__init__", "__main__", "cli", "loopback"}   # the facade and the command, over all
# faxengine/tiff.py belongs to the t4 layer (architecture: t4 owns TIFF-F files).
MODULE_LAYER = {"tiff": "t4"}


def _layer_of(parts: list[str]) -> str | None:
    if not parts:
        return None
    head = parts[0]
    return MODULE_LAYER.get(head, head)


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _allowed(importer: str, imported: str) -> bool:
    if imported in BASE or imported == importer:
        return True
    if imported in TOP:
        return False
    if importer == "line":
        return False
    if imported == "line":
        # line models serve tests, benchmarks and the gateway's simulated network
        return importer == "gateway"
    return ORDER.index(imported) < ORDER.index(importer)


def test_no_layer_imports_a_higher_one():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")) + sorted(PACKAGE.rglob("*.pyx")):
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        importer = _layer_of(list(rel))
        if importer is None or importer in TOP:
            continue  # the facade and the command sit on top of everything
        if path.suffix == ".pyx":
            continue  # Cython wrappers cimport C only
        for name in _imports(path):
            if not name.startswith("faxengine."):
                continue
            imported = _layer_of(name.split(".")[1:])
            if not _allowed(importer, imported):
                wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not wrong, "layer rule broken:\n" + "\n".join(wrong)


def test_the_rule_itself_catches_an_upward_import():
    assert not _allowed("t4", "modem")
    assert not _allowed("modem", "t30")
    assert not _allowed("line", "modem")
    assert not _allowed("t30", "line")
    assert not _allowed("t4", "loopback") and not _allowed("t30", "cli")
    assert _allowed("t30", "modem") and _allowed("modem", "errors")
