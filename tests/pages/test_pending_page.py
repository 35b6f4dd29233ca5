import time
from datetime import datetime

from lib.domain.fmt import krw_compact
from tests.pages.conftest import metric


def test_pending_page_matches_the_sandbox(app, app_env):
    expected = app_env.pending_vbanks()
    at = app().run()
    assert not at.exception
    assert metric(at, "Pending accounts") == f"{len(expected):,}"
    assert metric(at, "Amount that can still arrive") == krw_compact(sum(p["amount"] for p in expected
                                                                        if p["vbank_date"] >= time.time()))
    assert len(at.dataframe[0].value) == len(expected)
    assert any("Last refreshed" in c.value for c in at.caption)


def test_filters_narrow_without_refetching(app, app_env):
    expected = app_env.pending_vbanks()
    at = app().run()
    app_env.clear_requests()
    at.sidebar.multiselect(key="f_pg").select("settle").run()
    kcp = [p for p in expected if p["pg_provider"] == "settle"]
    assert metric(at, "Pending accounts") == f"{len(kcp):,}"
    assert metric(at, "Amount that can still arrive") == krw_compact(sum(p["amount"] for p in kcp
                                                                        if p["vbank_date"] >= time.time()))
    at.sidebar.text_input(key="f_text").input(kcp[0]["merchant_uid"]).run()
    assert metric(at, "Pending accounts") == "1"
    assert app_env.requests_seen("/payments/status") == []          # served from the cache


def test_account_numbers_masked_until_revealed(app, app_env):
    at = app().run()
    nums = at.dataframe[0].value["vbank_num"]
    assert all("*" in n for n in nums)
    at.sidebar.toggle(key="f_reveal").set_value(True).run()
    assert not any("*" in n for n in at.dataframe[0].value["vbank_num"])


def test_selecting_one_row_offers_detail_and_change_links(app, app_env):
    at = app().run()
    first = at.dataframe[0].value.iloc[0]["imp_uid"]
    at.session_state["pending:selected_ids"] = [first]          # the selection is kept as imp_uids
    at.run()
    links = {pl.label: pl for pl in at.get("page_link")}
    assert "Open payment detail" in links and "Change amount / due" in links
    assert first in str(links["Open payment detail"].proto)


def test_refresh_refetches(app, app_env):
    at = app().run()
    app_env.clear_requests()
    at.button(key="pending_refresh").click().run()
    assert len(app_env.requests_seen("/payments/status/ready")) >= 1


def test_api_down_shows_a_sentence_not_a_traceback(app, app_env, monkeypatch):
    import streamlit as st

    from lib.domain.settings import get_settings
    from tests.helpers import free_port
    monkeypatch.setenv("IAMPORT_API_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    st.cache_resource.clear()
    at = app().run()
    assert not at.exception
    assert "Could not load pending accounts" in at.error[0].value


def test_navigation_shows_only_what_the_role_may_use(app, app_env, set_rules):
    import pytest
    set_rules('local_roles = ["viewer"]\n')
    at = app().run()
    assert not at.exception and at.title[0].value == "Pending virtual accounts"
    with pytest.raises(ValueError) as e:                 # a viewer's navigation has no write or admin page
        at.switch_page("app_pages/update.py")
    known = str(e.value).split("Known pages:")[1]
    for page in ("update.py", "refund.py", "admin.py"):
        assert page not in known
    for page in ("pending.py", "payment.py", "approvals.py", "reconcile.py", "audit.py"):
        assert page in known


def test_viewer_sees_no_write_links(app, app_env, set_rules):
    set_rules('local_roles = ["viewer"]\n')
    at = app().run()
    ids = list(at.dataframe[0].value["imp_uid"][:2])
    at.session_state["pending:selected_ids"] = ids
    at.run()
    def actions():            # links to act on the list (the new-deposits strip links each deposit to its payment)
        return [pl.proto.label for pl in at.get("page_link") if not pl.proto.label.endswith(" KST")]
    assert not at.exception and actions() == []
    at.session_state["pending:selected_ids"] = ids[:1]
    at.run()
    assert actions() == ["Open payment detail"]


def test_a_selection_follows_its_payment_not_its_row(app, app_env):
    """Tick the third row, the first one is paid meanwhile, Refresh: the selection still names the same payment
    (row positions moved under it); when the selected one is paid, it is dropped with a notice."""
    at = app().run()
    ids = list(at.dataframe[0].value["imp_uid"][:3])
    at.session_state["pending:selected_ids"] = [ids[2]]
    at.run()
    app_env.deposit(ids[0])
    at.button(key="pending_refresh").click().run()
    assert list(at.dataframe[0].value["imp_uid"][:2]) == ids[1:3]          # the rows moved up
    links = {pl.label: pl for pl in at.get("page_link")}
    assert ids[2] in str(links["Open payment detail"].proto)
    assert at.table[0].value.index.tolist() == [ids[2]]
    app_env.deposit(ids[2])
    at.button(key="pending_refresh").click().run()
    assert "no longer in the list" in at.warning[0].value and ids[2] in at.warning[0].value
    assert not [pl for pl in at.get("page_link") if pl.label == "Open payment detail"]
    at.button(key="pending_refresh").click().run()          # a timer's rerun or a second Refresh: still said
    assert any("no longer in the list" in w.value and ids[2] in w.value for w in at.warning)


def test_filters_live_in_the_url_and_in_named_views(app, app_env):
    now = datetime.now().timestamp()
    expected = [p for p in app_env.pending_vbanks() if p["pg_provider"] == "settle" and p["vbank_date"] < now]
    at = app(pg="settle", due="overdue", q="", min="abc", days="9999").run()      # a shared link (junk ignored)
    assert not at.exception
    assert metric(at, "Pending accounts") == f"{len(expected):,}"
    assert at.sidebar.multiselect(key="f_pg").value == ["settle"] and at.sidebar.number_input(key="f_days").value == 90
    at.sidebar.text_input(key="f_view_name").input("settle 연체")
    at.sidebar.button(key="f_view_save").click().run()
    at.sidebar.multiselect(key="f_pg").set_value([]).run()
    assert dict(at.query_params) == {"due": "overdue"}              # the URL follows the filters
    at.sidebar.selectbox(key="f_view").set_value("settle 연체").run()
    at.sidebar.button(key="f_view_apply").click().run()
    assert metric(at, "Pending accounts") == f"{len(expected):,}"


def test_unknown_pgs_in_a_link_are_dropped(app, app_env):
    at = app(pg="[x](http://evil),settle").run()
    assert not at.exception and at.sidebar.multiselect(key="f_pg").value == ["settle"]


def test_the_days_filter_from_a_link_is_kept_and_an_empty_box_means_the_default(app, app_env):
    at = app(days="30").run()
    assert not at.exception and at.sidebar.number_input(key="f_days").value == 30
    assert not [w for w in at.warning if "default value" in w.value]          # no Session State API warning
    at.sidebar.number_input(key="f_days").set_value(None).run()                # emptied (or re-created empty)
    assert not at.exception and "in the last 90 days" in " ".join(c.value for c in at.caption)


def test_due_soonest_first_overdue_in_their_own_view_with_a_bulk_revoke(app, app_env):
    """Issue 31 §8: the accounts that can still be paid come first, the soonest due on top (long-overdue ones were
    listed first); the overdue ones have their own view, which offers cancelling them all on /revoke; the headline
    amount is what can still arrive, the overdue amount beside it."""
    now = time.time()
    expected = app_env.pending_vbanks()
    live = sorted((p for p in expected if p["vbank_date"] >= now), key=lambda p: p["vbank_date"])
    late = [p for p in expected if p["vbank_date"] < now]
    assert live and late
    at = app().run()
    ids = list(at.dataframe[0].value["imp_uid"])
    assert sorted(ids) == sorted(p["imp_uid"] for p in expected)
    due = {p["imp_uid"]: p["vbank_date"] for p in expected}
    assert set(ids[:len(live)]) == {p["imp_uid"] for p in live}        # every live one first, soonest due on top
    assert [due[i] for i in ids[:len(live)]] == sorted(p["vbank_date"] for p in live)
    assert set(ids[len(live):]) == {p["imp_uid"] for p in late}
    assert metric(at, "Amount that can still arrive") == krw_compact(sum(p["amount"] for p in live))
    assert metric(at, "Overdue amount") == krw_compact(sum(p["amount"] for p in late))
    at.button(key="pending_overdue_view").click().run()
    assert set(at.dataframe[0].value["imp_uid"]) == {p["imp_uid"] for p in late}
    at.button(key="pending_revoke_overdue").click().run()
    assert not at.exception
    from lib.ui import keys
    assert set(at.session_state[keys.BULK_SELECTION]) == {p["imp_uid"] for p in late}
    assert at.title[0].value != "Pending virtual accounts"                # on the revoke page now
