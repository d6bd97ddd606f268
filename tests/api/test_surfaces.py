"""The api's two surfaces, the JSON API (`api/v1`) and the web UI (`api/ui`), are siblings:
neither imports the other, and the application layer they share (the modules directly
under `api/`) imports neither, except `api/app.py`, which puts the two route tables
together. Read from the source with `ast` (nothing is imported to check)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "api"
SURFACES = ("api.v1", "api.ui")
COMPOSITION_ROOT = API / "app.py"


def imported_modules(source: str, package: str) -> set[str]:
    """What a module of `package` imports, named in full (`from api.v1 import base` names
    `api.v1.base`; relative imports resolved), at any depth of the module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def surface_imports(path: Path, surface: str) -> set[str]:
    """The modules of `surface` the module at `path` imports."""
    package = ".".join(path.relative_to(ROOT).parts[:-1])
    return {name for name in imported_modules(path.read_text(), package)
            if name == surface or name.startswith(surface + ".")}


def test_the_reader_sees_every_kind_of_import() -> None:
    source = ("import api.v1.base\nfrom api.v1 import routes\nfrom ..v1.frames import x\n"
              "def f():\n    from . import base\n")
    assert imported_modules(source, "api.ui") == {"api.v1.base", "api.v1.routes", "api.v1.frames.x", "api.ui.base"}


@pytest.mark.parametrize(("surface", "other"), [("api.ui", "api.v1"), ("api.v1", "api.ui")])
def test_a_surface_never_imports_the_other(surface: str, other: str) -> None:
    folder = ROOT.joinpath(*surface.split("."))
    offenders = {str(path.relative_to(ROOT)): found for path in sorted(folder.rglob("*.py"))
                 if (found := surface_imports(path, other))}
    assert offenders == {}


def test_the_application_layer_imports_no_surface() -> None:
    offenders = {str(path.relative_to(ROOT)): found for path in sorted(API.glob("*.py"))
                 if path != COMPOSITION_ROOT
                 and (found := set().union(*(surface_imports(path, surface) for surface in SURFACES)))}
    assert offenders == {}
