"""The whiteboard of the layers, held against the code (README "Where things live").

    app.py, app_pages/ ──▶ lib/ui ──▶ lib/services ──▶ lib/iamport ──▶ lib/domain
            │                 │             └────────▶ lib/db ───────▶ lib/domain
            │                 └──────────▶ lib/reports ──────────────▶ lib/domain
            └──▶ lib/reports, lib/domain (and lib/iamport/errors, to catch an outage)
    sandbox/ ◀─ never ─▶ lib/          bench/ ─ never ─▶ tests/

Relative imports are resolved, and imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "iamport", "db", "services", "reports", "ui")

# What each package may import from lib (besides itself).
MAY_IMPORT = {
    "domain": set(),
    "iamport": {"domain"},
    "db": {"domain"},
    "services": {"iamport", "db", "domain"},
    "reports": {"domain"},
    "ui": {"domain", "iamport", "db", "services", "reports"},
}
PAGES_MAY_IMPORT = {"ui", "reports", "domain"}
PAGES_MAY_ALSO = {"lib.iamport.errors"}          # to catch ApiError around a read and say the API is unreachable
MAX_LINES = 400
WHY_LONGER = "Longer than 400 lines:"             # a module past the limit says why, in its first lines


def imports(path: Path, package: str | None = None) -> set[str]:
    """Every module ``path`` imports, dotted, with relative imports resolved against ``package``."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = (package or "").split(".")
                parts = parts[: len(parts) - node.level + 1] if node.level > 1 else parts
                base = ".".join(p for p in parts + ([node.module] if node.module else []) if p)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def lib_files() -> list[Path]:
    return sorted(p for p in (ROOT / "lib").rglob("*.py") if "migrations" not in p.parts)


def package_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT / "lib").parts
    return parts[0] if len(parts) > 1 else None


def lib_packages_imported(path: Path) -> set[str]:
    pkg = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return {m.split(".")[1] for m in imports(path, pkg) if m.startswith("lib.") and len(m.split(".")) > 1}


def test_every_lib_module_lives_in_a_layer():
    loose = [p.name for p in (ROOT / "lib").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    assert {p.name for p in (ROOT / "lib").iterdir() if p.is_dir() and p.name != "__pycache__"} == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_layers_below_it(package):
    bad = {}
    for f in lib_files():
        if package_of(f) == package:
            extra = lib_packages_imported(f) - MAY_IMPORT[package] - {package}
            if extra:
                bad[str(f.relative_to(ROOT))] = extra
    assert not bad, bad


def test_the_resolver_sees_relative_and_nested_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("from . import x\nfrom ..db import audit\ndef f():\n    from lib.ui import session\n")
    assert {"lib.services.x", "lib.db.audit", "lib.ui.session"} <= imports(f, "lib.services")


def test_pages_import_ui_reports_and_domain_only():
    for f in list((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py"]:
        mods = imports(f, "app_pages")
        tops = {m.split(".")[0] for m in mods}
        assert not tops & {"requests", "urllib3", "httpx", "urllib", "sandbox", "sqlalchemy"}, f
        lib = {m for m in mods if m.startswith("lib.") and m.count(".") >= 1}
        bad = {m for m in lib if m.split(".")[1] not in PAGES_MAY_IMPORT and not any(
            m == ok or m.startswith(ok + ".") for ok in PAGES_MAY_ALSO)}
        assert not bad, (f.name, bad)
        text = f.read_text()
        assert "http://" not in text and "https://" not in text, f


def test_only_lib_ui_imports_streamlit():
    for f in lib_files():
        tops = {m.split(".")[0] for m in imports(f, "lib")}
        if package_of(f) != "ui":
            assert "streamlit" not in tops, f


def test_only_the_transport_imports_an_http_library():
    for f in lib_files():
        tops = {m.split(".")[0] for m in imports(f, "lib")}
        if f.relative_to(ROOT).as_posix() not in ("lib/iamport/transport.py", "lib/iamport/client.py",
                                                  "lib/iamport/v2/transport.py"):
            assert not tops & {"requests", "urllib3", "httpx"}, f


def test_no_module_is_longer_than_400_lines_without_saying_why():
    long = []
    for f in lib_files() + sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py"]:
        lines = f.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(WHY_LONGER in line for line in lines[:40]):
            long.append((f.relative_to(ROOT).as_posix(), len(lines)))
    assert not long, long


def test_lib_never_imports_the_processes_around_it():
    for f in lib_files():
        assert not any(m.split(".")[0] in ("watcher", "app_pages", "devtools", "bench") for m in imports(f, "lib")), f


def test_sandbox_and_lib_are_independent():
    for f in (ROOT / "sandbox").rglob("*.py"):
        pkg = ".".join(f.relative_to(ROOT).with_suffix("").parts[:-1])
        assert not any(m == "lib" or m.startswith("lib.") for m in imports(f, pkg)), f
    for f in lib_files():
        assert not any(m.startswith("sandbox") for m in imports(f, "lib")), f


def test_bench_imports_no_test_code():
    for f in (ROOT / "bench").glob("*.py"):
        assert not any(m == "tests" or m.startswith("tests.") for m in imports(f, "bench")), f


def test_e2e_conftest_holds_fixtures_only():
    tree = ast.parse((ROOT / "tests" / "e2e" / "conftest.py").read_text())
    plain = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
             and not any("fixture" in ast.unparse(d) for d in n.decorator_list)]
    assert plain == [], plain


def test_test_folders_mirror_the_packages():
    """A unit test of lib/<package>/ lives in tests/<package>/ (cross-cutting ones at the top, pages and browser apart)."""
    assert {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and (p / "__init__.py").exists()} >= set(PACKAGES)
    top = sorted(p.name for p in (ROOT / "tests").glob("test_*.py"))
    assert top == ["test_attack_holes.py", "test_hostile.py", "test_i18n.py", "test_layout.py",
                   "test_make_run.py"], top


def module_file(dotted: str) -> Path | None:
    """The file of a dotted lib module name (None: not a module of lib, e.g. a class imported from one)."""
    base = ROOT.joinpath(*dotted.split("."))
    for f in (base.with_suffix(".py"), base / "__init__.py"):
        if f.is_file():
            return f
    return None


def lib_import_graph() -> dict[Path, set[Path]]:
    """Each file of lib → the files of lib it imports (top-level, inside functions, under TYPE_CHECKING alike)."""
    graph: dict[Path, set[Path]] = {}
    for f in lib_files():
        pkg = ".".join(f.relative_to(ROOT).with_suffix("").parts[:-1])
        targets = {module_file(m) for m in imports(f, pkg) if m.startswith("lib.")}
        graph[f] = {t for t in targets if t is not None and t != f}
    return graph


def cycles(graph: dict[Path, set[Path]]) -> list[list[str]]:
    """The strongly connected components of more than one file (Tarjan), as sorted relative paths."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    on: set[Path] = set()
    out: list[list[str]] = []

    def visit(v: Path) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(str(p.relative_to(ROOT)) for p in comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


# Reconciliation's reading modules still import each other (being reworked under issue 32 point 6): to be emptied.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycle_between_files_of_lib():
    """Not only between packages: two files of one package importing each other (even under TYPE_CHECKING or inside
    a function) is a circle a newcomer has to untangle; a file's dependencies must form a tree."""
    found = cycles(lib_import_graph())
    assert [c for c in found if c not in KNOWN_CYCLES] == []


def test_the_cycle_finder_finds_a_cycle_and_only_it():
    a, b, c, d = (ROOT / n for n in ("a", "b", "c", "d"))
    assert cycles({a: {b}, b: {c}, c: {a}, d: {a}}) == [["a", "b", "c"]]
    assert cycles({a: {b}, b: {c}, d: {a}}) == []


def test_pages_are_thin_and_never_open_the_database():
    """Issue 32 point 6: a page composes (texts, widgets, calls into lib): at most 300 lines, and the app database is
    reached through lib/ui/stores.py or the Desk, never by a page itself."""
    long, opening = [], []
    for f in sorted((ROOT / "app_pages").glob("*.py")):
        text = f.read_text(encoding="utf-8")
        if len(text.splitlines()) > 300:
            long.append((f.name, len(text.splitlines())))
        if "session.db(" in text or "session.audit(" in text:
            opening.append(f.name)
    assert not long, long
    assert not opening, opening
