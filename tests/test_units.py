"""Pure functions: formatting, masking, settings, pending frame, fees, bank codes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from lib import banks, fees, pending
from lib.fmt import duration, krw, kst, mask_account, mask_phone, time_left
from lib.models import KST, Payment
from lib.settings import FeeRule, LIVE_URL, SANDBOX_URL, load_settings


def test_krw():
    assert krw(1234000) == "₩1,234,000"
    assert krw(0) == "₩0"
    assert krw(-1000) == "-₩1,000"


def test_kst_and_durations():
    d = datetime(2026, 1, 2, 3, 4, 5, tzinfo=KST)
    assert kst(d) == "2026-01-02 03:04 KST"
    assert duration(timedelta(days=2, hours=3, minutes=5)) == "2d 3h"
    now = datetime(2026, 1, 1, tzinfo=KST)
    assert time_left(now + timedelta(hours=5), now) == "5h 0m left"
    assert time_left(now - timedelta(days=1, hours=2), now) == "overdue by 1d 2h"


def test_masking():
    assert mask_account("110-123-456789") == "110-***-***789"
    assert mask_account("61703774896139") == "617********139"
    assert mask_phone("010-9840-8801") == "010-****-8801"
    assert mask_account("") == ""


def test_settings_default_to_sandbox_and_switch_to_live_with_keys(tmp_path):
    s = load_settings(env={"VBANK_SECRETS_FILE": str(tmp_path / "none.toml")})
    assert s.api_url == SANDBOX_URL and s.is_sandbox
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('IAMPORT_IMP_KEY = "k123"\nIAMPORT_IMP_SECRET = "s-very-secret"\n')
    live = load_settings(env={"VBANK_SECRETS_FILE": str(secrets)})
    assert live.api_url == LIVE_URL and not live.is_sandbox
    assert "s-very-secret" not in repr(live) and "s-very-secret" not in str(live.model_dump())
    env = load_settings(env={"VBANK_SECRETS_FILE": str(secrets), "IAMPORT_IMP_KEY": "from-env"})
    assert env.imp_key.get_secret_value() == "k123"   # secrets.toml overrides the environment
    with pytest.raises(ValueError):
        load_settings(env={"IAMPORT_API_URL": "https://api.iamport.kr", "VBANK_SECRETS_FILE": str(tmp_path / "x")})


def test_payment_model_tolerates_unknown_fields_and_converts():
    p = Payment.model_validate({"imp_uid": "imp_1", "merchant_uid": "m", "amount": 1000.0, "cancel_amount": 0,
                                "currency": "KRW", "status": "ready", "vbank_date": 1700000000, "paid_at": 0,
                                "brand_new_field": {"x": 1}})
    assert p.amount == 1000 and p.paid_at is None and p.vbank_date.tzinfo is not None
    with pytest.raises(ValueError):
        Payment.model_validate({"imp_uid": "i", "merchant_uid": "m", "amount": 10.5, "status": "paid"})


NOW = datetime(2026, 11, 21, 12, 0, tzinfo=KST)


def _row(i, due_offset_h, amount=10000, pg="kcp", bank="KB국민은행", buyer="홍길동"):
    due = int((NOW + timedelta(hours=due_offset_h)).timestamp())
    return {"imp_uid": f"imp_{i}", "merchant_uid": f"ord_{i}", "buyer_name": buyer, "buyer_tel": "010-1234-5678",
            "amount": amount, "vbank_code": "004", "vbank_name": bank, "vbank_num": "12345678901234",
            "vbank_holder": "상점", "pg_provider": pg, "vbank_issued_at": due - 86400 * 3, "started_at": due - 86400 * 3,
            "vbank_date": due, "name": "x"}


@pytest.fixture
def frame():
    rows = [_row(1, -30, 1000), _row(2, -1, 2000, pg="settle"), _row(3, 5, 3000, bank="신한은행"),
            _row(4, 40, 4000, buyer="김철수"), _row(5, 24 * 6, 5000), _row(6, 24 * 20, 6000)]
    return pending.build_frame(rows, NOW)


def test_summary(frame):
    s = pending.summarize(frame, NOW)
    assert (s.count, s.total) == (6, 21000)
    assert (s.overdue_count, s.overdue_amount) == (2, 3000)
    assert (s.due_today_count, s.due_today_amount) == (1, 3000)   # 17:00 KST today, not yet overdue


@pytest.mark.parametrize("flt,expected", [
    (pending.PendingFilter(due_window="overdue"), {1, 2}),
    (pending.PendingFilter(due_window="today"), {2, 3}),
    (pending.PendingFilter(due_window="next3"), {3, 4}),
    (pending.PendingFilter(due_window="next7"), {3, 4, 5}),
    (pending.PendingFilter(due_window="custom", due_from=date(2026, 11, 27), due_to=date(2026, 12, 31)), {5, 6}),
    (pending.PendingFilter(pgs=["settle"]), {2}),
    (pending.PendingFilter(banks=["신한은행"]), {3}),
    (pending.PendingFilter(amount_min=2000, amount_max=4000), {2, 3, 4}),
    (pending.PendingFilter(text="김철"), {4}),
    (pending.PendingFilter(text="ORD_6"), {6}),
])
def test_filters(frame, flt, expected):
    got = pending.apply_filter(frame, flt, NOW)
    assert {int(x.split("_")[1]) for x in got["imp_uid"]} == expected


def test_exports(frame):
    out = pending.export_frame(frame, reveal=False)
    csv = pending.to_csv_bytes(out)
    assert csv.startswith(b"\xef\xbb\xbf")          # BOM for Excel
    text = csv.decode("utf-8-sig")
    assert "홍길동" in text and "123********234" in text and "12345678901234" not in text
    assert out["Amount (KRW)"].tolist() == [1000, 2000, 3000, 4000, 5000, 6000]
    xlsx = pending.to_xlsx_bytes(out)
    import openpyxl, io
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert ws.max_row == 7 and ws.cell(2, 4).value == 1000


# ------------------------------------------------------------------ fees
def test_fee_example_from_the_product_document():
    """10,000 won paid: merchant settled 9,700; a full refund costs it 10,300."""
    f = fees.fee_impact(10_000, 0, 10_000, FeeRule())
    assert (f.settled, f.refund_cost, f.net_after, f.balance_after) == (9_700, 10_300, -600, 0)


def test_fee_with_vat():
    f = fees.fee_impact(10_000, 0, 10_000, FeeRule(vat_on_fees=True))
    assert (f.issuance_fee, f.remittance_fee, f.refund_cost) == (330, 330, 10_330)


@given(amount=st.integers(1, 10**9), data=st.data(), issuance=st.integers(0, 5000), remit=st.integers(0, 5000),
       vat=st.booleans(), prev=st.integers(0, 5))
def test_fee_arithmetic_properties(amount, data, issuance, remit, vat, prev):
    refunded = data.draw(st.integers(0, amount - 1))
    refund = data.draw(st.integers(1, amount - refunded))
    rule = FeeRule(issuance_fee=issuance, remittance_fee=remit, vat_on_fees=vat)
    f = fees.fee_impact(amount, refunded, refund, rule, previous_refunds=prev)
    assert f.refund_cost == refund + f.remittance_fee
    assert f.balance_after == amount - refunded - refund >= 0
    # everything the customer keeps paid minus every fee = merchant's net
    assert f.net_after == f.balance_after - f.fees_total
    assert f.remittance_fee == remit + ((remit * 10 + 50) // 100 if vat else 0)   # 10% VAT, half up to the won


@given(amount=st.integers(1, 10**6), data=st.data())
def test_fee_rejects_impossible_refunds(amount, data):
    bad = data.draw(st.one_of(st.integers(max_value=0), st.integers(min_value=amount + 1)))
    with pytest.raises(ValueError):
        fees.fee_impact(amount, 0, bad, FeeRule())


# ------------------------------------------------------------------ banks
PGS = sorted(banks.PG_TABLE)


@given(pg=st.sampled_from(PGS))
def test_every_bank_offered_maps_to_that_pgs_code(pg):
    offered = banks.refund_banks(pg)
    assert offered
    codes = [b.code for b in offered]
    assert len(set(codes)) == len(codes)                  # one bank per code
    for b in offered:
        assert banks.bank_by_code(pg, b.code) == b
        if banks.PG_TABLE[pg] == "kcp":
            assert b.code == "BK" + b.kftc[1:]
        elif banks.PG_TABLE[pg] == "inicis":
            assert b.code == b.kftc[1:] and len(b.code) == 2
        elif banks.PG_TABLE[pg] in ("kftc", "nice_v2", "welcome"):
            assert b.code == b.kftc and len(b.code) == 3


@given(pg=st.sampled_from(["nice_v2", "welcome", "daou"]), key=st.sampled_from(sorted(banks.BANKS)))
def test_banks_a_pg_lacks_are_not_offered(pg, key):
    offered = {b.key for b in banks.refund_banks(pg)}
    lacks = {"nice_v2": {"KYONGNAM", "KDB", "MG", "SUHYUP", "CU", "JEONBUK", "NHLIVESTOCK", "KAKAO", "CITI", "TOSS"},
             "welcome": {"SC", "NH", "KDB", "MG", "CU", "POST", "NHLIVESTOCK", "KAKAO", "CITI", "TOSS"},
             "daou": {"KYONGNAM", "GWANGJU", "DGB", "KDB", "MG", "SUHYUP", "CU", "JEONBUK", "NHLIVESTOCK",
                      "KAKAO", "KBANK", "CITI", "TOSS"}}[pg]
    assert (key in offered) == (key not in lacks)


def test_known_codes_from_the_document():
    assert banks.bank_by_code("kcp", "BK88").key == "SHINHAN"
    assert banks.bank_by_code("html5_inicis", "88").key == "SHINHAN"
    assert banks.bank_by_code("daou", "10").key == "SHINHAN"
    assert banks.bank_by_code("tosspayments", "088").key == "SHINHAN"
    assert banks.bank_by_code("kcp", "088") is None
    assert banks.refund_banks("some_unknown_pg") == []


# ------------------------------------------------------------------ cache
def test_ttl_cache_single_flight_and_clear():
    import threading
    from lib.cache import TTLCache
    c = TTLCache(ttl=60)
    calls, gate = [], threading.Event()

    def loader():
        calls.append(1)
        gate.wait(5)
        return len(calls)

    out = []
    ts = [threading.Thread(target=lambda: out.append(c.get_or_load("k", loader)[0])) for _ in range(4)]
    for t in ts:
        t.start()
    gate.set()
    for t in ts:
        t.join()
    assert calls == [1] and out == [1, 1, 1, 1]
    c.clear()
    assert c.get_or_load("k", loader)[0] == 2


def test_ttl_cache_drops_a_result_loaded_across_a_clear():
    from lib.cache import TTLCache
    c = TTLCache(ttl=60)

    def loader():
        c.clear()                      # a write happened while we were loading
        return "stale"

    assert c.get_or_load("k", loader)[0] == "stale"
    assert c.get_or_load("k", lambda: "fresh")[0] == "fresh"


# ------------------------------------------------------------------ refund helpers
def test_refund_helpers():
    from lib import refund
    assert refund.holder_matches("홍 길동", "홍길동") and refund.holder_matches("Kim Min", "kim  min")
    assert not refund.holder_matches("", "") and not refund.holder_matches("홍길동", "홍길순")
    assert refund.holder_check_key("BK88", "110-123", "홍 길동") == refund.holder_check_key("BK88", "110123", "홍길동")
    assert refund.holder_check_key("BK88", "110123", "a") != refund.holder_check_key("BK88", "110124", "a")
    assert refund.typed_amount_ok("₩1,000,000", 1_000_000) and not refund.typed_amount_ok("100000", 1_000_000)
    f = fees.fee_impact(10_000, 0, 10_000, FeeRule())
    wf = refund.waterfall(f)
    assert list(wf["step"]) == ["Payment", "Issuance fee", "This refund", "Remittance fee", "Net result"]
    assert wf.iloc[-1]["end"] == -600 == f.net_after
    assert "This refund costs you ₩10,300" in refund.cost_sentence(f)
    rows = {r[""]: r["Amount"] for r in refund.fee_rows(fees.fee_impact(10_000, 2_000, 3_000, FeeRule(), 1))}
    assert rows["Balance that stays paid (refundable later)"] == "₩5,000"
    assert rows["Your net result for this payment after the refund"] == krw(9_700 - 2_000 - 300 - 3_300)


def test_rules_example_file_matches_the_defaults():
    from lib.settings import ROOT, Rules
    s = load_settings(env={"VBANK_SECRETS_FILE": "/nonexistent", "VBANK_RULES_FILE": str(ROOT / "vbank-desk.toml.example")})
    defaults = Rules().model_dump()
    got = s.rules.model_dump()
    assert got["roles"] == {"viewer": ["*"]}
    got["roles"] = defaults["roles"]
    assert got == defaults
