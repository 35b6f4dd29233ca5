"""Message catalogs: extract the texts (``make messages``) and check the Korean catalog.

    python -m devtools.po extract      # locale/messages.pot from app.py, pages/, lib/ (pybabel extract)
    python -m devtools.po update       # merge it into locale/ko/LC_MESSAGES/messages.po (new ids untranslated)
    python -m devtools.po missing      # ids without a Korean translation (exit 1 when any)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "locale" / "messages.pot"
KO = ROOT / "locale" / "ko" / "LC_MESSAGES" / "messages.po"


def extract() -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
                    "--no-location", "--sort-output", "--omit-header", "-o", str(POT), "."], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def update() -> None:
    with POT.open("rb") as f:
        template = read_po(f)
    with KO.open("rb") as f:
        ko = read_po(f, locale="ko_KR")
    ko.update(template, no_fuzzy_matching=True)
    with KO.open("wb") as f:
        write_po(f, ko, width=120, omit_header=False, sort_output=True, ignore_obsolete=True, include_lineno=False)


def missing() -> list[str]:
    with POT.open("rb") as f:
        ids = [m.id for m in read_po(f) if m.id]
    with KO.open("rb") as f:
        ko = {m.id: m for m in read_po(f, locale="ko_KR") if m.id}
    return [i for i in ids if i not in ko or not ko[i].string or ko[i].fuzzy]


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "missing"
    if cmd == "extract":
        extract()
    elif cmd == "update":
        update()
    else:
        gaps = missing()
        print("\n".join(gaps) or "every message has a Korean translation")
        sys.exit(1 if gaps else 0)
