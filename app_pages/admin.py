"""Configuration (admin): the effective settings, roles and fee schedule. No secret is ever shown."""

from datetime import datetime

import pandas as pd
import streamlit as st

from lib.domain import names
from lib.domain.clock import KST
from lib.domain.fmt import krw, kst
from lib.domain.i18n import _
from lib.domain.names import pg_name
from lib.domain.text import md
from lib.iamport.errors import ApiError
from lib.ui import inert, language, mirror, session, stores, webhooks_view

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
    _("App database schema"): _("revision {rev}").format(rev=stores.schema_version() or "—"),
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
watch = stores.watch().state()
if not watch:
    st.caption(T["no_watcher"])
else:
    sent = stores.watch().counts()
    inert.table(pd.DataFrame({"": {
        T["w_since"]: kst(datetime.fromtimestamp(float(watch["since"]), KST)) if watch.get("since") else "—",
        T["w_last_run"]: kst(datetime.fromtimestamp(float(watch["last_run"]), KST), seconds=True)
        if watch.get("last_run") else "—",
        T["w_cursor"]: kst(datetime.fromtimestamp(float(watch["deposits_to"]), KST), seconds=True)
        if watch.get("deposits_to") else "—",
        T["w_sent"]: T["w_counts"].format(sent=sent.get("sent", 0), retry=sent.get("retry", 0) + sent.get("sending", 0),
                                         gave_up=sent.get("gave_up", 0)),
        T["w_error"]: watch.get("last_error") or "—"}}))
st.subheader(_("Payments mirror"))
st.caption(_("The desk's own copy of the payments: the lists, search, the summary and the month end read it; every "
             "refund, change and revoke re-reads the payment from its own API (I'mport, or PortOne V2) first."))
table_slot = st.empty()                    # drawn after the button's work: the figures it changed, not the ones before
if mirror.enabled() and st.button(_("Re-read every payment now"), key="mirror_full", icon=":material/sync:"):
    try:
        done = mirror.full_reread_now()
    except ApiError as e:
        st.error(_("I'mport could not be read: {message}").format(message=e.message))
    else:
        st.success(_("Re-read: {n} payments differed from the copy and were corrected.").format(n=done.drift)
                   if done is not None else _("Another syncer is at work right now: try again in a minute."))
with table_slot.container():
    inert.table(pd.DataFrame({"": mirror.admin_rows()}))
webhooks_view.section()
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

# ------------------------------------------------------------------ built-in accounts (VBANK_IDENTITY_MODE=accounts)
A = {
    "title": _("Sign-in accounts"),
    "intro": _("People who sign in with an e-mail and a password (identity mode \u201caccounts\u201d). Approvers and "
               "admins also need an authenticator code; an account is locked for 15 minutes after 5 failed "
               "sign-ins. Every change is in the audit log."),
    "other_mode": _("This instance identifies people another way; the accounts below count only in accounts mode "
                    "(VBANK_IDENTITY_MODE=accounts)."),
    "none": _("No account yet."), "email": _("E-mail address"), "roles": _("Roles"),
    "second": _("Authenticator"), "state": _("State"), "created": _("Added"), "by": _("By"),
    "enrolled": _("on"), "not_enrolled": _("not yet"), "active": _("active"), "disabled": _("disabled"),
    "add": _("Add an account"), "add_go": _("Add"),
    "one_time": _("One-time password for {email} — give it to the person; it is shown only now and must be "
                  "changed at the first sign-in:"),
    "change": _("Change an account"), "which": _("Account"), "save_roles": _("Save the roles"),
    "reset_pw": _("Reset the password"), "reset_totp": _("Reset the authenticator"),
    "disable": _("Disable"), "enable": _("Enable"), "done": _("Saved."),
}
ONE_TIME = "admin:one_time"
st.subheader(A["title"])
st.caption(A["intro"] if s.identity_mode == "accounts" else A["other_mode"])
store = stores.accounts()
shown = st.session_state.pop(ONE_TIME, None)
if shown:
    st.success(inert.say(A["one_time"], email=shown[0]))
    st.code(shown[1], language=None)
people = store.all()
if people:
    st.dataframe(pd.DataFrame([{
        A["email"]: p.email, A["roles"]: ", ".join(names.role_name(x) for x in sorted(p.roles)),
        A["second"]: A["enrolled"] if p.totp else A["not_enrolled"],
        A["state"]: A["disabled"] if p.disabled else A["active"],
        A["created"]: kst(datetime.fromtimestamp(p.created_at, KST)), A["by"]: p.created_by} for p in people]),
        hide_index=True)
else:
    st.caption(A["none"])
role_choices = ["viewer", "operator", "approver", "admin"]
with st.form("admin_add_account", clear_on_submit=True):
    st.markdown(f"**{A['add']}**")
    new_email = st.text_input(A["email"], max_chars=200, key="admin_new_email")
    new_roles = st.multiselect(A["roles"], role_choices, default=["viewer"], format_func=names.role_name,
                               key="admin_new_roles")
    if st.form_submit_button(A["add_go"]):
        try:
            st.session_state[ONE_TIME] = (new_email.strip().lower(), store.add(new_email, new_roles, by=who))
            st.rerun()
        except ValueError as e:              # AccountError: a sentence
            st.error(inert.say("{why}", why=str(e)))
if people:
    st.markdown(f"**{A['change']}**")
    target = st.selectbox(A["which"], [p.email for p in people], key="admin_account")
    acc = next(p for p in people if p.email == target)
    roles_now = st.multiselect(A["roles"], role_choices, default=sorted(acc.roles), format_func=names.role_name,
                               key=f"admin_roles_{acc.email}")
    c1, c2, c3, c4 = st.columns(4)
    try:
        if c1.button(A["save_roles"], key="admin_save_roles"):
            store.set_roles(acc.email, roles_now, by=who)
            st.toast(A["done"])
            st.rerun()
        if c2.button(A["reset_pw"], key="admin_reset_pw"):
            st.session_state[ONE_TIME] = (acc.email, store.reset_password(acc.email, by=who))
            st.rerun()
        if c3.button(A["reset_totp"], key="admin_reset_totp", disabled=not acc.totp):
            store.reset_totp(acc.email, by=who)
            st.toast(A["done"])
            st.rerun()
        if c4.button(A["enable"] if acc.disabled else A["disable"], key="admin_disable"):
            store.set_disabled(acc.email, not acc.disabled, by=who)
            st.rerun()
    except ValueError as e:
        st.error(inert.say("{why}", why=str(e)))
