"""A desk with a V1 and a V2 (PortOne) merchant (AppTest, both sandboxes behind it): the lists show both with their
version, the payment page and its actions go through the payment's own API, V2's "change" is close-and-reissue with
its warning, and the refund wizard speaks V2 (its bank list, no holder lookup, 환불 요청됨 for an async PG)."""

from __future__ import annotations

import pytest
import streamlit as st

from lib.domain.settings import get_settings
from tests.pages.conftest import metric


@pytest.fixture
def both(app_env, sandbox_v2, monkeypatch):
    """The app env with the V2 sandbox configured beside V1 (reset to its seed)."""
    sandbox_v2.reset()
    sandbox_v2.clear_faults()
    monkeypatch.setenv("PORTONE_V2_API_URL", sandbox_v2.url)
    get_settings.cache_clear()
    st.cache_resource.clear()
    return sandbox_v2


def issued_v2(v2, pg="KCP_V2", amount=43_210, name="V2 주문") -> dict:
    return v2.issue(pg=pg, amount=amount, dueInDays=3, orderName=name)


def pid(p: dict) -> str:
    return p.get("id") or p["payment"]["id"]


def step_text(at) -> str:
    return at.get("progress")[0].proto.text


def test_pending_list_shows_both_versions_with_a_filter(app, both):
    new = pid(issued_v2(both))
    at = app().run()
    assert not at.exception
    df = at.dataframe[0].value
    assert "api" in list(at.dataframe[0].proto.column_order)
    assert set(df["api"]) == {"V1 (I'mport)", "V2 (PortOne)"}
    assert new in set(df["imp_uid"])
    assert df.loc[df["imp_uid"] == new, "api"].item() == "V2 (PortOne)"
    at.multiselect(key="f_api").set_value(["v2"]).run()
    df2 = at.dataframe[0].value
    assert set(df2["api"]) == {"V2 (PortOne)"} and new in set(df2["imp_uid"])


def test_without_v2_nothing_changes(app, app_env):
    """A V1-only merchant: no API column shown, no API filter (as before V2 came)."""
    at = app().run()
    assert not at.exception
    assert "api" not in list(at.dataframe[0].proto.column_order)
    assert not [m for m in at.multiselect if m.key == "f_api"]


def test_v2_payment_page_offers_close_and_reissue_not_a_change(app, both):
    new = pid(issued_v2(both))
    at = app("app_pages/payment.py", imp_uid=new, api="v2").run()
    assert not at.exception, at.exception
    assert any("V2 (PortOne)" in c.value for c in at.caption)
    links = {pl.label: pl for pl in at.get("page_link")}
    assert "Change amount / due" in links                      # offered …
    assert at.button(key="pd_revoke").label == "Close this virtual account…"
    # … as close-and-reissue: the update page has no form that would silently fail on V2
    up = app("app_pages/update.py", imp_uid=new, api="v2").run()
    assert not up.exception
    assert "Close and issue a new account" in [h.value for h in up.subheader]
    assert "new account number" in up.warning[0].value
    assert not [t for t in up.text_input if t.key == "new_amount"]
    assert both.requests_seen("/payments", method="POST") == []


def test_v2_close_goes_through_the_v2_api_once(app, both):
    new = pid(issued_v2(both))
    both.clear_requests()
    at = app("app_pages/payment.py", imp_uid=new, api="v2").run()
    at.button(key="pd_revoke").click().run()
    at.button(key="pd_revoke_go").click().run()
    assert not at.exception, at.exception
    assert "cancelled" in at.success[0].value
    closes = both.requests_seen(f"/payments/{new}/virtual-account/close")
    assert len(closes) == 1
    assert both.payment(new)["sandbox"]["closed"]
    at.run()
    assert len(both.requests_seen(f"/payments/{new}/virtual-account/close")) == 1


def test_v2_payment_found_without_the_version_in_the_link(app, both):
    new = pid(issued_v2(both))
    at = app("app_pages/payment.py", merchant_uid=new).run()
    assert not at.exception
    assert at.button(key="pd_revoke").label == "Close this virtual account…"


def v2_paid(v2, pg):
    return v2.pick("PAID", pg=pg, where=lambda p: not p.get("cancellations") and p["amount"]["total"] >= 10_000)


@pytest.mark.parametrize("pg, done", [("KSNET", False), ("KCP_V2", True)])
def test_v2_refund_wizard(app, both, pg, done):
    p = v2_paid(both, pg)
    at = app("app_pages/refund.py", imp_uid=p["id"], api="v2").run()
    assert not at.exception, at.exception
    at.button(key="rf_next1").click().run()
    assert "Step 2 of 6" in step_text(at), [e.value for e in at.error]
    at.radio(key="rf_kind").set_value("partial")
    at.text_input(key="rf_amount").input("5,000")
    at.button(key="rf_next2").click().run()
    assert "Step 3 of 6" in step_text(at)
    assert "SHINHAN" in at.selectbox(key="rf_bank").options or any(
        "신한" in o for o in at.selectbox(key="rf_bank").options)
    assert not [b for b in at.button if b.key == "rf_check"]          # no holder lookup on V2 …
    assert any("offers no account-holder lookup" in c.value for c in at.caption)   # … and it says so
    at.text_input(key="rf_holder").input("홍길동")
    at.selectbox(key="rf_bank").set_value("SHINHAN")
    at.text_input(key="rf_account").input("110-123-456789")
    at.button(key="rf_next3").click().run()
    assert "Step 4 of 6" in step_text(at), [e.value for e in at.error]
    at.button(key="rf_next4").click().run()
    sent = at.table[0].value["Value"]
    assert sent["Holder check"].startswith("not available on PortOne V2")
    assert sent["Current cancellable amount it is checked against"] == f"₩{p['amount']['total']:,}"
    both.clear_requests()
    at.button(key="rf_send").click().run()
    at.button(key="rf_go").click().run()
    assert not at.exception, at.exception
    assert "Step 6 of 6" in step_text(at)
    calls = both.requests_seen(f"/payments/{p['id']}/cancel")
    assert len(calls) == 1
    if done:
        assert "Refund registered" in at.success[0].value
        assert metric(at, "Refunded total now") == "₩5,000"
    else:
        assert "Refund requested" in at.info[0].value and "PortOne will confirm" in at.info[0].value
        assert not at.success
        assert metric(at, "Refund requested (not yet done)") == "₩5,000"
    at.run()
    assert len(both.requests_seen(f"/payments/{p['id']}/cancel")) == 1


def test_v2_requested_refund_reads_as_such_on_the_payment_page(app, both):
    p = both.pick("PAID", pg="KSNET", where=lambda x: any(c.get("status") == "REQUESTED"
                                                            for c in x.get("cancellations") or ()))
    at = app("app_pages/payment.py", imp_uid=p["id"], api="v2").run()
    assert not at.exception
    assert metric(at, "Status") == "Paid · refund requested"          # said once, not twice
    assert any("PortOne will confirm" in i.value for i in at.info)
    assert "Refund this payment" not in {pl.label for pl in at.get("page_link")}


def test_refund_list_has_v2_payments_with_their_version(app, both):
    at = app("app_pages/refund.py").run()
    assert not at.exception
    df = at.dataframe[0].value
    assert {"V1 (I'mport)", "V2 (PortOne)"} <= set(df["api"])


def test_revoke_page_closes_v1_and_v2_accounts_each_through_its_api(app, both, app_env):
    v1 = app_env.pick(status="ready", where=lambda x: x["pg_provider"] in ("kcp", "tosspayments", "nice_v2"))
    v2 = pid(issued_v2(both, pg="TOSSPAYMENTS"))
    both.clear_requests()
    app_env.clear_requests()
    at = app("app_pages/revoke.py").run()
    at.text_area(key="revoke_ids").input(f"{v1['imp_uid']}\n{v2}").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    at.text_input(key="revoke_typed").input("2").run()
    at.button(key="revoke_send").click().run()
    at.button(key="revoke_go").click().run()
    assert not at.exception, at.exception
    assert "2 of 2 accounts cancelled" in at.success[0].value
    assert len(both.requests_seen(f"/payments/{v2}/virtual-account/close")) == 1
    assert both.payment(v2)["sandbox"]["closed"]
    assert len(app_env.requests_seen(f"/vbanks/{v1['imp_uid']}")) == 1


def test_v2_refund_above_the_approval_limit_is_requested_then_approved_and_sent_through_v2(app, both, set_rules):
    from lib.db.appdb import AppDb
    set_rules("refund_approval_above = 1000\n")
    p = v2_paid(both, "KCP_V2")
    at = app("app_pages/refund.py", imp_uid=p["id"], api="v2").run()
    at.button(key="rf_next1").click().run()
    at.button(key="rf_next2").click().run()
    at.text_input(key="rf_holder").input("홍길동")
    at.selectbox(key="rf_bank").set_value("SHINHAN")
    at.text_input(key="rf_account").input("110-123-456789")
    at.button(key="rf_next3").click().run()
    at.button(key="rf_next4").click().run()
    assert "Step 5 of 6" in step_text(at)
    assert not [b for b in at.button if b.key == "rf_send"]
    both.clear_requests()
    at.button(key="rf_request").click().run()
    assert not at.exception, at.exception
    store = AppDb(get_settings().audit_db_url).approvals
    [req] = store.list(status="pending")
    assert req.imp_uid == p["id"] and req.payload["api"] == "v2" and req.payload["request"]["refund_bank"] == "SHINHAN"
    assert both.requests_seen(f"/payments/{p['id']}/cancel") == []            # requested, nothing sent
    # another person approves: the request is carried out through PortOne V2, once
    store.engine.dispose()
    with store.engine.begin() as c:
        from sqlalchemy import text
        c.execute(text("UPDATE approval_requests SET requester = 'someone@example.com'"))
    ap = app("app_pages/approvals.py").run()
    assert not ap.exception, ap.exception
    ap.button(key=f"ap_{req.id}").click().run()
    ap.button(key="ap_go").click().run()
    assert not ap.exception, ap.exception
    assert "Refund registered" in ap.success[0].value, [e.value for e in ap.error]
    assert len(both.requests_seen(f"/payments/{p['id']}/cancel")) == 1
    assert store.get(req.id).status == "executed"
    assert both.payment(p["id"])["status"] == "CANCELLED"


def test_search_finds_v2_payments_with_their_version(app, both):
    new = pid(issued_v2(both))
    at = app("app_pages/search.py", q=new).run()
    assert not at.exception, at.exception
    df = at.dataframe[0].value
    assert list(df["api"]) == ["V2 (PortOne)"]
    link = next(pl for pl in at.get("page_link") if pl.proto.page.endswith("payment"))
    assert "api=v2" in link.proto.query_string
    at.pills(key="sr_api").set_value(["v1"])            # only V1's: it is not found
    at.button(key="sr_find").click().run()
    assert not at.dataframe and at.warning


def test_v2_paid_payment_links_its_refund_with_its_version(app, both):
    p = v2_paid(both, "KCP_V2")
    at = app("app_pages/payment.py", imp_uid=p["id"], api="v2").run()
    assert not at.exception
    link = next(pl for pl in at.get("page_link") if pl.proto.label == "Refund this payment")
    assert "api=v2" in link.proto.query_string and p["id"] in link.proto.query_string


def test_a_v2_refund_still_requested_reads_as_such_in_search_and_is_not_offered_again(app, both):
    asked = next(p for p in both.all_payments(status="PAID", pg="KSNET")
                 if any(c.get("status") == "REQUESTED" for c in p.get("cancellations") or []))
    at = app("app_pages/search.py", q=asked["id"]).run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["status"]) == ["Paid · refund requested"]
    rf = app("app_pages/refund.py").run()
    assert not rf.exception
    assert asked["id"] not in set(rf.dataframe[0].value["imp_uid"])
