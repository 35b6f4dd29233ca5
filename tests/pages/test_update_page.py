"""The change form: review diff, confirmation dialog, refusals, bulk extension."""

from __future__ import annotations

from datetime import datetime, timedelta

from lib.domain.clock import KST
from lib.ui import keys


def ready(app_env, pg="settle", where=None):
    return app_env.pick(status="ready", pg=pg, where=where or (lambda x: x["vbank_date"] > datetime.now().timestamp()))


def button(at, key):
    return at.button(key=key)


def test_change_amount_and_due_end_to_end(app, app_env):
    p = ready(app_env)
    at = app("app_pages/update.py", imp_uid=p["imp_uid"]).run()
    assert not at.exception
    new_due = (datetime.now(KST) + timedelta(days=4)).replace(hour=18, minute=0, second=0, microsecond=0)
    at.text_input(key="new_amount").input(f"{p['amount'] + 2500:,}")
    at.date_input(key="new_due_date").set_value(new_due.date())
    at.time_input(key="new_due_time").set_value(new_due.time())
    at.text_input(key="note").input("customer asked")
    at.button(key="upd_review").click().run()
    assert not at.error, [e.value for e in at.error]
    diff = at.table[0].value
    assert list(diff.index) == ["Amount", "Due (KST)"]
    assert diff.loc["Amount", "Change"] == "+₩2,500"
    app_env.clear_requests()
    button(at, "upd_send").click().run()
    assert button(at, "upd_go").label == "Confirm and send"          # the dialog is open
    button(at, "upd_go").click().run()
    assert "The virtual account was updated." in at.success[0].value
    puts = app_env.requests_seen("/vbanks/", "PUT")
    assert len(puts) == 1
    assert puts[0]["params"] == {"amount": p["amount"] + 2500, "vbank_due": int(new_due.timestamp())}
    after = app_env.api("GET", f"/payments/{p['imp_uid']}").json()["response"]
    assert (after["amount"], after["vbank_date"]) == (p["amount"] + 2500, int(new_due.timestamp()))
    from lib.db.appdb import AppDb
    from lib.domain.settings import get_settings
    rec = AppDb(get_settings().audit_db_url).audit.records(imp_uid=p["imp_uid"])
    assert sorted(rec["outcome"]) == ["sent", "succeeded"] and set(rec["operator"]) == {"tester@example.com"}
    # rerunning the page does not send again
    at.run()
    assert len(app_env.requests_seen("/vbanks/", "PUT")) == 1


def test_invalid_amount_is_explained_and_nothing_sent(app, app_env):
    p = ready(app_env)
    at = app("app_pages/update.py", imp_uid=p["imp_uid"]).run()
    app_env.clear_requests()
    at.text_input(key="new_amount").input("0")
    at.button(key="upd_review").click().run()
    assert "more than ₩0" in at.error[0].value
    assert not at.table and app_env.requests_seen("/vbanks/") == []


def test_nothing_changed(app, app_env):
    p = ready(app_env)
    at = app("app_pages/update.py", imp_uid=p["imp_uid"]).run()
    at.button(key="upd_review").click().run()
    assert "Nothing changed" in at.error[0].value


def test_unsupported_pg_explains_why(app, app_env):
    p = ready(app_env, pg="danal_tpay", where=lambda x: True)
    at = app("app_pages/update.py", imp_uid=p["imp_uid"]).run()
    assert "not offered for PG 다날 (danal_tpay)" in at.warning[0].value
    assert not [n for n in at.text_input if n.key == "new_amount"]        # no form offered


def test_paid_between_review_and_confirm_is_refused(app, app_env):
    p = ready(app_env)
    at = app("app_pages/update.py", imp_uid=p["imp_uid"]).run()
    at.text_input(key="new_amount").input(str(p["amount"] + 1000))
    at.button(key="upd_review").click().run()
    button(at, "upd_send").click().run()
    app_env.deposit(p["imp_uid"])             # the customer pays meanwhile
    app_env.clear_requests()
    button(at, "upd_go").click().run()
    assert "changed since you loaded it" in at.warning[0].value and "status is now Paid" in at.warning[0].value
    assert app_env.requests_seen("/vbanks/", "PUT") == []


def test_api_refusal_is_quoted(app, app_env, monkeypatch):
    monkeypatch.setenv("VBANK_RULES_FILE", str(write_rules(app_env)))
    from lib.domain.settings import get_settings
    get_settings.cache_clear()
    p = ready(app_env, pg="daou", where=lambda x: True)
    at = app("app_pages/update.py", imp_uid=p["imp_uid"]).run()
    at.text_input(key="new_amount").input(str(p["amount"] + 1000))
    at.button(key="upd_review").click().run()
    button(at, "upd_send").click().run()
    button(at, "upd_go").click().run()
    assert "daou는 가상계좌 정보 수정을 지원하지 않습니다." in at.error[0].value


def write_rules(app_env):
    import tempfile
    from pathlib import Path
    f = Path(tempfile.mkdtemp()) / "rules.toml"
    f.write_text('vbank_update_pgs = ["settle", "daou"]\n')
    return f


def test_bulk_extend(app, app_env):
    now = datetime.now().timestamp()
    targets = [p for p in app_env.pending_vbanks() if p["pg_provider"] in ("settle", "kcp", "tosspayments")
               and p["vbank_date"] > now][:3]
    other = app_env.pick(status="ready", pg="danal_tpay", where=lambda x: True)
    at = app("app_pages/bulk.py")
    at.session_state[keys.BULK_SELECTION] = [t["imp_uid"] for t in targets] + [other["imp_uid"]]
    at.run()
    assert not at.exception
    preview = at.dataframe[0].value
    assert list(preview["check"][:3]) == ["ok"] * 3 and "not offered" in preview["check"].iloc[3]
    app_env.clear_requests()
    at.button(key="bulk_send").click().run()
    at.button(key="bulk_go").click().run()
    result = at.dataframe[-1].value
    # every row given is in the result: the three changed, the refused one with its full reason
    assert list(result["outcome"]) == ["applied"] * 3 + ["refused"]
    assert result["imp_uid"].iloc[3] == other["imp_uid"] and "not offered" in result["message"].iloc[3]
    assert len(app_env.requests_seen("/vbanks/", "PUT")) == 3
    for t in targets:
        after = app_env.api("GET", f"/payments/{t['imp_uid']}").json()["response"]
        assert after["vbank_date"] == t["vbank_date"] + 3 * 86400


def test_bulk_refuses_garbage_ids_before_reading(app, app_env):
    at = app("app_pages/bulk.py")
    at.session_state[keys.BULK_SELECTION] = ["imp_1", "[x](http://evil)", "imp_2"]
    app_env.clear_requests()
    at.run()
    assert "Line 2 is not an imp_uid" in at.error[0].value and app_env.requests_seen("/payments") == []
    at.text_area(key="bulk_ids").input("\n".join(f"imp_{i}" for i in range(500))).run()
    assert "At most 200 accounts" in at.error[0].value and app_env.requests_seen("/payments") == []
