"""vbank-desk: entry point (page config, identity, navigation)."""

import streamlit as st

st.set_page_config(page_title="vbank-desk", page_icon=":material/account_balance:", layout="wide")

from lib import ui  # noqa: E402  (after set_page_config)

NAV = {
    "Virtual accounts": [
        st.Page("pages/pending.py", title="Pending accounts", icon=":material/pending_actions:", url_path="", default=True),
        st.Page("pages/payment.py", title="Payment detail", icon=":material/search:", url_path="payment"),
        st.Page("pages/update.py", title="Change amount / due", icon=":material/edit_calendar:", url_path="update"),
        st.Page("pages/refund.py", title="Refund", icon=":material/undo:", url_path="refund"),
    ],
    "Records": [
        st.Page("pages/reconcile.py", title="Reconciliation", icon=":material/balance:", url_path="reconcile"),
        st.Page("pages/audit.py", title="Audit log", icon=":material/receipt_long:", url_path="audit"),
    ],
}

ui.mark_entry()
page = st.navigation(NAV)
ui.identity_banner()
page.run()
