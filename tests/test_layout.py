"""The layout is the design: the sandbox and lib never import each other; pages never talk HTTP or build URLs;
only lib/ui*.py imports streamlit in lib."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_sandbox_and_lib_are_independent():
    for f in (ROOT / "sandbox").glob("*.py"):
        assert "lib" not in imports(f), f
    for f in (ROOT / "lib").glob("*.py"):
        assert "sandbox" not in imports(f), f


def test_pages_hold_no_http():
    for f in list((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]:
        mods = imports(f)
        assert not mods & {"requests", "urllib3", "httpx", "urllib"}, f
        assert "http://" not in f.read_text() and "https://" not in f.read_text(), f


def test_only_lib_ui_imports_streamlit():
    for f in (ROOT / "lib").glob("*.py"):
        if not f.name.startswith("ui"):
            assert "streamlit" not in imports(f), f
