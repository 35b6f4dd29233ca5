"""The README's capability table ("which action works on which version and PG"), made from the matrix the pages ask
(lib/domain/capabilities.py ``table``) so the two cannot drift apart (tests/domain/test_capabilities_readme.py):

    python -m devtools.capability_table            # print the table
    python -m devtools.capability_table --write    # put it into README.md between its markers
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib.domain.capabilities import Capability, table
from lib.domain.names import PG_NAMES
from lib.domain.portone_v2 import V1, V2
from lib.domain.settings import Rules

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- capability table: made by python -m devtools.capability_table --write; do not edit by hand -->"
END = "<!-- end of capability table -->"
WORDS: dict[Capability, str] = {          # a word per action, in the matrix's order
    Capability.REFUND: "refund",
    Capability.ASYNC_CANCEL: "(may complete later: 환불 요청됨)",
    Capability.REVOKE: "revoke",
    Capability.CHANGE_AMOUNT: "change amount",
    Capability.CHANGE_DUE: "change due date",
    Capability.CLOSE_AND_REISSUE: "close and reissue",
}
ORDER = list(WORDS)


def _cell(actions: list[Capability], api: str) -> str:
    """The actions of one PG on one version in words ("—": none through the API)."""
    words = []
    for c in sorted(actions, key=ORDER.index):
        if c == Capability.ASYNC_CANCEL:
            continue
        w = "close" if c == Capability.REVOKE and api == V2 else WORDS[c]
        if c == Capability.REFUND and Capability.ASYNC_CANCEL in actions:
            w += " " + WORDS[Capability.ASYNC_CANCEL]
        words.append(w)
    return ", ".join(words) or "—"


def markdown(rules: Rules | None = None) -> str:
    """The table, one row per PG the desk names (lib/domain/names.PG_NAMES), with the default business rules (which
    PGs may change an account on V1 is a rule: ``vbank_update_pgs``)."""
    by: dict[str, dict[str, list[Capability]]] = {}
    for row in table(list(PG_NAMES), rules or Rules()):
        by.setdefault(str(row["pg_provider"]), {})[str(row["api_version"])] = list(row["actions"])  # type: ignore[call-overload]
    lines = ["| PG | code | V1 (I'mport) | V2 (PortOne) |", "| --- | --- | --- | --- |"]
    for pg, versions in by.items():
        lines.append(f"| {PG_NAMES[pg]} | `{pg}` | {_cell(versions[V1], V1)} | {_cell(versions[V2], V2)} |")
    return "\n".join(lines)


def block(rules: Rules | None = None) -> str:
    return f"{BEGIN}\n{markdown(rules)}\n{END}"


def in_readme(text: str) -> str:
    """The table as README.md has it (between the markers), or "" when the markers are missing."""
    if BEGIN not in text or END not in text:
        return ""
    return text[text.index(BEGIN):text.index(END) + len(END)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m devtools.capability_table", description=__doc__)
    ap.add_argument("--write", action="store_true", help="replace the table in README.md")
    a = ap.parse_args(argv)
    if not a.write:
        print(block())
        return 0
    text = README.read_text(encoding="utf-8")
    old = in_readme(text)
    if not old:
        print(f"README.md has no markers ({BEGIN!r} … {END!r})", file=sys.stderr)
        return 2
    README.write_text(text.replace(old, block()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
