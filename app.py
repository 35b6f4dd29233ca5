"""vbank-desk: entry point (page config, identity, navigation)."""

import streamlit as st

st.set_page_config(page_title="vbank-desk", page_icon="🏦", layout="wide")

from lib import ui  # noqa: E402  (after set_page_config)

NAV = {
    "Virtual accounts": [
        st.Page("pages/pending.py", title="Pending accounts", icon="⏳", url_path="", default=True),
        st.Page("pages/payment.py", title="Payment detail", icon="🔎", url_path="payment"),
        st.Page("pages/update.py", title="Change amount / due", icon="✏️", url_path="update"),
        st.Page("pages/refund.py", title="Refund", icon="↩️", url_path="refund"),
    ],
    "Records": [
        st.Page("pages/audit.py", title="Audit log", icon="📜", url_path="audit"),
    ],
}

page = st.navigation(NAV)
ui.identity_banner()
page.run()
