"""Configuration (admin): the effective settings, roles and fee schedule. No secret is ever shown."""

import pandas as pd
import streamlit as st

from lib import ui
from lib.fmt import krw
from lib.text import md

ui.entry_guard()

T = {
    "title": "Configuration",
    "intro": "What this instance runs with. Change it in vbank-desk.toml, the environment or "
             ".streamlit/secrets.toml and restart. Secrets are never shown.",
    "connection": "Connection", "rules": "Business rules", "roles": "Roles", "fees": "Fee schedule",
    "forbidden": "This page needs the admin role.",
}
st.title(T["title"])
who = ui.operator()
if not who.can("admin"):
    st.error(T["forbidden"])
    st.stop()
st.caption(T["intro"])
s = ui.settings()
r = s.rules
st.subheader(T["connection"])
ui.table(pd.DataFrame({"": {
    "Mode": s.mode_label, "API URL": ui.display_url(s.api_url), "REST API key": "set (hidden)" if s.imp_key else "not set",
    "Tier": s.tier or "—", "Timeouts": f"connect {s.connect_timeout:g} s, read {s.read_timeout:g} s",
    "Concurrent page fetches": s.concurrency, "Cache TTL": f"{s.cache_ttl} s",
    "Audit database": ui.display_url(s.audit_db_url) if "://" in s.audit_db_url else s.audit_db_url,
    "Audit signing key": "set (hidden)" if s.audit_hmac_key else "not set",
    "Identity mode": s.identity_mode + (f" ({s.identity_header})" if s.identity_mode == "header" else "")}}))
st.subheader(T["rules"])
ui.table(pd.DataFrame({"": {
    "PGs that may change a virtual account": ", ".join(r.vbank_update_pgs),
    "Amount ceiling for a change": krw(r.update_amount_ceiling) if r.update_amount_ceiling else "none",
    "Due date at most this far ahead": f"{r.update_max_horizon_days} days" if r.update_max_horizon_days else "none",
    "Typed confirmation above": krw(r.refund_typed_confirm_above),
    "Refunds need approval above": krw(r.refund_approval_above),
    "Bulk changes need approval above": f"{r.bulk_approval_above_count} accounts",
    "Approval requests expire after": f"{r.approval_expiry_hours} hours",
    "Refund reasons": ", ".join(f"{k} ({v})" for k, v in r.refund_reasons.items())}}))
st.subheader(T["fees"])
rows = [{"PG": "(default)", "Issuance fee": krw(r.fees_default.issuance_fee),
         "Remittance fee": krw(r.fees_default.remittance_fee), "VAT on fees": r.fees_default.vat_on_fees}]
rows += [{"PG": pg, "Issuance fee": krw(f.issuance_fee), "Remittance fee": krw(f.remittance_fee),
          "VAT on fees": f.vat_on_fees} for pg, f in r.fees.items()]
st.dataframe(pd.DataFrame(rows), hide_index=True)
st.subheader(T["roles"])
if s.identity_mode == "local":
    st.caption(f"Local mode: {md(s.operator)} has {md(', '.join(r.local_roles))}.")
st.dataframe(pd.DataFrame([{"Role": role, "Who": ", ".join(emails)} for role, emails in r.roles.items()]),
             hide_index=True)
