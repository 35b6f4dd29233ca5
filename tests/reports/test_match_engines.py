"""The columnar match (polars, lib/reports/recon/match.py) against the pandas engine it replaced (kept unchanged as
bench/pandas_match.py): the same four groups — the same rows in the same order, the same reasons and the same types —
on files made to be hard (keys repeated, missing, of every kind; amounts, fees, VAT and days that differ; refunds
matched by amount first) and on the real layouts' files."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from bench import pandas_match
from lib.domain.settings import Rules
from lib.reports.recon import expected, match, normalize, read
from tests.fixtures import realfiles as rf

GROUPS = ("matched", "mismatched", "file_only", "import_only")


def same(new: match.MatchResult, old: match.MatchResult) -> None:
    for g in GROUPS:
        a, b = getattr(new, g), getattr(old, g)
        assert list(a.columns) == list(b.columns), g
        if len(b):
            pd.testing.assert_frame_equal(a, b, check_dtype=True, check_index_type=True, obj=g)
        else:
            assert len(a) == 0, g
    pd.testing.assert_frame_equal(new.summary(), old.summary())


def made(seed: int, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """File rows and events that collide on purpose: few distinct keys, both kinds, blanks, repeats."""
    rng = np.random.default_rng(seed)
    day = date(2026, 10, 1)
    ids = [f"imp_{i:04d}" for i in range(n // 4)]
    orders = [f"ord_{i:04d}" for i in range(n // 4)]
    tids = [f"T{i:04d}" for i in range(n // 4)]
    amounts = np.array([1000, 5000, 9900, 12000])

    def pick(pool, k, blank):
        out = rng.choice(pool, k).astype(object)
        out[rng.random(k) < blank] = ""
        return out
    ev = pd.DataFrame({"kind": rng.choice(["deposit", "refund"], n, p=[0.8, 0.2]),
                       "date": [day + timedelta(days=int(d)) for d in rng.integers(0, 3, n)],
                       "imp_uid": pick(ids, n, 0.0), "merchant_uid": pick(orders, n, 0.05),
                       "pg_tid": pick(tids, n, 0.1), "pg": rng.choice(["kcp", "settle"], n),
                       "amount": rng.choice(amounts, n).astype("int64")})
    ev["fee"], ev["fee_vat"] = expected.fee_columns(ev["pg"], ev["kind"], Rules())
    ev["vat"] = ((ev["amount"] + 5) // 11).astype("int64")
    m = int(n * 0.9)
    fee = pd.array(rng.choice([300, 330, 0], m), dtype="Int64")
    fee[rng.random(m) < 0.2] = pd.NA
    vat = pd.array(rng.choice([0, 909, 1091], m), dtype="Int64")
    vat[rng.random(m) < 0.5] = pd.NA
    rows = pd.DataFrame({"row": np.arange(2, m + 2, dtype="int64"),
                         "date": [day + timedelta(days=int(d)) for d in rng.integers(0, 3, m)],
                         "kind": rng.choice(["deposit", "refund"], m, p=[0.8, 0.2]),
                         "amount": rng.choice(amounts, m).astype("int64"), "fee": fee,
                         "fee_vat": pd.array(rng.choice([30, 33], m), dtype="Int64"),
                         "tax_free": pd.array([0] * m, dtype="Int64"), "vat": vat,
                         "imp_uid": pick(ids, m, 0.6), "merchant_uid": pick(orders, m, 0.5),
                         "pg_tid": pick(tids, m, 0.4), "pg": rng.choice(["kcp", "settle", ""], m)})
    for c in ("kind", "imp_uid", "merchant_uid", "pg_tid", "pg"):
        rows[c] = rows[c].astype("str")
        if c in ev:
            ev[c] = ev[c].astype("str")
    return rows, ev


@pytest.mark.parametrize("seed", range(12))
def test_the_engines_agree_on_files_made_to_collide(seed):
    rows, ev = made(seed)
    new, old = match.match(rows, ev), pandas_match.match(rows, ev)
    assert len(old.matched) and len(old.mismatched) and len(old.file_only) and len(old.import_only)
    same(new, old)


def test_the_engines_agree_when_nothing_or_everything_matches():
    rows, ev = made(99, 80)
    same(match.match(rows, ev.iloc[0:0]), pandas_match.match(rows, ev.iloc[0:0]))
    exact = ev.assign(row=np.arange(len(ev), dtype="int64"), fee=pd.array(ev["fee"], dtype="Int64"),
                      fee_vat=pd.array(ev["fee_vat"], dtype="Int64"), vat=pd.array([pd.NA] * len(ev), dtype="Int64"),
                      tax_free=pd.array([0] * len(ev), dtype="Int64"))
    new, old = match.match(exact, ev), pandas_match.match(exact, ev)
    assert len(old.matched) == len(ev) and old.mismatched.empty
    same(new, old)


@pytest.mark.parametrize("name", sorted(rf.PG_FILES))
def test_the_engines_agree_on_every_real_layout(name):
    pays = rf.payments()
    made_file = rf.PG_FILES[name](pays)
    table = read.read_file(made_file.data, made_file.name)
    rows = normalize.normalize(table.df, read.recognise_pg(table.columns)[1])
    a, b = normalize.file_range(rows)
    ev = expected.events(pays, a, b, Rules(), normalize.file_pgs(rows) or None)
    same(match.match(rows, ev), pandas_match.match(rows, ev))


def test_days_far_apart_still_agree():
    """A stray year in a file (0001 next to 2026): the days are made only for the dates that occur."""
    rows, ev = made(5, 60)
    rows.loc[0, "date"] = date(1, 1, 1)
    rows.loc[1, "date"] = date(9999, 12, 31)
    same(match.match(rows, ev), pandas_match.match(rows, ev))


@pytest.mark.parametrize("seed", range(3))
def test_the_matched_group_is_counted_and_shown_without_becoming_pandas_whole(seed):
    """The page reads the matched group's count, totals per PG and first rows: the same as the pandas engine's, and
    the million-row pandas copy is not made for them."""
    _rows, ev = made(seed, 200)
    rows = ev.assign(row=np.arange(len(ev), dtype="int64"), fee=pd.array(ev["fee"], dtype="Int64"),
                     fee_vat=pd.array(ev["fee_vat"], dtype="Int64"), vat=pd.array([pd.NA] * len(ev), dtype="Int64"),
                     tax_free=pd.array([0] * len(ev), dtype="Int64"))
    rows.loc[rows.index[::10], "amount"] += 1                           # a few differ: both groups have rows
    new, old = match.match(rows, ev), pandas_match.match(rows, ev)
    assert new.matched_count() == len(old.matched) > 100 and len(old.mismatched)
    pd.testing.assert_frame_equal(new.summary(), old.summary())
    pd.testing.assert_frame_equal(match.month_end_summary(new, None), match.month_end_summary(old, None))
    pd.testing.assert_frame_equal(new.matched_head(7), old.matched.head(7))
    assert new._matched_pd is None                       # nothing above converted the whole group
    pd.testing.assert_frame_equal(new.matched, old.matched)


def test_arrow_gives_freed_memory_back_once_the_app_asks():
    """app.py (and the bench) switch Arrow to jemalloc with a 200 ms decay: a month end's transient columns go back to the
    system between phases instead of staying with the allocator (bench/reconcile.py: peak RSS 1.43 → 1.28 GB)."""
    import pyarrow as pa

    from lib.reports.columnar import give_back_freed_memory
    if "jemalloc" not in pa.supported_memory_backends():
        pytest.skip("this pyarrow was built without jemalloc")
    give_back_freed_memory()
    assert pa.default_memory_pool().backend_name == "jemalloc"
    assert pa.array(np.arange(1000)).buffers()[1].size == 8000          # and arrays are still made in it


def test_the_page_keeps_one_copy_of_the_events_for_the_match_and_the_expected_settlement(monkeypatch):
    """The matched group points into the events it was matched against: the page's match (loaders.reconciled) and
    its expected settlement (loaders.expected_events) must be the one cached object, or the matched pairs would keep
    a second million-event frame alive."""
    import numpy as np
    import pyarrow as pa

    from lib.services import desk
    from lib.ui import loaders
    pays = rf.payments()
    made_file = rf.PG_FILES[sorted(rf.PG_FILES)[0]](pays)
    table = read.read_file(made_file.data, made_file.name)
    rows = normalize.normalize(table.df, read.recognise_pg(table.columns)[1])
    a, b = normalize.file_range(rows)
    listing = expected.table(pays)
    monkeypatch.setattr(desk, "payments_for_file", lambda _c, _rows, _p: (expected.table([]), 0))
    monkeypatch.setattr(loaders, "client", lambda: None)
    args = ("digest-shared-events", (("date", "x"),), a, b, (), 1.0, Rules().model_dump_json())
    result, extra, _n = loaders.reconciled(*args, rows, listing)
    ev = loaders.expected_events(*args, listing, extra)
    assert isinstance(extra, pa.Table) and result.matched_count() > 0
    assert np.shares_memory(result._pairs.events["amount"].to_numpy(), ev["amount"].to_numpy())
