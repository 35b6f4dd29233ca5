"""What a page run needs, built once per process and per run: settings, the API client, the app database, who is
acting (local, header, OIDC identity or a built-in account) and the ``Desk`` bound to them; the lookup of a payment named in a URL."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib.db.appdb import DatabaseRefused
from lib.db.audit import AuditStore
from lib.domain import identity as identity_mod
from lib.domain.fmt import ago, kst
from lib.domain.i18n import _
from lib.domain.identity import Actor, Forbidden, roles_for
from lib.domain.models import Payment
from lib.domain.names import role_name
from lib.domain.text import md
from lib.iamport.errors import ApiError, NotFound
from lib.services.desk import Desk
from lib.ui import keys
from lib.ui.inert import display_url, say
from lib.ui.language import language_switch
from lib.ui.resources import client, client_for, client_v2, db, settings


def database_problem() -> str | None:
    """The sentence refusing an app database this code cannot read (a newer revision, a damaged version table:
    lib/db/appdb.py), or None when it opened; app.py shows it and stops before anything else."""
    try:
        db()
    except DatabaseRefused as e:
        return str(e)
    return None


def audit() -> AuditStore:
    return db().audit


def actor() -> Actor | None:
    """Who is acting (lib/domain/identity.py). None: nobody identified (header or OIDC mode) — no writes."""
    s = settings()
    if s.identity_mode == "local":
        return Actor(s.operator, frozenset(s.rules.local_roles), "local")
    if s.identity_mode == "accounts":
        from lib.ui import signin
        return signin.current()
    if s.identity_mode == "header":
        email, why = identity_mod.header_identity(
            st.context.headers.get_all, header=s.identity_header,
            proxy_secret=s.proxy_secret.get_secret_value() if s.proxy_secret else None,
            secret_header=s.proxy_secret_header)
    else:
        if not getattr(st.user, "is_logged_in", False):
            return None
        email, why = identity_mod.oidc_identity(st.user.to_dict())
    st.session_state[keys.IDENTITY_PROBLEM] = why
    if not email:
        return None
    return Actor(email, roles_for(email, s.rules.roles), s.identity_mode)


def desk_for(api: str | None) -> Desk:
    """The run's Desk for a payment of this API version (V2: bound to the V2 client; same stores, rules, person)."""
    d = desk()
    return d if api != "v2" else Desk(client_for("v2"), d.db, d.rules, d.who, v2=client_v2())  # type: ignore[arg-type]


def start_run(who: Actor) -> Desk:
    """Called by app.py once per script run, after identity: the run's Desk (client, stores and rules bound to the
    person acting), which every page and panel of the run shares."""
    d = Desk(client(), db(), settings().rules, who, v2=client_v2())
    st.session_state[keys.DESK] = d
    return d


def desk() -> Desk:
    """The run's Desk (lib/services/desk.py); built here when a page runs without app.py (a page test)."""
    d = st.session_state.get(keys.DESK)
    return d if isinstance(d, Desk) else start_run(operator())




def find_payment(q: str, text: dict) -> Payment:
    """The payment an imp_uid or merchant_uid names, or the page stops with one sentence in the page's words
    (``text`` keys: bad_id — the id cannot name a payment, checked before any request —, not_found, error)."""
    from lib.domain.text import lookup_problem, short
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


def sign_in() -> None:
    """The sign-in screens of accounts mode (lib/ui/signin.py), drawn by app.py while nobody is signed in."""
    from lib.ui import signin
    signin.page()


def identity_problem() -> str | None:
    """Why nobody was identified in header or OIDC mode (None: simply not signed in)."""
    return st.session_state.get(keys.IDENTITY_PROBLEM)


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
        if a.mode == "accounts":
            from lib.ui import signin
            if signin.lacks_second_factor():
                st.sidebar.caption(_(":orange[:material/lock:] Signed in without your authenticator code: approving "
                                     "and administering are off until you sign in with it."))
            st.sidebar.button(_("Sign out"), on_click=signin.sign_out, key="sign_out")
    if s.is_sandbox:
        st.sidebar.caption(_(":material/science: **Sandbox** · no real money moves"), help=display_url(s.api_url))
    else:
        st.sidebar.caption(_(":material/account_balance: **Live I'mport API**"), help=display_url(s.api_url))


# ------------------------------------------------------------------ helpers
def last_refreshed(fetched: datetime) -> str:
    """"마지막 새로고침 2026-12-07 12:00:03 KST (12초 전 기준)": when the list was read (from the payments mirror: when
    the mirror last read I'mport), and how long ago."""
    return _("Last refreshed {time} (as of {ago})").format(time=kst(fetched, seconds=True), ago=ago(fetched))


def query_imp_uid() -> str:
    return (st.query_params.get("imp_uid") or "").strip()
