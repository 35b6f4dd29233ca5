"""Shared Streamlit plumbing: cached client and stores, cached data, identity, write guards.

The only module in lib (with lib/ui_*) that imports streamlit.
"""

from __future__ import annotations

import time
from datetime import datetime

import pandas as pd
import streamlit as st

from . import pending, refund, services
from .audit import AuditStore
from .cache import TTLCache
from .client import ApiError, IamportClient, NotFound  # noqa: F401  (pages catch these via ui)
from . import identity as identity_mod
from .identity import Actor, Forbidden, roles_for
from .fmt import kst, now_kst
from .clock import KST
from .settings import Settings, get_settings
from .text import has_invisible, md
from . import i18n
from .i18n import N_, _
from .names import role_name  # noqa: F401  (pages name roles through ui)
from .i18n import gettext as translate   # for texts marked N_ elsewhere (not a keyword the extractor reads)


def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def _client(api_url: str) -> IamportClient:
    return IamportClient(get_settings())


def client() -> IamportClient:
    return _client(settings().api_url)


@st.cache_resource(show_spinner=False)
def _audit(url: str, _key: bytes | None) -> AuditStore:
    return AuditStore(url, hmac_key=_key)


def audit() -> AuditStore:
    s = settings()
    return _audit(s.audit_db_url, s.audit_hmac_key.get_secret_value().encode() if s.audit_hmac_key else None)


@st.cache_resource(show_spinner=False)
def _views(url: str, _audit: AuditStore):
    from .views import ViewStore
    return ViewStore(_audit)


def views_store():
    """Named pending-list views (tables made once per database, not on every rerun)."""
    return _views(settings().audit_db_url, audit())


@st.cache_resource(show_spinner=False)
def _presets(url: str, _audit: AuditStore):
    from .recon import PresetStore
    return PresetStore(_audit.engine)


def presets_store():
    """Reconciliation column-mapping presets (tables made once per database)."""
    return _presets(settings().audit_db_url, audit())


@st.cache_resource(show_spinner=False)
def _resolutions(url: str, _audit: AuditStore):
    from .recon import ResolutionStore
    return ResolutionStore(_audit.engine)


def resolutions_store():
    """Closed reconciliation exceptions (memo, owner; shared by the team, audited)."""
    return _resolutions(settings().audit_db_url, audit())


def actor() -> Actor | None:
    """Who is acting (lib/identity.py). None: nobody identified (header or OIDC mode) — no writes."""
    s = settings()
    if s.identity_mode == "local":
        return Actor(s.operator, frozenset(s.rules.local_roles), "local")
    if s.identity_mode == "header":
        email, why = identity_mod.header_identity(
            st.context.headers.get_all, header=s.identity_header,
            proxy_secret=s.proxy_secret.get_secret_value() if s.proxy_secret else None,
            secret_header=s.proxy_secret_header)
    else:
        if not getattr(st.user, "is_logged_in", False):
            return None
        email, why = identity_mod.oidc_identity(st.user.to_dict())
    st.session_state["_identity_problem"] = why
    if not email:
        return None
    return Actor(email, roles_for(email, s.rules.roles), s.identity_mode)


def desk():
    """The page-facing object (lib/desk.py): client, stores and rules bound to the person acting."""
    from .desk import Desk
    return Desk(client(), audit(), settings().rules, operator())


# Keys in session state shared between pages (everything else is prefixed by its page).
BULK_SELECTION = "shared:bulk_selection"      # imp_uids picked on the pending list for the bulk page


def find_payment(q: str, text: dict):
    """The payment an imp_uid or merchant_uid names, or the page stops with one sentence in the page's words
    (``text`` keys: bad_id — the id cannot name a payment, checked before any request —, not_found, error)."""
    from .text import lookup_problem, short
    bad = lookup_problem(q)
    if bad:
        st.error(say(text["bad_id"], q=short(q, 60), msg=bad))
        st.stop()
    try:
        return desk().payment(q)
    except ApiError as e:
        st.error(say(text["not_found"], q=short(q, 60), msg=e.message) if isinstance(e, NotFound)
                 else say(text["error"], err=e))
        st.stop()


def identity_problem() -> str | None:
    """Why nobody was identified in header or OIDC mode (None: simply not signed in)."""
    return st.session_state.get("_identity_problem")


def operator() -> Actor:
    """The acting person, for lib's write services (which check the role again)."""
    a = actor()
    if a is None:
        raise Forbidden(_("Sign in first: anonymous users cannot do this."))
    return a


def identity_banner(a: Actor) -> None:
    """One line each in the sidebar (the filters below stay reachable without scrolling): the language, who is
    acting, and where the money goes."""
    s = settings()
    language_switch()
    roles = ", ".join(role_name(r) for r in sorted(a.roles)) or _("no role")
    if a.mode == "local":
        st.sidebar.caption(_(":orange[:material/person:] **Local mode** · {email}").format(email=md(a.email)),
                           help=_("One operator with every role (make run). Approvals need a second identity."))
    else:
        st.sidebar.caption(_("Signed in as **{email}** ({roles})").format(email=md(a.email), roles=roles))
        if a.mode == "oidc":
            st.sidebar.button(_("Log out"), on_click=st.logout, key="logout")
    if s.is_sandbox:
        st.sidebar.caption(_(":material/science: **Sandbox** · no real money moves"), help=display_url(s.api_url))
    else:
        st.sidebar.caption(_(":material/account_balance: **Live I'mport API**"), help=display_url(s.api_url))


# ------------------------------------------------------------------ language
LANG_KEY, LANG_CHOICE = "ui_lang", "ui_lang_choice"     # the switch (a widget) and the choice it keeps


def apply_language() -> str:
    """The language of this run: the sidebar switch once used, else ``VBANK_LANG`` (Korean by default). Set
    before any text of the run is made. The choice is kept apart from the widget's own state, which Streamlit
    drops on a run that does not draw the widget."""
    return i18n.set_lang(st.session_state.get(LANG_CHOICE))


def language_switch() -> None:
    """한국어 / English in the sidebar, under the navigation, for this browser session."""
    st.session_state.setdefault(LANG_KEY, i18n.lang())
    st.sidebar.segmented_control("언어 · Language", list(i18n.LANGS), format_func=i18n.LANGS.get, key=LANG_KEY,
                                 label_visibility="collapsed", on_change=_keep_language)


def later(fn):
    """``fn`` for Streamlit to call later outside this run (a deferred download's data), in this run's language:
    the server calls it on another thread, where the person's language is not set."""
    import contextvars
    ctx = contextvars.copy_context()
    return lambda: ctx.copy().run(fn)


def _keep_language() -> None:
    chosen = st.session_state.get(LANG_KEY)
    if chosen is None:                                   # a click on the chosen one unselects it: keep it
        st.session_state[LANG_KEY] = chosen = i18n.lang()
    st.session_state[LANG_CHOICE] = chosen


# ------------------------------------------------------------------ data cache
@st.cache_resource(show_spinner=False)
def _shared_cache() -> TTLCache:
    """One cache for every session: pending accounts are the merchant's, not per-user data."""
    return TTLCache(ttl=get_settings().cache_ttl)


def _cached(key: tuple, what: str, load):
    """The shared cache with a progress bar while a miss loads: ``load(progress)`` returns the value."""
    bar = st.empty()

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=_("Loading {what}… page {done} of {total}").format(
            what=_(what), done=done, total=total))

    value, fetched = _shared_cache().get_or_load((key[0], settings().api_url, *key[1:]), lambda: load(progress))
    bar.empty()
    return value, datetime.fromtimestamp(fetched, KST)


def load_pending(days: int) -> tuple[pd.DataFrame, datetime]:
    def load(progress) -> pd.DataFrame:
        t_to = int(time.time())
        rows = client().list_pending_vbanks_raw(t_to - days * 86400, t_to, progress=progress)
        return pending.build_frame(rows, now_kst())

    df, fetched = _cached(("pending", days), N_("pending virtual accounts"), load)
    return pending.with_clock(df, now_kst()), fetched


def load_paid_vbanks(days: int) -> tuple[pd.DataFrame, datetime]:
    """Paid virtual-account payments with a refundable balance (the refund wizard's list)."""
    def load(progress) -> pd.DataFrame:
        t_to = int(time.time())
        return refund.paid_vbank_frame(client().list_by_status_raw("paid", t_to - days * 86400, t_to,
                                                                   progress=progress))

    return _cached(("paid", days), N_("paid virtual accounts"), load)


def load_recon_payments(d_from, d_to) -> tuple[list[dict], datetime]:
    """Every payment started from 90 days before ``d_from`` to the end of ``d_to`` (KST): deposits in the
    range and refunds registered in it, even of older payments."""
    from .recon import kst_range, lookback_start

    def load(progress) -> list[dict]:
        a, b = kst_range(lookback_start(d_from), d_to)
        return client().list_by_status_raw("all", a, min(b, int(time.time())), progress=progress)

    return _cached(("recon", str(d_from), str(d_to)), N_("payments"), load)


# ------------------------------------------------------------------ reconciliation (cached by content)
def upload_digest(up) -> str:
    """sha256 of an uploaded file, computed once per upload (kept by Streamlit's file id)."""
    import hashlib
    k = f"digest:{up.file_id}"
    if k not in st.session_state:
        st.session_state[k] = hashlib.sha256(up.getvalue()).hexdigest()
    return st.session_state[k]


@st.cache_data(max_entries=6, show_spinner=False)
def read_upload(digest: str, name: str, header_row: int | None, _data: bytes):
    """The table in an uploaded file (lib/filetable.py), cached by its content hash and the header row chosen: a
    rerun that changes nothing reads nothing. Anything the readers raise beyond their own sentence ends as one
    sentence too, never a traceback."""
    from . import recon
    try:
        return recon.read_file(_data, name, header_row=header_row)
    except recon.ReconFileError:
        raise
    except Exception:  # a reader's own failure on a file it cannot parse
        raise recon.ReconFileError(_("{label} could not be read. Open it in Excel, save it as .xlsx or CSV and "
                                     "upload again.").format(label=f"“{(name or '')[:80]}”")) from None


@st.cache_data(max_entries=6, show_spinner=False)
def normalized(digest: str, mapping: tuple, _raw: pd.DataFrame):
    from . import recon
    return recon.normalize(_raw, recon.ColumnMap.of(dict(mapping)))


@st.cache_data(max_entries=6, show_spinner=False)
def reconciled(digest: str, mapping: tuple, d_from, d_to, pgs: tuple, fetched: float, rules_json: str,
               _rows: pd.DataFrame, _payments: list[dict]):
    """Payments the file names that the range listing missed are looked up; then the match. Cached by the
    file's hash, the mapping, the range, the PGs, when the payments were fetched and the rules."""
    from . import recon
    from .desk import payments_for_file
    from .settings import Rules
    extra, not_looked_up = payments_for_file(client(), _rows, _payments)
    rules_ = Rules.model_validate_json(rules_json)
    ev = recon.events(_payments + extra, d_from, d_to, rules_, list(pgs) or None)
    return recon.match(_rows, ev), extra, not_looked_up


@st.cache_data(max_entries=6, show_spinner=False)
def statement_rows(digest: str, mapping: tuple, _raw: pd.DataFrame):
    from . import recon
    m = dict(mapping)
    m["memo_columns"] = list(m.get("memo_columns") or ())
    return recon.normalize_statement(_raw, m)


def clear_data_caches() -> None:
    _shared_cache().clear()


if clear_data_caches not in services.WRITE_LISTENERS:
    services.WRITE_LISTENERS.append(clear_data_caches)


# ------------------------------------------------------------------ inert text
def say(template: str, **values) -> str:
    """One of the page's own sentences with values from outside (the API, the URL, a file, another
    operator) made inert: every string or error is escaped for markdown, numbers keep their format spec."""
    return template.format(**{k: md(v) if isinstance(v, (str, BaseException)) else v for k, v in values.items()})


def table(data, **kw) -> None:
    """``st.table`` (whose cells, index and headers are markdown) with every string cell escaped."""
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    df = df.map(lambda v: md(v) if isinstance(v, str) else v)
    df.index = [md(i) if isinstance(i, str) else i for i in df.index]
    df.columns = [md(c) if isinstance(c, str) else c for c in df.columns]
    st.table(df, **kw)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL from the API that may be shown as a link; anything else (javascript:, data:, relative,
    credentials in it) is not a link."""
    from urllib.parse import urlsplit
    if not url or not isinstance(url, str) or len(url) > 2000 or has_invisible(url) or any(c in url for c in " <>\"\n"):
        return None
    try:
        u = urlsplit(url.strip())
    except ValueError:
        return None
    if u.scheme not in ("http", "https") or not u.hostname or u.username or u.password:
        return None
    return url.strip()


def display_url(url: str) -> str:
    """A URL for display with any user:password@ removed."""
    from urllib.parse import urlsplit, urlunsplit
    try:
        u = urlsplit(url)
    except ValueError:
        return _("(invalid URL)")
    host = u.hostname or ""
    if u.port:
        host += f":{u.port}"
    return urlunsplit((u.scheme, host, u.path, "", ""))


# ------------------------------------------------------------------ personal data
REVEAL_TEXT = {"no_permission": N_("Your role shows account and phone numbers masked only.")}


def reveal_toggle(label: str, *, key: str, where: str, imp_uid: str | None = None) -> bool:
    """The "show full numbers" switch: only for people whose role may see personal data, and every switch
    to "shown" is an audited action (who, which page and payment, when)."""
    a = actor()
    allowed = a is not None and a.can("reveal_personal")
    on = st.toggle(label, key=key, disabled=not allowed, help=None if allowed else translate(REVEAL_TEXT["no_permission"]))
    if not allowed:
        return False
    mark = f"{key}:revealed_for"
    target = f"{where}:{imp_uid or ''}"
    if on and st.session_state.get(mark) != target:
        from .audit import new_correlation_id
        audit().record(operator=a.email, action="reveal_personal", outcome="revealed",
                       correlation_id=new_correlation_id(), imp_uid=imp_uid, detail={"page": where})
        st.session_state[mark] = target
    elif not on:
        st.session_state.pop(mark, None)
    return on


# ------------------------------------------------------------------ helpers
def last_refreshed(fetched: datetime) -> str:
    return _("Last refreshed {time}").format(time=kst(fetched, seconds=True))


def query_imp_uid() -> str:
    return (st.query_params.get("imp_uid") or "").strip()


# ------------------------------------------------------------------ write dialogs
def _arm(aid: str) -> None:
    if not st.session_state.get(f"started:{aid}"):
        st.session_state[f"sending:{aid}"] = True


def confirm_and_send(aid: str, *, open_key: str, key: str, confirm_label: str, cancel_label: str,
                     sending_label: str, perform, expected_errors: tuple = (), can_confirm: bool = True) -> None:
    """The confirm / cancel buttons of an open ``st.dialog`` and the one send behind them.

    * The click only arms the action (a callback); the dialog (a fragment) then redraws with the
      button disabled and "Sending…" before anything is sent.
    * ``perform`` runs at most once per action id in this session, whatever the clicks and reruns:
      the "started" flag is set and the result stored with no Streamlit call in between (a new click
      stops a running script at its next Streamlit call).
    * A full rerun then closes the dialog; the page shows ``st.session_state[f"result:{aid}"]``.
    Other sessions, tabs, operators and app instances are kept out by the in-flight lock in lib.
    """
    if st.session_state.get(f"result:{aid}") is not None:
        st.session_state.pop(open_key, None)
        st.rerun()
    sending = bool(st.session_state.get(f"sending:{aid}"))
    x, y = st.columns(2)
    x.button(sending_label if sending else confirm_label, type="primary", key=key, on_click=_arm, args=(aid,),
             disabled=sending or not can_confirm)
    if y.button(cancel_label, key=f"{key}_cancel", disabled=sending):
        st.session_state.pop(open_key, None)
        st.rerun()
    if sending:
        with st.spinner(sending_label):        # the last Streamlit call before the write
            if not st.session_state.get(f"started:{aid}"):
                st.session_state[f"started:{aid}"] = True
                try:
                    res = perform()
                except expected_errors as e:  # shown to the operator as sentences
                    res = e
                st.session_state[f"result:{aid}"] = res
        st.session_state.pop(open_key, None)
        st.rerun()


# ------------------------------------------------------------------ entry guard
def mark_entry() -> None:
    """Called by app.py on every run, before st.navigation (and before any text: it sets the language)."""
    apply_language()


def entry_guard() -> None:
    """First line of every page: this run's language. Pages live in ``app_pages/``, which Streamlit does not route
    by itself (only a ``pages/`` folder is), so a deep link (``/update?imp_uid=…``) always goes through app.py —
    identity and navigation first — without touching Streamlit's private page manager."""
    apply_language()


# ------------------------------------------------------------------ outcomes
UNKNOWN_TEXT = {
    "refund": N_("A refund of this payment has an unknown outcome"),
    "vbank": N_("A change of this virtual account has an unknown outcome"),
    "recheck": N_("Check the payment again"),
    "not_applied": N_("I checked the PG console: it was NOT applied"),
    "resolve_no": N_("Resolve as not applied"),
}


def unknown_outcome_panel(kind: str, imp_uid: str, *, key: str) -> bool:
    """At the top of a page: a write of this payment whose outcome is unknown (or whose app process died),
    with the two ways out — re-read the payment, or resolve as not applied after checking the PG console.
    True while it is unresolved (the page then sends nothing for this payment)."""
    held = desk().open_outcome(kind, imp_uid)
    flash = st.session_state.pop(f"{key}:flash", None)
    if flash:
        (st.success if flash[0] != "unknown" else st.info)(md(flash[1]))
    if not held or held.state != "unknown":
        return False
    st.warning(f"**{_(UNKNOWN_TEXT[kind])}** ({md(held.operator)}, {kst(held.since)}): {md(held.note or '')}")
    a, b = st.columns(2)
    confirm_not = b.checkbox(translate(UNKNOWN_TEXT["not_applied"]), key=f"{key}_not_applied")
    if a.button(translate(UNKNOWN_TEXT["recheck"]), key=f"{key}_recheck") or (
            confirm_not and b.button(translate(UNKNOWN_TEXT["resolve_no"]), key=f"{key}_resolve_no")):
        try:
            res = desk().resolve(kind, imp_uid, confirm_not_applied=confirm_not)
            st.session_state[f"{key}:flash"] = (res.outcome, res.message)
        except (ApiError, Forbidden) as e:
            st.session_state[f"{key}:flash"] = ("unknown", str(e))
        st.rerun()
    return True


OUTCOME_TEXT = {"audit_link": N_("See it in the audit log")}


def show_outcome(res, text: dict) -> None:
    """What a write did (a WriteResult: succeeded / failed / unknown, with the audit link), or why it was not
    sent (a refusal: ``text`` has the page's stale / busy / invalid / error sentences)."""
    from .services import WriteResult
    if isinstance(res, WriteResult):
        box = {"succeeded": st.success, "failed": st.error, "unknown": st.warning}[res.outcome]
        box(md(res.message))
        if res.correlation_id:
            st.page_link("app_pages/audit.py", label=text.get("audit_link", translate(OUTCOME_TEXT["audit_link"])),
                         icon=":material/receipt_long:", query_params={"correlation_id": res.correlation_id})
    else:
        show_refusal(res, text)


def show_refusal(err, text: dict) -> bool:
    """Show why a write was not sent (or failed at the API), in the page's own words
    (``text`` keys: stale, busy, invalid, error). False when ``err`` is not a refusal.
    Every value from outside is escaped: it is shown as text, never as markdown."""
    from .services import Busy, InvalidInput, NeedsApproval, Stale
    if isinstance(err, Stale):
        st.warning(text["stale"].format(changes=md("; ".join(err.changes))))
    elif isinstance(err, Busy):
        st.warning(text["busy"].format(msg=md(err)))
        if err.request_id:
            st.page_link("app_pages/approvals.py", label=_("Open the request waiting for approval"),
                         query_params={"id": err.request_id})
    elif isinstance(err, InvalidInput):
        st.error(text["invalid"] + "\n\n" + "\n".join(f"- {md(p)}" for p in err.problems))
    elif isinstance(err, ApiError):
        st.error(text["error"].format(err=md(err)))
    elif isinstance(err, (NeedsApproval, Forbidden)):
        st.error(md(err))
    else:
        return False
    return True
