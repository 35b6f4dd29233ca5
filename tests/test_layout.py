"""The whiteboard of the layers, held against the code. Relative imports are resolved, so ``from .client import``
counts as much as ``import lib.client``.

    pages ──▶ lib/ui*.py ──▶ lib/services.py ──▶ lib/client.py ──▶ lib/models.py, errors, clock
                                     │                 (HTTP, token, envelope → typed errors)
                                     ├──▶ lib/rules.py, pg_rules, banks, fees, text, fmt, identity   (pure)
                                     └──▶ lib/audit.py, locks.py, approvals.py, recon presets        (SQL only)
    sandbox/ ◀─ never ─▶ lib/          bench/ ─ never ─▶ tests/
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PURE = {"rules", "pg_rules", "banks", "fees", "text", "clock", "errors", "fmt", "identity", "models"}
STORES = {"audit", "locks", "approvals"}
CLIENT_MAY_IMPORT = {"i18n", "models", "errors", "clock"}
UI = {"ui", "ui_present"}


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
            if not node.module or node.level:
                out |= {f"{base}.{a.name}" for a in node.names}
    return out


def lib_deps(name: str) -> set[str]:
    """The lib modules lib/<name>.py imports (short names)."""
    mods = imports(ROOT / "lib" / f"{name}.py", "lib")
    return {m.split(".")[1] for m in mods if m.startswith("lib.") and len(m.split(".")) > 1}


def lib_modules() -> list[str]:
    return sorted(p.stem for p in (ROOT / "lib").glob("*.py") if p.stem != "__init__")


def test_relative_imports_are_resolved():
    """The whiteboard must see ``from .client import X`` and ``from . import client``."""
    assert "client" in lib_deps("services") and "approvals" in lib_deps("services")
    assert "services" in lib_deps("ui")


def test_the_client_knows_nothing_above_it():
    assert lib_deps("client") <= CLIENT_MAY_IMPORT, lib_deps("client")


def test_pure_rules_import_no_client_store_service_or_ui():
    for name in PURE:
        bad = lib_deps(name) & ({"client", "services", "recon", "pending", "cache"} | STORES | UI)
        assert not bad, (name, bad)


def test_stores_know_no_http_and_no_services():
    for name in STORES:
        bad = lib_deps(name) & ({"client", "services"} | UI)
        assert not bad, (name, bad)
        assert not {m.split(".")[0] for m in imports(ROOT / "lib" / f"{name}.py", "lib")} & {"requests", "urllib3"}


def test_services_do_not_reach_up_to_the_ui():
    assert not lib_deps("services") & UI


def test_only_lib_ui_imports_streamlit():
    for name in lib_modules():
        tops = {m.split(".")[0] for m in imports(ROOT / "lib" / f"{name}.py", "lib")}
        if name not in UI:
            assert "streamlit" not in tops, name


def test_only_the_client_imports_an_http_library():
    for name in lib_modules():
        tops = {m.split(".")[0] for m in imports(ROOT / "lib" / f"{name}.py", "lib")}
        if name != "client":
            assert not tops & {"requests", "urllib3", "httpx"}, name


def test_sandbox_and_lib_are_independent():
    for f in (ROOT / "sandbox").rglob("*.py"):
        pkg = ".".join(f.relative_to(ROOT).with_suffix("").parts[:-1])
        assert not any(m == "lib" or m.startswith("lib.") for m in imports(f, pkg)), f
    for f in (ROOT / "lib").glob("*.py"):
        assert not any(m.startswith("sandbox") for m in imports(f, "lib")), f


def test_pages_hold_no_http_and_no_client():
    for f in list((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py"]:
        mods = imports(f, "app_pages")
        tops = {m.split(".")[0] for m in mods}
        assert not tops & {"requests", "urllib3", "httpx", "urllib", "sandbox"}, f
        assert "lib.client" not in mods, f                          # pages reach the API through lib/ui.py
        assert "http://" not in f.read_text() and "https://" not in f.read_text(), f


def test_bench_imports_no_test_code():
    for f in (ROOT / "bench").glob("*.py"):
        assert not any(m == "tests" or m.startswith("tests.") for m in imports(f, "bench")), f


def test_e2e_conftest_holds_fixtures_only():
    tree = ast.parse((ROOT / "tests" / "e2e" / "conftest.py").read_text())
    plain = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
             and not any("fixture" in ast.unparse(d) for d in n.decorator_list)]
    assert plain == [], plain
