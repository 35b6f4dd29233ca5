"""The payments mirror in the app (lib/db/mirror.py, kept by lib/services/mirror_sync.py): whether the lists read it,
how fresh it is, and the app's own syncer.

* With no watcher running (``make run``), each app process runs one background syncer every ``sync_seconds``; the
  lease in the app database lets one syncer write at a time, whichever instance or watcher asks first.
* A page that reads the mirror first makes sure it is not older than two sync intervals (a syncer that stopped):
  if it is, it syncs now (a few API calls), or, while another syncer holds the lease, reads what is there and says
  how old it is. The mirror's very first fill reads the whole lookback once; until it finishes, lists are read from
  the API as before.
* The app's own writes re-read their payment into the mirror at once (``settle.PAYMENT_LISTENERS``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import streamlit as st

from lib.db.mirror import Mirror
from lib.domain.clock import KST
from lib.domain.fmt import ago, kst
from lib.domain.i18n import _
from lib.domain.settings import get_settings
from lib.services import settle
from lib.services.mirror_sync import MirrorSync, SyncReport
from lib.ui import session

log = logging.getLogger("vbank.mirror")
OFF = ("", "off", "none", "0")


def enabled() -> bool:
    return get_settings().mirror_uri.strip().lower() not in OFF


@st.cache_resource(show_spinner=False)
def _syncer(api: str, api_url: str, mirror_uri: str, db_url: str) -> MirrorSync:
    return MirrorSync(session.client_for(api), Mirror(mirror_uri), session.db().mirror_sync, api=api)


def apis() -> tuple[str, ...]:
    """The API versions the merchant is on: V1 always, V2 when configured (PORTONE_V2_API_URL / _SECRET)."""
    return ("v1", "v2") if get_settings().v2_enabled else ("v1",)


def syncer(api: str = "v1") -> MirrorSync:
    s = get_settings()
    return _syncer(api, (s.v2_api_url or "") if api == "v2" else s.api_url, s.mirror_uri, s.audit_db_url)


def syncers() -> list[MirrorSync]:
    return [syncer(a) for a in apis()]


def mirror() -> Mirror:
    return syncer().mirror


def state(api: str | None = None) -> dict:
    """The sync state of one API version; without one, the oldest of them (the freshness a page may claim)."""
    db = session.db().mirror_sync
    if api is not None:
        return db.get(api)
    states = [db.get(a) for a in apis()]
    return min(states, key=lambda x: float(x.get("last_ok_at") or 0))


def as_of() -> datetime | None:
    """When the mirror's last sync read the API (None: never). Its microseconds carry the app database's data version
    (every write, and every payment a re-check corrected, bumps it): a list read from the mirror and everything cached
    by its time are made again after a write, though the time shown (to the second) is the sync's."""
    at = state().get("last_ok_at")
    if not at:
        return None
    return datetime.fromtimestamp(float(at), KST) + timedelta(microseconds=session.db().shared.data_version() % 10**6)


def ready() -> bool:
    """Whether the lists read the mirror: on, and filled at least once. A mirror older than two sync intervals is
    synced first (or, while another syncer holds the lease, read as it is, its age on the page)."""
    if not enabled():
        return False
    start_background()
    st_ = state()
    age = time.time() - float(st_["last_ok_at"]) if st_.get("last_ok_at") else None
    if age is None or age > 2 * get_settings().sync_seconds:
        for one in syncers():
            if age is not None and time.time() - float(state(one.api).get("last_ok_at") or 0) <= 2 * get_settings(
                    ).sync_seconds:
                continue
            try:
                one.sync()
            except Exception as e:      # noqa: BLE001 - the API is down: the lists say so when they read it
                log.warning("mirror sync (%s) failed: %s", one.api, type(e).__name__)
        st_ = state()
    return bool(st_.get("last_ok_at")) and mirror().exists()


RECHECK_MAX = 500          # exceptions re-checked live at most (5 requests of 100)


@st.cache_resource(max_entries=32, show_spinner=False, ttl=3600)
def _recheck(ids: tuple[str, ...], as_of_us: float) -> int:
    """Once per set of exceptions and mirror state: the payments read live; those the mirror had different are
    merged and counted."""
    moved = [m for one in syncers() for m in one.recheck(list(_ids_of(one.api, ids)))]
    if moved:
        session.db().shared.bump_data_version()
    return len(moved)


def recheck(ids: list[str]) -> int:
    """Reconciliation's exceptions are re-checked live before they are shown (money never trusts the mirror alone):
    how many payments had changed since the mirror's last sync (0 while the lists read the API itself)."""
    if not enabled() or not ids:
        return 0
    at = as_of()
    if at is None:
        return 0
    return _recheck(tuple(sorted(dict.fromkeys(i for i in ids if i)))[:RECHECK_MAX], at.timestamp())


def sync_now() -> list[SyncReport | None]:
    """The refresh button: sync now (None for a version another syncer is at — its result shows in a moment)."""
    return [one.sync(full=False) for one in syncers()]


def full_reread_now() -> SyncReport | None:
    """/admin's button: the nightly re-read now (None while another syncer is at it); the drift of every version."""
    reps = [one.sync(full=True) for one in syncers()]
    if any(r is None for r in reps):
        return None
    first = reps[0]
    assert first is not None
    first.drift = sum(r.drift or 0 for r in reps if r is not None)
    return first


def _ids_of(api: str, ids: tuple[str, ...] | list[str]) -> list[str]:
    """Of these payments, those of one API version (as the mirror knows them; unknown ones are asked of V1)."""
    if len(apis()) == 1:
        return list(ids)
    known = mirror().read((), ids=list(ids), with_api=True).to_pylist()
    by = {r["imp_uid"]: r["api"] for r in known}
    return [i for i in ids if by.get(i, "v1") == api]


@st.cache_resource(show_spinner=False)
def _background(api_url: str, mirror_uri: str) -> threading.Event:
    """One syncer thread per app process (``VBANK_SYNC_IN_APP=0`` turns it off, as tests do)."""
    stop = threading.Event()
    all_, every = syncers(), get_settings().sync_seconds

    def loop() -> None:
        while not stop.wait(every):
            for sync in all_:
                try:
                    sync.sync()
                except Exception as e:  # noqa: BLE001 - the next minute tries again; /admin shows the last error
                    log.warning("mirror sync (%s) failed: %s", sync.api, type(e).__name__)

    threading.Thread(target=loop, name="mirror-sync", daemon=True).start()
    return stop


def start_background() -> None:
    s = get_settings()
    if enabled() and s.sync_in_app:
        _background(s.api_url, s.mirror_uri)


def refresh_payments(imp_uids: list[str]) -> None:
    """After the app's own write: those payments re-read into the mirror at once."""
    if enabled() and mirror().exists():
        for one in syncers():
            ids = _ids_of(one.api, imp_uids)
            if ids:
                one.refresh_ids(ids)


if refresh_payments not in settle.PAYMENT_LISTENERS:
    settle.PAYMENT_LISTENERS.append(refresh_payments)


def admin_rows() -> dict[str, str]:
    """The mirror on /admin: where, how fresh, the nightly re-read and its drift, the last error."""
    if not enabled():
        return {_("Payments mirror"): _("off (VBANK_MIRROR=off): every list reads the API")}
    st_ = state()
    drift_all = [state(a).get("drift") for a in apis()]
    if any(d is not None for d in drift_all):
        st_ = {**st_, "drift": sum(d or 0 for d in drift_all),
               "drift_ids": [i for a in apis() for i in state(a).get("drift_ids", [])]}
    info = mirror().stats()
    at = lambda k: datetime.fromtimestamp(float(st_[k]), KST) if st_.get(k) else None  # noqa: E731
    full = at("last_full_at")
    drift = st_.get("drift")
    return {
        _("Stored at"): display_path(get_settings().mirror_uri),
        _("Payments in it"): _("{n} payments in {files} files").format(n=f"{info['rows']:,}", files=info["files"]),
        _("Last sync"): (kst(at("last_ok_at"), seconds=True) + " · " + ago(at("last_ok_at")))
        if at("last_ok_at") else _("never"),
        _("Last full re-read"): (kst(full, seconds=True) if full else _("never")),
        _("Drift found by it"): "—" if drift is None else _("none: the copy matched") if not drift
        else _("{n} payments differed").format(n=drift) + ": " + ", ".join(st_.get("drift_ids", [])[:5]),
        _("Last error"): st_.get("last_error") or "—"}


def display_path(uri: str) -> str:
    """A local folder as it is; an object-store URI without anything after its bucket's path (no keys in URIs)."""
    from urllib.parse import urlsplit
    u = urlsplit(uri)
    return uri if not u.scheme or len(u.scheme) == 1 else f"{u.scheme}://{u.hostname or ''}{u.path}"
