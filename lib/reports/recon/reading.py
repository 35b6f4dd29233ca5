"""How a file is read, as the page shows it: the decisions made about it (``Choice``: the option taken, the
runner-up, the evidence in the team's words) and whether the reading explains enough of the file to show a result
(``Reading.stop``). The readings themselves: lib/reports/recon/understand.py (a PG file) and statement.py (a bank
statement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from lib.reports.recon import cells
from lib.reports.recon.cells import Profile
from lib.reports.recon.normalize import ColumnMap

EXPLAINED_MIN = 0.5        # a reading must explain at least half of what can be checked, or it stops


@dataclass
class Option:
    key: str                 # what the page keeps when a person picks it
    label: str               # the option in the team's words, with its score
    score: float = 0.0       # rows it explains (higher is better)


@dataclass
class Choice:
    """One decision about the file, the option taken first, the evidence in a sentence."""

    topic: str
    title: str
    options: list[Option]
    picked: int = 0
    evidence: str = ""

    @property
    def key(self) -> str:
        return self.options[self.picked].key


@dataclass
class Reading:
    """How a file is read: the mapping with its meaning, the decisions with their evidence, and whether it explains
    enough of the file to show a result (``stop`` is the sentence when it does not)."""

    kind: str                                  # "pg" | "bank"
    mapping: ColumnMap | dict
    choices: list[Choice] = field(default_factory=list)
    checked: int = 0                           # rows (PG) or payouts (bank) that could be checked
    explained: int = 0                         # …of which the reading explains
    stop: str | None = None
    notes: list[str] = field(default_factory=list)

    def choice(self, topic: str) -> Choice | None:
        return next((c for c in self.choices if c.topic == topic), None)


def _col(p: Profile | None) -> str | None:
    return p.name if p is not None else None


def _pick(choice: Choice, overrides: dict[str, str]) -> Choice:
    want = overrides.get(choice.topic)
    if want is not None:
        for i, o in enumerate(choice.options):
            if o.key == want:
                choice.picked = i
    return choice


def _ranked(options: list[Option]) -> list[Option]:
    return sorted(options, key=lambda o: -o.score)          # stable: equal scores keep the hint's order


def candidate_range(df: pd.DataFrame) -> tuple[date, date] | None:
    """The days a file may cover: from the first to the last day of any of its day columns (a transaction day and a
    settlement day both; the reading then tells them apart). None when no column holds days."""
    from lib.reports.recon.grid import ReconFileError
    from lib.reports.recon.normalize import parse_dates
    s = cells.sample(df)
    found: list[date] = []
    for p in cells.profile(df):
        if not p.is_day:
            continue
        col = df[p.name]
        try:                                       # every row, vectorised (the listing's range must be exact)
            d = parse_dates(col[col.astype(str).str.strip() != ""], p.name).dropna()
        except ReconFileError:                     # a stray cell: the sample's days, a day wider each side
            d = cells.days(s[p.name], serial=p.serial).dropna()
            if len(d):
                found += [min(d) - timedelta(days=1), max(d) + timedelta(days=1)]
            continue
        if len(d):
            found += [min(d), max(d)]
    return (min(found), max(found)) if found else None


