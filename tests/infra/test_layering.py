"""Who may import whom, read from the source with `ast` (nothing is imported to check).

From the bottom up: `infra/` (standard library only) and `sensr/` (the shared core) depend
on nothing above them; the services depend on the core, never on one another; the
launcher starts services as processes and never imports one; tests and benchmarks sit on
top, and benchmarks share with the tests only what lives in a package both import
(`launcher`, `workload`), never `tests` itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("api", "catalog_worker", "ingest_ftp", "ingest_http", "activity_worker", "notifier", "clip_worker")


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (absolute imports, at any depth of the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def offenders(folder: str, forbidden: set[str]) -> dict[str, set[str]]:
    """Each module under `folder` that imports a forbidden package, with what it imports."""
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if bad := imported_packages(path) & forbidden:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_reader_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import infra.process\nfrom tests import harness\nfrom . import sibling\n"
                      "def late():\n    from api.app import make_app\n")
    assert imported_packages(module) == {"infra", "tests", "api"}


def test_the_core_depends_on_nothing_above_it() -> None:
    assert offenders("sensr", {"infra", "launcher", "workload", "fuzzing", "tests", "bench", *SERVICES}) == {}


def test_infra_uses_the_standard_library_and_itself() -> None:
    """It runs before Sensr's dependencies are installed (`make install`)."""
    assert offenders("infra", {"sensr", "launcher", "workload", "fuzzing", "tests", "bench", *SERVICES}) == {}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_the_core_but_no_other_service(service: str) -> None:
    others = set(SERVICES) - {service}
    assert offenders(service, {"infra", "launcher", "workload", "fuzzing", "tests", "bench", *others}) == {}


def test_the_launcher_starts_services_without_importing_them() -> None:
    assert offenders("launcher", {"workload", "fuzzing", "tests", "bench", *SERVICES}) == {}


def test_benchmarks_do_not_import_the_tests() -> None:
    assert offenders("bench", {"tests"}) == {}


def test_the_shared_workload_imports_no_tests_and_no_service() -> None:
    assert offenders("workload", {"tests", "bench", *SERVICES}) == {}


def test_no_test_module_imports_another() -> None:
    """What tests share lives in `tests/support` (or a conftest), so each test module can be
    read, moved and run alone."""
    found = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            if bad := [name for name in names if name.startswith("tests.") and
                       name.rsplit(".", 1)[-1].startswith("test_")]:
                found[str(path.relative_to(ROOT))] = bad
    assert found == {}
