"""Data a page shows, loaded once and shared: the pending and paid lists and the payments of a reconciliation period
(one TTL cache for every session, single flight, a progress bar while a miss loads, cleared by every write), and
an uploaded file read, normalised and matched, cached by its content's digest and the mapping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib.domain import payment_table
from lib.domain.clock import KST, now_kst
from lib.domain.digest import Digest
from lib.domain.i18n import N_, _
from lib.domain.settings import get_settings
from lib.iamport.errors import ApiError
from lib.iamport.listing import STATUS_TIME_FIELD, Progress
from lib.reports import pending, search
from lib.reports import refundable as refund
from lib.reports.recon import expected, grid, match, normalize, read
from lib.services import deposits, settle, watcher
from lib.ui import keys, mirror, session
from lib.ui.cache import TTLCache
from lib.ui.session import client, settings

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from lib.reports.recon.reading import Reading

_T = TypeVar("_T")


# ------------------------------------------------------------------ data cache
@st.cache_resource(show_spinner=False)
def _shared_cache() -> TTLCache:
    """One cache for every session: pending accounts are the merchant's, not per-user data."""
    return TTLCache(ttl=get_settings().cache_ttl)


_seen_version: dict[str, int | None] = {"v": None}     # the app database's data version this instance's cache was filled at


def _drop_if_written_elsewhere() -> None:
    """Another instance wrote (a refund, a change, a cancellation): its data version moved; drop this instance's lists
    too, not only the instance that wrote."""
    v = session.db().shared.data_version()
    if _seen_version["v"] is not None and v != _seen_version["v"]:
        _shared_cache().clear()
    _seen_version["v"] = v


RELOAD_WAIT_S = 4.0    # a list shown before is reloaded for this long at most; then the last one (with its age) shows


def _cached(key: tuple, what: str, load: Callable[[Progress], _T]) -> tuple[_T, datetime]:
    """The shared cache with a progress bar while a miss loads: ``load(progress)`` returns the value."""
    _drop_if_written_elsewhere()
    bar = st.empty()

    def progress(done: int, total: int) -> None:
        if get_script_run_ctx() is None:       # a reload that went on in the background (RELOAD_WAIT_S): no bar
            return
        bar.progress(done / max(total, 1), text=_("Loading {what}… page {done} of {total}").format(
            what=_(what), done=done, total=total))

    # From the mirror, a list is as fresh as the mirror's last sync: that time is part of the key (a sync gives a new
    # list) and is the time the page shows.
    m_at = mirror.as_of() if mirror.ready() else None
    value, fetched = _shared_cache().get_or_load(
        (key[0], settings().api_url, *key[1:], m_at.timestamp() if m_at else None), lambda: load(progress),
        keep_on=(ApiError,), wait_s=RELOAD_WAIT_S)
    bar.empty()
    return value, m_at or datetime.fromtimestamp(fetched, KST)


def listing(status: str, a: int, b: int, *, fields: tuple[str, ...], pay_method: str | None = None,
            progress: Progress | None = None, with_api: bool = False, native: bool = False) -> pa.Table:
    """Payments of ``status`` whose status time is in [a, b] (``all``: those *started* in [a, b]) from the payments
    mirror when it is filled, else from the API's listing; of every API version the merchant is on (V1, and V2 when
    configured), with an ``api`` column ("v1" | "v2") when ``with_api``. Without it, V1's payments only, as every
    list read before V2 came."""
    if mirror.ready():
        return mirror.mirror().read(fields, t_from=a, t_to=b, status=None if status == "all" else status,
                                    time_field=STATUS_TIME_FIELD.get(status, "started_at"), pay_method=pay_method,
                                    api=None if with_api else "v1", with_api=with_api, native=native)
    parts = []
    for api in mirror.apis() if with_api else ("v1",):
        t = _api_listing(session.client_for(api), status, a, b, fields, pay_method, progress)
        parts.append(t.append_column("api", pa.array([api] * t.num_rows, pa.string())) if with_api else t)
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _no_api(t: pa.Table) -> pa.Table:
    """Both versions' payments as the listing's table (the summary and the month end count them alike)."""
    return t.drop_columns(["api"]) if "api" in t.column_names else t


def _api_listing(c: Any, status: str, a: int, b: int, fields: tuple[str, ...], pay_method: str | None,
                 progress: Progress | None) -> pa.Table:
    if status == "all":
        # The API lists ``all`` by each payment's final-status time: one started in [a, b] may be paid or refunded
        # after b, so read to now and keep those started in the range.
        t = c.list_columns("all", a, int(time.time()), fields=(*fields, "started_at"), pay_method=pay_method,
                           progress=progress)
        s = t["started_at"]
        keep = pc.and_(pc.greater_equal(s, a), pc.less_equal(s, b))
        return t.filter(pc.fill_null(keep, False)).select(list(payment_table.with_id(fields)))
    return c.list_columns(status, a, b, fields=fields, pay_method=pay_method, progress=progress)


def both_apis() -> bool:
    """The merchant is on V1 and V2: the lists read both, each row with its ``api``."""
    return len(mirror.apis()) > 1


DEPOSIT_OVERLAP_S = 120       # a deposit this long before the list was read may be missing from it: leave it out


def load_pending(days: int) -> tuple[pd.DataFrame, datetime]:
    """Pending accounts of the last ``days`` days; an account paid since the list was read (the deposit feed) is left
    out at once, before the list itself is read again."""
    def load(progress: Progress) -> pd.DataFrame:
        t_to = int(time.time())
        rows = listing("ready", t_to - days * 86400, t_to, fields=tuple(pending.RAW_COLUMNS), pay_method="vbank",
                       progress=progress, with_api=both_apis(), native=True)   # V2 on: both, with an ``api`` column
        return pending.build_frame(rows, now_kst())

    df, fetched = _cached(("pending", days), N_("pending virtual accounts"), load)
    paid = {r["imp_uid"] for r in deposits.paid_since(recent_deposits(), fetched.timestamp() - DEPOSIT_OVERLAP_S)}
    if paid:
        df = df[~df["imp_uid"].isin(paid)]
    return pending.with_clock(df, now_kst()), fetched


@st.cache_resource(show_spinner=False)
def _deposit_feed(api_url: str, v2_api_url: str | None = None) -> deposits.DepositFeed:
    """One feed per process; for a merchant on both APIs it reads both (V2's deposits marked ``api: "v2"``)."""
    v2 = session.client_v2()
    source = deposits.BothApis(client(), v2) if v2 is not None else client()
    return deposits.DepositFeed(source, min_interval_s=float(settings().refresh_seconds))


paid_since = deposits.paid_since


def recent_deposits() -> list[dict]:
    """Virtual accounts paid in the last days, newest first: one small read per refresh interval for the whole app
    (lib/services/deposits.py). An outage leaves the last known list (the pages say when it was read)."""
    return _deposit_feed(settings().api_url, settings().v2_api_url).refresh()


def deposits_read_at() -> datetime | None:
    """When the deposit feed last read I'mport successfully (None: not yet)."""
    at = _deposit_feed(settings().api_url, settings().v2_api_url).checked_at
    return datetime.fromtimestamp(at, KST) if at else None


def api_outage(*cache_keys: tuple) -> tuple[datetime, str] | None:
    """(since when, the API's own message) while I'mport does not answer the deposit feed or the reads of these
    cached lists (``("pending", days)`` …); None while it answers."""
    found: list[tuple[float, str]] = []
    out = _deposit_feed(settings().api_url, settings().v2_api_url).outage
    if out is not None:
        found.append((out.since, out.message))
    for key in cache_keys:
        f = _shared_cache().failure((key[0], settings().api_url, *key[1:]))
        if f is not None:
            found.append((f[0], getattr(f[1], "message", "") or str(f[1])))
    if not found:
        return None
    since, message = min(found)
    return datetime.fromtimestamp(since, KST), message


def load_digest() -> tuple[Digest, datetime]:
    """오늘의 요약 (90 days of pending accounts, the last days' deposits, the app database's counts): read once for
    everyone per day and cache period, dropped by any write like the lists, not on every rerun or visit."""
    def load(progress: Progress) -> Digest:
        t = int(time.time())
        vbanks = _no_api(listing("all", t - watcher.LOOKBACK_DAYS * 86400, t, fields=payment_table.ALL,
                                 pay_method="vbank", progress=progress, with_api=True)).to_pylist()
        return watcher.digest_from(vbanks, session.db(), t)

    return _cached(("digest", now_kst().date().isoformat()), N_("Today's summary"), load)


def load_paid_vbanks(days: int) -> tuple[pd.DataFrame, datetime]:
    """Paid virtual-account payments with a refundable balance (the refund wizard's list)."""
    def load(progress: Progress) -> pd.DataFrame:
        t_to = int(time.time())
        return refund.paid_vbank_frame(listing("paid", t_to - days * 86400, t_to, pay_method="vbank",
                                               fields=tuple(refund.PAID_COLUMNS), progress=progress,
                                               with_api=both_apis()))

    return _cached(("paid", days), N_("paid virtual accounts"), load)


def load_recon_payments(d_from: date, d_to: date) -> tuple[pa.Table, datetime]:
    """Every payment started from 90 days before ``d_from`` to the end of ``d_to`` (KST): deposits in the
    range and refunds registered in it, even of older payments (the fields the events need, as columns)."""
    from lib.reports.recon.expected import FIELDS, kst_range, lookback_start

    def load(progress: Progress) -> pa.Table:
        a, b = kst_range(lookback_start(d_from), d_to)
        # Every version the merchant is on: one PG settlement file holds its V1 and V2 payments alike.
        return _no_api(listing("all", a, min(b, int(time.time())), fields=FIELDS, progress=progress, with_api=True))

    return _cached(("recon", str(d_from), str(d_to)), N_("payments"), load)


@st.cache_resource(max_entries=6, show_spinner=False)
def recon_pgs(d_from: date, d_to: date, fetched: float, _payments: pa.Table) -> list[str]:
    """The PG picker's choices for the range's listing, once per listing (not a pass over it on every click)."""
    return expected.vbank_pgs(_payments)


def load_search_frame(d_from: date, d_to: date) -> tuple[pd.DataFrame, datetime]:
    """Every payment started in the period (KST days; the listing joins the API's 90-day windows), as the search's
    frame (lib/reports/search.py), built once per period and shared by every session until a write or the TTL."""
    from lib.reports.recon.expected import kst_range

    def load(progress: Progress) -> pd.DataFrame:
        a, b = kst_range(d_from, d_to)
        return search.frame(listing("all", a, min(b, int(time.time())), fields=tuple(search.COLUMNS),
                                    progress=progress, with_api=both_apis()))

    return _cached(("search", str(d_from), str(d_to)), N_("payments"), load)


# ------------------------------------------------------------------ reconciliation (cached by content)
# The file's table, its typed rows and the match are kept as objects (st.cache_resource), not pickled per rerun as
# st.cache_data would (a million-row month end: ~0.5 s and ~400 MB of copies on every click). They are keyed by the
# file's content hash, never changed after they are made (pandas copy-on-write: pages derive, never assign into
# them), and hold the merchant's data, not a person's.
def upload_digest(up: UploadedFile) -> str:
    """sha256 of an uploaded file, computed once per upload (kept by Streamlit's file id)."""
    import hashlib
    k = keys.upload_digest(up.file_id)
    if k not in st.session_state:
        st.session_state[k] = hashlib.sha256(up.getvalue()).hexdigest()
    return st.session_state[k]


@st.cache_resource(max_entries=6, show_spinner=False)
def read_upload(digest: str, name: str, header_row: int | None, _data: bytes, sheet: str | None = None) -> grid.Table:
    """The table in an uploaded file (lib/reports/recon/grid.py), cached by its content hash and the header row chosen: a
    rerun that changes nothing reads nothing. Anything the readers raise beyond their own sentence ends as one
    sentence too, never a traceback."""
    try:
        return read.read_file(_data, name, header_row=header_row, sheet=sheet)
    except grid.ReconFileError:
        raise
    except Exception:  # a reader's own failure on a file it cannot parse
        raise grid.ReconFileError(_("{label} could not be read. Open it in Excel, save it as .xlsx or CSV and "
                                     "upload again.").format(label=f"“{(name or '')[:80]}”")) from None


@st.cache_resource(max_entries=12, show_spinner=False)
def file_span(digest: str, header_row: int | None, sheet: str | None, _df: pd.DataFrame) -> tuple[date, date] | None:
    """The days a file may cover (every row of its day columns read), once per file, header and sheet — not on every
    rerun of the page."""
    from lib.reports.recon import reading
    return reading.candidate_range(_df)


@st.cache_resource(max_entries=12, show_spinner=False)
def pg_reading(digest: str, header_row: int | None, sheet: str | None, overrides: tuple, fetched: float,
               rules_json: str, _df: pd.DataFrame, _events: pd.DataFrame) -> Reading:
    """How a PG file is read (lib/reports/recon/understand.py), once per file, header, sheet, choices, listing and
    rules."""
    from lib.domain.settings import Rules
    from lib.reports.recon import understand
    return understand.understand_pg(_df, _events, Rules.model_validate_json(rules_json), dict(overrides))


@st.cache_resource(max_entries=12, show_spinner=False)
def pg_reading_checked(digest: str, header_row: int | None, sheet: str | None, mapping: tuple, fetched: float,
                       _df: pd.DataFrame, _events: pd.DataFrame) -> Reading:
    """A reading a person chose (a saved one, or columns set by hand) checked against I'mport, once per file and
    mapping — not on every rerun of the page (the check scans I'mport's ids)."""
    from lib.reports.recon import understand
    from lib.reports.recon.reading import Reading as ReadingType
    return understand.check_pg(ReadingType("pg", normalize.ColumnMap.of(dict(mapping))), _df, _events)


@st.cache_resource(max_entries=12, show_spinner=False)
def bank_reading(digest: str, header_row: int | None, sheet: str | None, overrides: tuple, payouts_key: tuple,
                 rules_json: str, _df: pd.DataFrame, _payouts: pd.DataFrame) -> Reading:
    """How a bank statement is read, once per file, header, sheet, choices and expected payouts."""
    from lib.domain.settings import Rules
    from lib.reports.recon import statement
    return statement.understand_bank(_df, _payouts, Rules.model_validate_json(rules_json), dict(overrides))


@st.cache_resource(max_entries=6, show_spinner=False)
def normalized(digest: str, mapping: tuple, _raw: pd.DataFrame) -> pd.DataFrame:
    return normalize.normalize(_raw, normalize.ColumnMap.of(dict(mapping)))


@st.cache_resource(max_entries=6, show_spinner=False)
def reconciled(digest: str, mapping: tuple, d_from: date, d_to: date, pgs: tuple, fetched: float, rules_json: str,
               _rows: pd.DataFrame, _payments: pa.Table) -> tuple[match.MatchResult, pa.Table, int]:
    """Payments the file names that the range listing missed are looked up; then the match. Cached by the
    file's hash, the mapping, the range, the PGs, when the payments were fetched and the rules. The events are the
    cached ``expected_events`` the page shows below (one object: the match's matched group points into it)."""
    from lib.services.desk import payments_for_file
    extra, not_looked_up = payments_for_file(client(), _rows, _payments)
    ev = expected_events(digest, mapping, d_from, d_to, pgs, fetched, rules_json, _payments, extra)
    return match.match(_rows, ev), extra, not_looked_up


@st.cache_resource(max_entries=6, show_spinner=False)
def expected_events(digest: str | None, mapping: tuple | None, d_from: date, d_to: date, pgs: tuple, fetched: float, rules_json: str,
                    _payments: pa.Table, _extra: pa.Table) -> pd.DataFrame:
    """I'mport's events of the range (with the older payments the file named), once per file, range, PGs, listing
    and rules: the expected settlement is not rebuilt from a million payments on every click."""
    from lib.domain.settings import Rules
    return expected.events(expected.with_extra(_payments, _extra), d_from, d_to, Rules.model_validate_json(rules_json),
                           list(pgs) or None)


@st.cache_resource(max_entries=6, show_spinner=False)
def statement_rows(digest: str, mapping: tuple, _raw: pd.DataFrame) -> pd.DataFrame:
    m = dict(mapping)
    m["memo_columns"] = list(m.get("memo_columns") or ())
    return normalize.normalize_statement(_raw, m)


def recheck_exceptions(result: match.MatchResult) -> int:
    """The exceptions' payments (불일치, 아임포트에만, the file's rows that name a payment) re-read live before they are
    shown; a payment that changed since the mirror's last sync is corrected in it (and the caches dropped): how many."""
    ids: list[str] = []
    for df in (result.mismatched, result.import_only, result.file_only):
        if "imp_uid" in df.columns:
            ids += [str(i) for i in df["imp_uid"].dropna().head(mirror.RECHECK_MAX) if str(i).strip()]
    moved = mirror.recheck(ids)
    if moved:
        clear_data_caches()
    return moved


def clear_data_caches() -> None:
    _shared_cache().clear()


def refresh_now() -> None:
    """A page's refresh button: the payments mirror synced now (a few API calls), then every list read again."""
    if mirror.enabled():
        try:
            mirror.sync_now()
        except ApiError:
            pass            # the list's own read says the API is unreachable; the mirror keeps its last sync
    clear_data_caches()


if clear_data_caches not in settle.WRITE_LISTENERS:
    settle.WRITE_LISTENERS.append(clear_data_caches)
