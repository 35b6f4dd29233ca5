"""The month end's shortcuts (issue 33) change no answer: a file's profile and sample made once per table, its days
found from its distinct values."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from lib.reports.recon import cells, reading


def _df(n: int = 5000) -> pd.DataFrame:
    days = [f"2026.10.{1 + i % 28:02d}" for i in range(n)]
    days[7] = "2026.09.30"
    days[n - 3] = "2026.11.02"
    return pd.DataFrame({"거래일자": days, "정산일": ["2026-11-05"] * n, "주문번호": [f"ord_{i}" for i in range(n)],
                         "거래금액": ["12,000"] * n}, dtype="str")


def test_profile_and_sample_made_once_per_table(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _df()
    calls: list[int] = []
    real = cells._profile
    monkeypatch.setattr(cells, "_profile", lambda d: calls.append(1) or real(d))
    first = cells.profile(df)
    first[0].values.clear()                            # a caller's copy: the next caller sees the whole profile
    second = cells.profile(df)
    assert len(calls) == 1 and second[0].values and cells.sample(df) is cells.sample(df)
    other = _df()                                       # another table: its own profile
    cells.profile(other)
    assert len(calls) == 2


def test_candidate_range_is_the_first_and_last_day_of_any_day_column() -> None:
    assert reading.candidate_range(_df()) == (date(2026, 9, 30), date(2026, 11, 5))
    odd = _df()
    odd.loc[4000, "거래일자"] = "합계 아님"                   # a stray cell: the sample's days, a day wider each side
    lo, hi = reading.candidate_range(odd)
    assert lo <= date(2026, 10, 1) and hi == date(2026, 11, 5)


def test_pairing_unique_keys_in_one_join_and_repeated_keys_nth_with_nth(monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    from lib.reports.recon import match
    counted: list[int] = []
    real = match._nth
    monkeypatch.setattr(match, "_nth", lambda df, on: counted.append(df.height) or real(df, on))
    f = pl.DataFrame({"key": ["a", "b", "c"], "amount": [1, 2, 3], "fi": [0, 1, 2]})
    e = pl.DataFrame({"key": ["c", "a", "x"], "amount": [3, 1, 9], "ei": [0, 1, 2]})
    assert match._pair_one(f, e, ["key", "amount"]).rows() == [(0, 1), (2, 0)]
    assert counted == []                                  # every key once on each side: no counting
    f2 = pl.DataFrame({"key": ["a", "a", "b", "a"], "amount": [1, 1, 2, 1], "fi": [0, 1, 2, 3]})
    e2 = pl.DataFrame({"key": ["a", "b", "a"], "amount": [1, 2, 1], "ei": [0, 1, 2]})
    assert match._pair_one(f2, e2, ["key", "amount"]).rows() == [(0, 0), (1, 2), (2, 1)]   # never a's third twice
    assert counted


def test_large_sides_paired_by_hash_give_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    from lib.reports.recon import match
    monkeypatch.setattr(match, "PAIR_BUCKET_ROWS", 2)         # "large": the hashed join, then the buckets
    f = pl.DataFrame({"key": ["a", "b", "c", "d"], "kind": ["deposit", "deposit", "refund", "deposit"],
                      "amount": [1, 2, 3, 4], "fi": [0, 1, 2, 3]})
    e = pl.DataFrame({"key": ["d", "c", "b", "a"], "kind": ["deposit", "refund", "deposit", "deposit"],
                      "amount": [4, 3, 2, 9], "ei": [10, 11, 12, 13]})
    on = ["key", "kind", "amount"]
    assert match._pair_hashed(f, e, on) is not None
    assert match._pair(f, e, on).rows() == [(1, 12), (2, 11), (3, 10)]     # a's amounts differ: no pair
    twice = pl.concat([f, f.head(1).with_columns(pl.lit(4, pl.Int64).alias("fi"))])
    assert match._pair_hashed(twice, e, on) is None                         # a key twice: counted n-th with n-th
    assert match._pair(twice, e, on).rows() == [(1, 12), (2, 11), (3, 10)]
    gap = f.with_columns(pl.when(pl.col("fi") == 1).then(None).otherwise(pl.col("key")).alias("key"))
    assert match._pair_hashed(gap, e, on) is None
