from lib.domain.fmt import krw_compact
from tests.pages.conftest import metric


def test_detail_by_deep_link_masks_personal_data(app, app_env):
    p = app_env.pick(status="paid", where=lambda x: x["cancel_amount"] > 0)
    at = app("app_pages/payment.py", imp_uid=p["imp_uid"]).run()
    assert not at.exception
    assert metric(at, "Amount") == krw_compact(p["amount"])
    assert metric(at, "Refundable balance") == krw_compact(p["amount"] - p["cancel_amount"])
    text = "".join(df.value.to_string() for df in at.dataframe)
    assert p["buyer_tel"] not in text and p["buyer_tel"][-4:] in text
    history = next(d.value for d in at.dataframe if "cancellation_id" in d.value.columns)
    assert len(history) == len(p["cancel_history"])
    story = next(d.value for d in at.dataframe if "Event" in d.value.columns)
    assert story["Event"].tolist().count("Refund registered") == len(p["cancel_history"])
    at.toggle(key="reveal_pd").set_value(True).run()
    assert p["buyer_tel"] in "".join(df.value.to_string() for df in at.dataframe)


def test_detail_by_merchant_uid_and_not_found(app, app_env):
    p = app_env.pick(status="ready")
    at = app("app_pages/payment.py", merchant_uid=p["merchant_uid"]).run()
    assert metric(at, "Amount") == krw_compact(p["amount"])
    at = app("app_pages/payment.py", imp_uid="imp_nope").run()
    assert "No payment found for “imp_nope”" in at.error[0].value and "존재하지 않는 결제정보입니다." in at.error[0].value


def test_audit_page_filters_and_lists(app, app_env):
    from lib.db.appdb import AppDb
    from lib.domain.settings import get_settings
    store = AppDb(get_settings().audit_db_url).audit
    store.record(operator="kim", action="refund", outcome="sent", correlation_id="c1", imp_uid="imp_1",
                 request={"refund_account": "110123456789"})
    store.record(operator="lee", action="update_vbank", outcome="succeeded", correlation_id="c2", imp_uid="imp_2")
    at = app("app_pages/audit.py").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    at.selectbox(key="a_op").select("kim").run()
    df = at.dataframe[0].value
    assert list(df["operator"]) == ["kim"] and "110123456789" not in df["request"].iloc[0]


def test_audit_page_verifies_the_chain_against_an_anchor(app, app_env):
    from sqlalchemy import delete

    from lib.db.appdb import AppDb
    from lib.db.schema import audit_log
    from lib.domain.settings import get_settings
    store = AppDb(get_settings().audit_db_url).audit
    for i in range(4):
        store.record(operator="kim", action="refund", outcome="sent", correlation_id=f"c{i}", imp_uid=f"imp_{i}")
    anchor = store.anchor().text()
    at = app("app_pages/audit.py").run()
    at.text_input(key="a_anchor").input(anchor).run()
    at.button(key="a_verify").click().run()
    assert "intact: 4 records" in at.success[0].value and "unchanged" in at.success[0].value
    with store.engine.begin() as c:
        c.execute(delete(audit_log).where(audit_log.c.id == 4))
    at.button(key="a_verify").click().run()
    assert "1 of the newest records were removed" in at.error[0].value
    at.text_input(key="a_anchor").input("4:nothex").run()
    at.button(key="a_verify").click().run()
    assert "cannot be read" in at.error[0].value


def test_todays_summary_reads_the_api_once_for_everyone_not_on_every_rerun(app, app_env):
    """오늘의 요약 lists 90 days of pending accounts: a rerun, or a colleague opening the page, is served from the shared
    cache (a write anywhere drops it, as for the other lists)."""
    at = app("app_pages/today.py").run()
    assert not at.exception
    first = len(app_env.requests_seen("/payments/status"))
    assert first >= 2                                             # pending (90 days) and paid (3 days)
    at.run()
    app("app_pages/today.py").run()                               # another session
    assert len(app_env.requests_seen("/payments/status")) == first
