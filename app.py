"""vbank-desk: entry point (page config, identity, navigation by role)."""

import streamlit as st

st.set_page_config(page_title="vbank-desk", page_icon=":material/account_balance:", layout="wide")

from lib.domain.i18n import _
from lib.reports.columnar import give_back_freed_memory
from lib.ui import inert, language, session

language.mark_entry()        # first: it sets the language every text below is made in
give_back_freed_memory()     # Arrow's freed memory back to the system within 200 ms (a month end frees hundreds of MB)

T = {
    "no_identity_header": _("You are not signed in: the sign-in proxy did not identify you (no {header} header). "
                          "Open vbank-desk through the company sign-in, or ask an administrator."),
    "login": _("Sign in"), "login_intro": _("vbank-desk moves money: sign in with your company account."),
    "no_role": _("{email} has no role in vbank-desk yet. Ask an administrator to add you."),
}

if (db_problem := session.database_problem()):     # a newer or damaged app database: one sentence, nothing changed
    st.error(inert.say("{why}", why=db_problem))
    st.stop()
who = session.actor()
if who is None:
    s = session.settings()
    if s.identity_mode == "accounts":
        session.sign_in()                                 # e-mail, password, TOTP code (lib/ui/signin.py)
    elif s.identity_mode == "oidc":
        st.title("vbank-desk")
        st.write(T["login_intro"])
        st.button(T["login"], on_click=st.login, type="primary")
    else:
        st.error(inert.say(T["no_identity_header"], header=s.identity_header))
    if session.identity_problem():
        st.caption(inert.say("{why}", why=session.identity_problem()))
    st.stop()
if not who.can("read"):
    st.error(inert.say(T["no_role"], email=who.email))
    st.stop()
language.remember_for(who)   # a person's language across sessions (header / OIDC), kept in the URL
session.start_run(who)       # the run's Desk: built once, shared by the page and its panels

PAGES = {
    # page file: (title, icon, url path, permission needed)
    "app_pages/pending.py": (_("Pending accounts"), ":material/pending_actions:", "", "read"),
    "app_pages/search.py": (_("Find a payment"), ":material/person_search:", "search", "read"),
    "app_pages/payment.py": (_("Payment detail"), ":material/receipt:", "payment", "read"),
    "app_pages/update.py": (_("Change amount / due"), ":material/edit_calendar:", "update", "update_vbank"),
    "app_pages/bulk.py": (_("Extend several"), ":material/date_range:", "bulk", "update_vbank"),
    "app_pages/revoke.py": (_("Cancel several"), ":material/block:", "revoke", "revoke_vbank"),
    "app_pages/refund.py": (_("Refund"), ":material/undo:", "refund", "refund"),
    "app_pages/approvals.py": (_("Approvals"), ":material/how_to_reg:", "approvals", "read"),
    "app_pages/today.py": (_("Today's summary"), ":material/wb_sunny:", "today", "read"),
    "app_pages/reconcile.py": (_("Reconciliation"), ":material/balance:", "reconcile", "read"),
    "app_pages/payouts_ahead.py": (_("Payouts ahead"), ":material/event_upcoming:", "payouts", "read"),
    "app_pages/journal.py": (_("Journal entries"), ":material/menu_book:", "journal", "read"),
    "app_pages/audit.py": (_("Audit log"), ":material/receipt_long:", "audit", "read"),
    "app_pages/admin.py": (_("Configuration"), ":material/settings:", "admin", "admin"),
}
SECTIONS = {_("Virtual accounts"): ["app_pages/pending.py", "app_pages/search.py", "app_pages/payment.py", "app_pages/update.py", "app_pages/bulk.py",
                                 "app_pages/revoke.py", "app_pages/refund.py",
                                 "app_pages/approvals.py"],
            _("Records"): ["app_pages/today.py", "app_pages/reconcile.py", "app_pages/payouts_ahead.py",
                          "app_pages/journal.py", "app_pages/audit.py", "app_pages/admin.py"]}


def page(path: str) -> st.Page:
    title, icon, url, _perm = PAGES[path]
    return st.Page(path, title=title, icon=icon, url_path=url, default=(url == ""))


nav = {section: [page(p) for p in paths if who.can(PAGES[p][3])] for section, paths in SECTIONS.items()}
current = st.navigation({k: v for k, v in nav.items() if v})
with st.sidebar.form("nav_search", border=False):           # 결제 찾기 from every page
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    nav_q = c1.text_input(_("Find a payment"), key="nav_q", max_chars=100, label_visibility="collapsed",
                          placeholder=_("Name, phone, e-mail, order…"))
    if c2.form_submit_button(_("Find"), key="nav_find", help=_("Find a payment")) and nav_q.strip():
        st.switch_page("app_pages/search.py", query_params={"q": nav_q.strip()})
session.identity_banner(who)
current.run()
