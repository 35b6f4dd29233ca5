"""/admin's PortOne webhooks section (lib/ui/webhooks_view.py): without a receiver it says how to set one up; with
the watcher's receiver listening it counts today's webhooks by version and lists the payments paid in the API whose
webhook never came (웹훅 미수신), buyer masked, PG by name — a payment whose webhook came is not listed."""

from __future__ import annotations

import os
import time

import streamlit as st

from lib.db.appdb import AppDb
from lib.services import webhooks


def _table_text(at) -> str:
    return " ".join(str(t.value) for t in at.table)


def test_admin_lists_the_payments_paid_without_their_webhook(app, app_env):
    at = app("app_pages/admin.py").run()
    assert not at.exception
    assert "PortOne webhooks" in [h.value for h in at.subheader]
    assert any("No webhook receiver has run" in c.value for c in at.caption)

    db = AppDb(os.environ["AUDIT_DB_URL"])
    webhooks.listening(db, time.time() - 1, within_minutes=0)    # the watcher's receiver, listening from now on
    quiet = app_env.pick(status="ready", pg="settle", where=lambda p: p["vbank_date"] > time.time() + 3600)
    heard = app_env.pick(status="ready", pg="kcp", where=lambda p: p["vbank_date"] > time.time() + 3600)
    late = app_env.pick(status="ready", pg="nice", where=lambda p: p["vbank_date"] > time.time() + 3600)
    paid_at = {p["imp_uid"]: app_env.deposit(p["imp_uid"])["paid_at"] for p in (quiet, heard, late)}
    store = webhooks.receipts(db)      # (minutes allowed: 0) one webhook in time, one after it
    store.record(api="v1", imp_uid=heard["imp_uid"], kind="paid", at=paid_at[heard["imp_uid"]], status="paid")
    store.record(api="v1", imp_uid=late["imp_uid"], kind="paid", at=paid_at[late["imp_uid"]] + 5, status="paid")
    st.cache_data.clear()

    at = app("app_pages/admin.py").run()
    assert not at.exception
    shown = _table_text(at)
    assert "Webhooks received today (V1)" in shown and "Receiving since" in shown
    missing = next(d.value for d in at.dataframe if "Webhook missing for" in d.value.columns)
    assert sorted(missing["Payment"]) == sorted([quiet["imp_uid"], late["imp_uid"]])     # the heard one is not listed
    row = missing.set_index("Payment").loc[quiet["imp_uid"]]
    assert row["PG"] == "헥토파이낸셜(세틀뱅크)" and row["API version"] == "V1" and row["Arrived late at"] == "—"
    assert quiet["buyer_name"] not in row["Buyer"] and row["Webhook missing for"].endswith(" min")
    assert missing.set_index("Payment").loc[late["imp_uid"]]["Arrived late at"] != "—"
    assert any("Paid without their webhook: 2" in w.value for w in at.warning)
    counts = next(t.value for t in at.table if "Receiving since" in t.value.index)
    assert counts.loc["Webhooks received today (V1)"].iloc[0] == "2"
