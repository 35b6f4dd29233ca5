"""The pages read the payments mirror (lib/ui/mirror.py) and say how fresh it is: a second visitor's list costs no
listing of I'mport, the refresh button syncs it (four status listings) and shows what changed, /admin shows it."""

from __future__ import annotations

from tests.pages.conftest import metric


def test_the_pending_list_comes_from_the_mirror_and_says_how_fresh_it_is(app, app_env):
    first = app().run()                       # fills the mirror (its first sync reads the look-back once)
    assert not first.exception
    n = metric(first, "Pending accounts")
    app_env.clear_requests()
    second = app().run()                      # another visitor: the mirror is fresh, no listing of I'mport
    assert metric(second, "Pending accounts") == n
    assert app_env.requests_seen("/payments/status") == []
    caption = next(c.value for c in second.caption if "Last refreshed" in c.value)
    assert "(as of " in caption and " ago)" in caption


def test_the_refresh_button_syncs_the_mirror_and_shows_a_deposit(app, app_env):
    at = app().run()
    before = int(metric(at, "Pending accounts").replace(",", ""))
    target = app_env.pick(status="ready", pg="settle")["imp_uid"]
    app_env.deposit(target)
    app_env.clear_requests()
    at.button(key="pending_refresh").click().run()
    assert {r["path"].rsplit("/", 1)[-1] for r in app_env.requests_seen("/payments/status")} == {
        "ready", "paid", "cancelled", "failed"}
    assert int(metric(at, "Pending accounts").replace(",", "")) == before - 1
    assert target not in set(at.dataframe[0].value["imp_uid"])


def test_admin_shows_the_mirror(app, app_env):
    app().run()
    at = app("app_pages/admin.py").run()
    assert not at.exception
    shown = " ".join(str(t.value) for t in at.table) if at.table else " ".join(str(m.value) for m in at.markdown)
    assert "Payments mirror" in [h.value for h in at.subheader]
    assert "payments in" in shown and "files" in shown


def test_a_reconciliation_exception_changed_since_the_last_sync_is_rechecked_live_before_it_is_shown(
        app, app_env, tmp_path):
    from lib.db.mirror import Mirror
    from tests.pages.test_reconcile_page import frame, sandbox_files

    data, planted, _, _ = sandbox_files(app_env)
    at = app("app_pages/reconcile.py").run()          # the mirror is synced for the period
    assert not at.exception
    target = next(p for p in planted if p["kind"] == "amount_mismatch")
    imp_uid = app_env.api("GET", f"/payments/find/{target['merchant_uid']}").json()["response"]["imp_uid"]
    paid = app_env.api("GET", f"/payments/{imp_uid}").json()["response"]
    from lib.domain import banks
    code = banks.refund_banks(paid["pg_provider"])[0].code          # a bank code this PG takes for refunds
    r = app_env.api("POST", "/payments/cancel", data={    # refunded in the PG's console after the sync
        "imp_uid": imp_uid, "amount": 1000, "reason": "PG 관리자 화면", "checksum": paid["amount"] - paid["cancel_amount"],
        "refund_holder": "홍길동", "refund_bank": code, "refund_account": "110123456789"}).json()
    assert r["code"] == 0, r
    mirror = Mirror(str(tmp_path / "mirror"))
    before = paid["cancel_amount"]
    assert mirror.read(("cancel_amount",), ids=[imp_uid]).to_pylist()[0]["cancel_amount"] == before   # stale so far
    app_env.clear_requests()

    at.get("file_uploader")[0].upload("settlement.csv", data, "text/csv").run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    looked = [q for q in app_env.requests_seen("/payments") if "imp_uid[]" in (q.get("params") or {})]
    assert any(imp_uid in str(q["params"]["imp_uid[]"]) for q in looked)            # read live before shown
    assert mirror.read(("cancel_amount",), ids=[imp_uid]).to_pylist()[0]["cancel_amount"] == before + 1000
    assert target["merchant_uid"] in set(frame(at, "reasons", "file_amount")["merchant_uid"])


def test_search_and_the_summary_say_how_fresh_and_refresh_syncs(app, app_env):
    at = app("app_pages/search.py", q="김").run()
    assert not at.exception
    assert any("(as of " in c.value for c in at.caption)
    app_env.clear_requests()
    at.button(key="sr_refresh").click().run()
    assert {r["path"].rsplit("/", 1)[-1] for r in app_env.requests_seen("/payments/status")} >= {"ready", "paid"}
    td = app("app_pages/today.py").run()
    assert not td.exception
    assert any("(as of " in c.value for c in td.caption) and td.button(key="td_refresh")
