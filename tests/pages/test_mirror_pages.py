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
