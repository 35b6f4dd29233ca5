"""Every page in Korean (the default): each text shown comes from the Korean catalog, and every label, title,
button, metric and message a person reads is Korean (ids, amounts and names from the API aside)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from lib.domain import i18n

HANGUL = range(0xAC00, 0xD7A4)
NOT_WORDS = {"PG", "imp_uid", "vbank-desk"}          # proper names and ids that are the same in Korean


@pytest.fixture
def korean_app(app, monkeypatch):
    monkeypatch.setenv("VBANK_LANG", "ko")
    i18n.MISSING.clear()
    yield app
    i18n._current.set(None)


def korean(text: str) -> bool:
    return any(ord(c) in HANGUL for c in text)


def words_shown(at: AppTest) -> list[tuple[str, str]]:
    """(kind, text) of everything a person reads as the page's own words (not table cells)."""
    out = []
    for kind in ("title", "header", "subheader", "button", "text_input", "selectbox", "multiselect", "number_input",
                 "date_input", "time_input", "toggle", "radio", "checkbox", "text_area", "metric", "tabs",
                 "expander", "info", "warning", "error", "success", "caption"):
        for el in getattr(at, kind):
            text = getattr(el, "label", None) if kind not in ("title", "header", "subheader", "info", "warning", "caption",
                                                             "error", "success") else el.value
            if text:
                out.append((kind, str(text)))
    return out


def table_headers(at: AppTest) -> list[tuple[str, str]]:
    """The column headers a person sees: st.dataframe's labels (its column config, in the shown order) and
    st.table's headers."""
    out = []
    for d in at.dataframe:
        cfg = json.loads(d.proto.columns or "{}")
        for col in list(d.proto.column_order) or [str(c) for c in d.value.columns]:
            c = cfg.get(col, {})
            if not c.get("hidden"):
                out.append(("dataframe column", c.get("label") or col))
    for t in at.table:
        out += [("table column", str(c)) for c in t.value.columns if str(c)]
    return out


def assert_korean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not i18n.MISSING, sorted(i18n.MISSING)
    english = [(k, t) for k, t in words_shown(at) + table_headers(at) if not korean(t) and t.strip() not in NOT_WORDS]
    assert not english, english


def test_pending_page_in_korean(korean_app, app_env):
    at = korean_app().run()
    assert_korean(at)
    assert at.title[0].value == "입금대기 가상계좌"
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["입금대기 계좌", "입금 가능 금액"] and at.metric[1].value.startswith("₩")
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    enc = charts[0]["encoding"]                                      # by due date: axes in Korean, dates as 11-21
    assert (enc["x"]["title"], enc["y"]["title"], enc["x"]["axis"]["format"]) == ("입금기한일(KST)", "금액(₩)", "%m-%d")
    assert charts[1]["encoding"]["y"]["title"] == "PG"


def test_payment_page_in_korean(korean_app, app_env):
    p = app_env.pick(status="paid", where=lambda x: x["cancel_amount"] > 0)
    at = korean_app("app_pages/payment.py", imp_uid=p["imp_uid"]).run()
    assert_korean(at)
    status = next(m for m in at.metric if m.label == "상태")
    assert status.value == "부분취소"                       # paid, part of it refunded (issue 31: 부분취소, not 결제완료)
    story = next(d.value for d in at.dataframe if "내역" in d.value.columns)
    assert "환불 접수" in story["내역"].tolist()


def test_change_page_in_korean(korean_app, app_env):
    p = app_env.pick(status="ready", where=lambda x: x["pg_provider"] == "settle")
    at = korean_app("app_pages/update.py", imp_uid=p["imp_uid"]).run()
    assert_korean(at)
    at.text_input(key="new_amount").set_value("1,234,000").run()
    at.button(key="upd_review").click().run() if any(b.key == "upd_review" for b in at.button) else None
    assert_korean(at)


def test_refund_wizard_step_one_in_korean(korean_app, app_env):
    p = app_env.pick(status="paid", where=lambda x: x["pay_method"] == "vbank" and x["cancel_amount"] == 0)
    at = korean_app("app_pages/refund.py", imp_uid=p["imp_uid"]).run()
    assert_korean(at)


@pytest.mark.parametrize("page", ["app_pages/bulk.py", "app_pages/approvals.py", "app_pages/reconcile.py", "app_pages/audit.py",
                                  "app_pages/search.py", "app_pages/revoke.py", "app_pages/today.py",
                                  "app_pages/admin.py"])
def test_other_pages_in_korean(korean_app, app_env, page):
    at = korean_app(page).run()
    assert_korean(at)


def test_the_sidebar_switch_turns_the_screens_english(korean_app, app_env):
    at = korean_app().run()
    assert at.title[0].value == "입금대기 가상계좌"
    at.session_state["ui_lang_choice"] = "en"       # what the switch's callback keeps
    at.run()
    assert at.title[0].value == "Pending virtual accounts" and not at.exception
    at.switch_page("app_pages/refund.py").run()          # a page that stops early keeps the choice too
    at.switch_page("app_pages/pending.py").run()
    assert at.title[0].value == "Pending virtual accounts"


def test_a_link_with_lang_opens_in_that_language_and_a_choice_is_kept_in_the_url(korean_app, app_env):
    """Issue 19 §5: ``?lang=en`` opens English on a Korean desk; a choice made in the sidebar is written into the URL
    (a reload or a copied link keeps it); a made-up value changes nothing."""
    at = korean_app(lang="en").run()
    assert at.title[0].value == "Pending virtual accounts"
    at = korean_app(lang="xx").run()
    assert at.title[0].value == "입금대기 가상계좌"                  # ignored
    at.session_state["ui_lang_choice"] = "en"
    at.run()
    assert at.query_params["lang"] in ("en", ["en"])
    again = korean_app(lang="en").run()                             # a reload: a new session with the same URL
    assert again.title[0].value == "Pending virtual accounts"

