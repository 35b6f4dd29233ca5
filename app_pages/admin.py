"""Configuration (admin): the effective settings, roles and fee schedule. No secret is ever shown."""

from datetime import datetime

import pandas as pd
import streamlit as st

from lib.domain.i18n import _
from lib.domain.clock import KST
from lib.domain.fmt import krw, kst
from lib.domain.names import pg_name
from lib.domain.text import md
from lib.domain import names
from lib.ui import inert
from lib.ui import language
from lib.ui import session

language.entry_guard()

T = {
    "title": _("Configuration"),
    "intro": _("What this instance runs with. Change it in vbank-desk.toml, the environment or "
             ".streamlit/secrets.toml and restart. Secrets are never shown."),
    "connection": _("Connection"), "rules": _("Business rules"), "roles": _("Roles"), "fees": _("Fee schedule"),
    "forbidden": _("This page needs the admin role."),
    "watcher": _("Watcher (python -m watcher)"),
    "no_watcher": _("No watcher has run against this app database: set VBANK_WEBHOOK_URL and start it (make run does)."),
    "w_since": _("Watching since"), "w_last_run": _("Last pass"), "w_cursor": _("Deposits read up to"),
    "w_sent": _("Messages"), "w_counts": _("{sent} sent, {retry} to retry, {gave_up} given up"),
    "w_error": _("Last error"),
}
st.title(T["title"])
who = session.operator()
if not who.can("admin"):
    st.error(T["forbidden"])
    st.stop()
st.caption(T["intro"])
s = session.settings()
r = s.rules
st.subheader(T["connection"])
hidden, unset, none = _("set (hidden)"), _("not set"), _("none")
inert.table(pd.DataFrame({"": {
    _("Mode"): s.mode_label, _("API address"): inert.display_url(s.api_url),
    _("REST API key"): hidden if s.imp_key else unset, _("Tier"): s.tier or "—",
    _("Timeouts"): _("connect {c:g} s, read {r:g} s").format(c=s.connect_timeout, r=s.read_timeout),
    _("Concurrent page fetches"): s.concurrency, _("Cache lifetime"): _("{n} s").format(n=s.cache_ttl),
    _("Audit database"): inert.display_url(s.audit_db_url) if "://" in s.audit_db_url else s.audit_db_url,
    _("Audit signing key"): hidden if s.audit_hmac_key else unset,
    _("App database schema"): _("revision {rev}").format(rev=session.db().schema_version() or "—"),
    _("Identity mode"): {"local": _("local (one operator)"), "header": _("sign-in proxy header"),
                         "oidc": _("company sign-in (OIDC)")}.get(s.identity_mode, s.identity_mode)
    + (f" ({s.identity_header})" if s.identity_mode == "header" else "")}}))
st.subheader(T["rules"])
inert.table(pd.DataFrame({"": {
    _("PGs that may change a virtual account"): ", ".join(pg_name(p) for p in r.vbank_update_pgs),
    _("Amount ceiling for a change"): krw(r.update_amount_ceiling) if r.update_amount_ceiling else none,
    _("Due date at most this far ahead"): _("{n} days").format(n=r.update_max_horizon_days)
    if r.update_max_horizon_days else none,
    _("Typed confirmation above"): krw(r.refund_typed_confirm_above),
    _("Refunds need approval above"): krw(r.refund_approval_above),
    _("Bulk changes need approval above"): _("{n} accounts").format(n=r.bulk_approval_above_count),
    _("Approval requests expire after"): _("{n} hours").format(n=r.approval_expiry_hours),
    _("Refund reasons (sent to the PG)"): ", ".join(f"{v} ({k})" for k, v in r.refund_reasons.items())}}))
st.subheader(T["watcher"])
watch = session.db().watch.state()
if not watch:
    st.caption(T["no_watcher"])
else:
    sent = session.db().watch.counts()
    inert.table(pd.DataFrame({"": {
        T["w_since"]: kst(datetime.fromtimestamp(float(watch["since"]), KST)) if watch.get("since") else "—",
        T["w_last_run"]: kst(datetime.fromtimestamp(float(watch["last_run"]), KST), seconds=True)
        if watch.get("last_run") else "—",
        T["w_cursor"]: kst(datetime.fromtimestamp(float(watch["deposits_to"]), KST), seconds=True)
        if watch.get("deposits_to") else "—",
        T["w_sent"]: T["w_counts"].format(sent=sent.get("sent", 0), retry=sent.get("retry", 0) + sent.get("sending", 0),
                                         gave_up=sent.get("gave_up", 0)),
        T["w_error"]: watch.get("last_error") or "—"}}))
st.subheader(T["fees"])
pg_col, iss, rem, vat = _("PG"), _("Issuance fee"), _("Remittance fee"), _("VAT on fees")


def yes_no(v: bool) -> str:
    return _("yes") if v else _("no")


rows = [{pg_col: _("(default)"), iss: krw(r.fees_default.issuance_fee),
         rem: krw(r.fees_default.remittance_fee), vat: yes_no(r.fees_default.vat_on_fees)}]
rows += [{pg_col: pg_name(pg), iss: krw(f.issuance_fee), rem: krw(f.remittance_fee),
          vat: yes_no(f.vat_on_fees)} for pg, f in r.fees.items()]
st.dataframe(pd.DataFrame(rows), hide_index=True)
st.subheader(T["roles"])
if s.identity_mode == "local":
    st.caption(_("Local mode: {who} has {roles}.").format(
        who=md(s.operator), roles=md(", ".join(names.role_name(x) for x in r.local_roles))))
st.dataframe(pd.DataFrame([{_("Role"): names.role_name(role), _("Who"): ", ".join(emails)} for role, emails in r.roles.items()]),
             hide_index=True)
