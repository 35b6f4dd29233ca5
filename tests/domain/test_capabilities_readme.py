"""The README's capability table ("which action works on which version and PG") is the matrix the pages ask
(lib/domain/capabilities.py), so the two cannot drift apart: regenerate it with
``python -m devtools.capability_table --write``."""

from __future__ import annotations

from devtools import capability_table
from lib.domain.capabilities import Capability, actions
from tests.helpers import ROOT


def test_the_readme_table_is_the_capability_matrix():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = capability_table.in_readme(readme)
    assert shown, "README.md has lost the capability table's markers"
    assert shown == capability_table.block(), "README.md's capability table differs: run " \
        "python -m devtools.capability_table --write"


def test_the_table_says_what_the_matrix_says():
    """Spot checks of the words against the matrix itself (a table made wrongly would still equal itself)."""
    rows = {line.split("|")[2].strip(" `"): [c.strip() for c in line.split("|")[3:5]]
            for line in capability_table.markdown().splitlines()[2:]}
    v1, v2 = rows["kcp"]
    assert Capability.CHANGE_DUE in actions("v1", "kcp") and "change due date" in v1 and "revoke" in v1
    assert "change" not in v2.replace("close and reissue", "") and "close" in v2 and "환불 요청됨" in v2
    assert rows["danal"] == ["revoke", "close, close and reissue"]           # Danal: no refund on either version
    assert "revoke" not in rows["html5_inicis"][0]                          # KG이니시스 needs its own key to revoke
