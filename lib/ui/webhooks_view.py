"""/admin's PortOne webhooks section: whether the watcher's receiver runs (watcher/webhooks.py), how many webhooks
arrived today by API version, and the payments paid in the API in the last day whose webhook never came (웹훅 미수신:
lib/services/webhooks.py ``missing_now``, the same list the watcher tells the team about).

The paid payments are read from the payments mirror when the lists read it (synced first when it is old), else one paid listing per API
version, at most once a minute for every admin (``st.cache_data``: the list is the same for everyone)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from lib.domain.clock import KST
from lib.domain.fmt import krw, kst, mask_name, number
from lib.domain.i18n import _
from lib.domain.names import pg_short
from lib.iamport.errors import ApiError
from lib.services import webhooks
from lib.ui import inert, mirror, resources, stores

CACHE_S = 60


def _today_start(now: float) -> float:
    d = datetime.fromtimestamp(now, KST)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _missing(db_url: str, apis: tuple[str, ...], minute: int) -> list[dict[str, Any]]:
    """The missing webhooks as plain rows (cached per minute; the arguments are the key)."""
    now = time.time()
    db = resources.db()
    clients = {api: resources.client_for(api) for api in apis}
    paid = webhooks.recent_paid(clients, now, mirror=mirror.mirror() if mirror.ready() else None)
    return [{"api": webhooks.api_of(m.payment), "imp_uid": m.payment.imp_uid, "order": m.payment.merchant_uid,
             "buyer": m.payment.buyer_name, "pg": m.payment.pg_provider, "amount": m.payment.amount,
             "paid_at": m.paid_at, "late": m.webhook_at, "minutes": int(((m.webhook_at or now) - m.paid_at) // 60)}
            for m in webhooks.missing_now(db, paid, now)]


def rows(found: list[dict[str, Any]]) -> pd.DataFrame:
    """The list as the team reads it: version, payment, order, buyer (masked), PG by name, amount, paid at (KST), how
    long without its webhook, and when a late one came."""
    return pd.DataFrame([{
        _("API version"): r["api"].upper(), _("Payment"): r["imp_uid"], _("Order number"): r["order"] or "—",
        _("Buyer"): mask_name(r["buyer"]) or "—", _("PG"): pg_short(r["pg"]), _("Amount"): krw(r["amount"]),
        _("Paid at"): kst(datetime.fromtimestamp(r["paid_at"], KST)),
        _("Webhook missing for"): _("{n} min").format(n=number(r["minutes"])),
        _("Arrived late at"): kst(datetime.fromtimestamp(r["late"], KST)) if r["late"] else "—"} for r in found])


def section() -> None:
    """The section itself (call it where it goes on /admin)."""
    st.subheader(_("PortOne webhooks"))
    state = stores.watch().state()
    since = state.get(webhooks.LISTENING_SINCE)
    if since is None:
        st.caption(_("No webhook receiver has run against this app database: set PORTONE_WEBHOOK_PORT for the watcher "
                     "and give PortOne's console its address. Without it, payments paid without a webhook are not "
                     "listed."))
        return
    now = time.time()
    counts = webhooks.receipts(resources.db()).counts_since(_today_start(now))
    last = state.get(webhooks.LISTENING_AT)
    apis = mirror.apis()
    inert.table(pd.DataFrame({"": {
        _("Receiving since"): kst(datetime.fromtimestamp(float(since), KST)),
        _("Receiver last seen running"): kst(datetime.fromtimestamp(float(last), KST), seconds=True) if last else "—",
        **{_("Webhooks received today ({api})").format(api=api.upper()): number(counts.get(api, 0)) for api in apis}}}))
    try:
        found = _missing(resources.settings().audit_db_url, apis, int(now // CACHE_S))
    except ApiError as e:
        st.error(inert.say(_("The paid payments could not be read: {message}"), message=e.message))
        return
    st.caption(_("Paid in the last day (since the receiver started), but PortOne's webhook did not arrive within "
                 "{n} minutes of the payment: check the webhook address in PortOne's console.").format(
                     n=state.get(webhooks.MISSING_MIN_KEY) or webhooks.MISSING_AFTER_MIN))
    if not found:
        st.success(_("Every payment paid in the last day had its webhook."))
        return
    st.warning(_("Paid without their webhook: {n}").format(n=number(len(found))))
    st.dataframe(rows(found), hide_index=True, key="admin_webhooks_missing")
