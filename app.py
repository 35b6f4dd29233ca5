"""vbank-desk: entry point (page config, identity, navigation by role)."""

import streamlit as st

st.set_page_config(page_title="vbank-desk", page_icon=":material/account_balance:", layout="wide")

from lib import ui  # noqa: E402  (after set_page_config)

T = {
    "no_identity_header": "You are not signed in: the sign-in proxy did not identify you (no {header} header). "
                          "Open vbank-desk through the company sign-in, or ask an administrator.",
    "login": "Sign in", "login_intro": "vbank-desk moves money: sign in with your company account.",
    "no_role": "{email} has no role in vbank-desk yet. Ask an administrator to add you.",
}

ui.mark_entry()
who = ui.actor()
if who is None:
    s = ui.settings()
    if s.identity_mode == "oidc":
        st.title("vbank-desk")
        st.write(T["login_intro"])
        st.button(T["login"], on_click=st.login, type="primary")
    else:
        st.error(ui.say(T["no_identity_header"], header=s.identity_header))
    if ui.identity_problem():
        st.caption(ui.say("{why}", why=ui.identity_problem()))
    st.stop()
if not who.can("read"):
    st.error(ui.say(T["no_role"], email=who.email))
    st.stop()

PAGES = {
    # page file: (title, icon, url path, permission needed)
    "pages/pending.py": ("Pending accounts", ":material/pending_actions:", "", "read"),
    "pages/payment.py": ("Payment detail", ":material/search:", "payment", "read"),
    "pages/update.py": ("Change amount / due", ":material/edit_calendar:", "update", "update_vbank"),
    "pages/bulk.py": ("Extend several", ":material/date_range:", "bulk", "update_vbank"),
    "pages/refund.py": ("Refund", ":material/undo:", "refund", "refund"),
    "pages/approvals.py": ("Approvals", ":material/how_to_reg:", "approvals", "read"),
    "pages/reconcile.py": ("Reconciliation", ":material/balance:", "reconcile", "read"),
    "pages/audit.py": ("Audit log", ":material/receipt_long:", "audit", "read"),
    "pages/admin.py": ("Configuration", ":material/settings:", "admin", "admin"),
}
SECTIONS = {"Virtual accounts": ["pages/pending.py", "pages/payment.py", "pages/update.py", "pages/bulk.py",
                                 "pages/refund.py",
                                 "pages/approvals.py"],
            "Records": ["pages/reconcile.py", "pages/audit.py", "pages/admin.py"]}


def page(path: str) -> st.Page:
    title, icon, url, _ = PAGES[path]
    return st.Page(path, title=title, icon=icon, url_path=url, default=(url == ""))


nav = {section: [page(p) for p in paths if who.can(PAGES[p][3])] for section, paths in SECTIONS.items()}
current = st.navigation({k: v for k, v in nav.items() if v})
ui.identity_banner(who)
current.run()
