"""Issue 31 pages in Korean over the sandbox: 오늘의 요약 (지난 영업일 이후 beside a week earlier, units on every figure),
입금 예정 (no statement: said, nothing claimed) and 회계 전표 (balanced, the template's columns), no "nan" anywhere."""

from __future__ import annotations

from tests.pages.test_korean_pages import assert_korean, korean_app  # noqa: F401 - the fixture


def cells(at) -> list[str]:
    return [str(v) for df in at.dataframe for v in df.value.astype(str).to_numpy().ravel()]


def test_todays_summary_says_since_the_last_business_day_with_units(korean_app, app_env):  # noqa: F811
    at = korean_app("app_pages/today.py").run()
    assert_korean(at)
    assert any(h.value.startswith("지난 영업일 이후") for h in at.subheader)
    labels = [m.label for m in at.metric]
    assert {"입금", "환불", "발급취소", "새 가상계좌"} <= set(labels)
    assert all(m.value.endswith("건") or m.value.startswith("₩") for m in at.metric), [m.value for m in at.metric]
    assert any("한 주 전" in c.value for c in at.caption)
    assert any("입금 내역" in i.value for i in at.info)          # no statement matched: said, nothing claimed


def test_payouts_ahead_in_korean_without_a_statement(korean_app, app_env):  # noqa: F811
    at = korean_app().run()                  # its URL (/payouts) is not its file name: switch after a first run
    at.switch_page("app_pages/payouts_ahead.py").run()
    assert_korean(at)
    assert at.title[0].value == "입금 예정"
    assert any("아직 대조한 은행 입금 내역이 없어" in i.value for i in at.info)
    shown = cells(at)
    assert shown and not any(v in ("nan", "None", "NaT") for v in shown)
    assert "입금 지연" not in shown                                  # nothing is late without a statement
    assert not any(c in shown for c in ("html5_inicis", "tosspayments", "settle", "kcp"))   # names, not codes


def test_journal_page_balances_in_the_templates_columns(korean_app, app_env):  # noqa: F811
    at = korean_app("app_pages/journal.py").run()
    assert_korean(at)
    df = at.dataframe[0].value
    assert list(df.columns) == ["전표일자", "전표번호", "차대구분", "계정코드", "계정과목", "차변금액", "대변금액", "거래처",
                                "적요"]
    assert df["차변금액"].str.startswith("₩").all()                   # every amount with its unit
    won = df.assign(d=df["차변금액"].str.replace(r"[₩,]", "", regex=True).astype(int),
                    c=df["대변금액"].str.replace(r"[₩,]", "", regex=True).astype(int))
    assert won["d"].sum() == won["c"].sum() > 0
    assert all((g["d"].sum() == g["c"].sum()) for _n, g in won.groupby("전표번호"))
    assert at.success and "차변" in at.success[0].value
    assert not any(v in ("nan", "None", "NaT") for v in cells(at))
