"""How a file is read, as the page shows it: the decisions made about it (``Choice``: the option taken, the
runner-up, the evidence in the team's words) and whether the reading explains enough of the file to show a result
(``Reading.stop``). The readings themselves: lib/reports/recon/understand.py (a PG file) and statement.py (a bank
statement)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
        col = _distinct(df[p.name])                # every row's value once (the listing's range must be exact)
        try:
            d = parse_dates(col[col.astype(str).str.strip() != ""], p.name).dropna()
        except ReconFileError:                     # a stray cell: the sample's days, a day wider each side
            d = cells.days(s[p.name], serial=p.serial).dropna()
            if len(d):
                found += [min(d) - timedelta(days=1), max(d) + timedelta(days=1)]
            continue
        if len(d):
            found += [min(d), max(d)]
    return (min(found), max(found)) if found else None


def _distinct(col: pd.Series) -> pd.Series:
    """A column's distinct values (a day column of a million rows holds a few dozen): reading a day depends on its
    cell alone, so the first and last day of the distinct values are the column's."""
    if hasattr(col.array, "__arrow_array__"):
        try:
            return pd.Series(pc.unique(pa.chunked_array(pa.array(col.array))).to_pandas(), dtype=col.dtype)
        except (TypeError, pa.ArrowException):
            pass
    return pd.Series(pd.unique(col), dtype=col.dtype)


KEY_FIELDS = ("imp_uid", "merchant_uid", "pg_tid")        # what a file row is matched by, in this order


def _arrow_text(values: Iterable[Any]) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(values, pd.Series) and hasattr(values.array, "__arrow_array__"):
        arr = pa.array(values.array)
    else:
        arr = pa.array([str(v) for v in values], pa.string())
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


class Known:
    """I'mport's ids (imp_uid, merchant_uid, pg_tid of the events), asked which of a file's few thousand values they
    hold. Each question scans an id column once against a hash of the file's values — never a hash of a month of
    ids per question (pandas' isin on Arrow text walked every id in Python: 25 s at 200,000 payments; a hash of a
    million ids per column cost ~50 ms each, measured)."""

    def __init__(self, ev: pd.DataFrame):
        self.cols = {k: _arrow_text(ev[k]) for k in KEY_FIELDS if k in ev and len(ev)}

    def among(self, k: str, values: Iterable[object]) -> set[str]:
        """Those of ``values`` that are ids of kind ``k`` at I'mport."""
        col = self.cols.get(k)
        mine = pc.unique(pa.array([str(v) for v in values if str(v)], pa.string()))
        if col is None or not len(mine):
            return set()
        return set(pc.unique(col.filter(pc.fill_null(pc.is_in(col, value_set=mine), False))).to_pylist())

    def rows_of(self, ev: pd.DataFrame, k: str, values: Iterable[object]) -> pd.DataFrame:
        """The events whose ``k`` is one of ``values``."""
        col = self.cols.get(k)
        mine = pa.array([str(v) for v in values], pa.string())
        if col is None or not len(mine):
            return ev.iloc[:0]
        return ev[pc.fill_null(pc.is_in(col, value_set=mine), False).to_numpy(zero_copy_only=False)]
