"""lib/reports/refundable.py and lib/ui/present.py: holder check, typed amount, fee presentation."""

from __future__ import annotations

from lib.domain import fees
from lib.domain.fmt import krw
from lib.domain.settings import FeeRule
from lib.ui import present as ui_present


def test_refund_helpers():
    from lib.domain.rules import holder_matches
    from lib.reports import refundable as refund
    assert holder_matches("홍 길동", "홍길동") and holder_matches("Kim Min", "kim  min")
    assert not holder_matches("", "") and not holder_matches("홍길동", "홍길순")
    assert refund.holder_check_key("BK88", "110-123", "홍 길동") == refund.holder_check_key("BK88", "110123", "홍길동")
    assert refund.holder_check_key("BK88", "110123", "a") != refund.holder_check_key("BK88", "110124", "a")
    assert refund.typed_amount_ok("₩1,000,000", 1_000_000) and not refund.typed_amount_ok("100000", 1_000_000)
    f = fees.fee_impact(10_000, 0, 10_000, FeeRule(vat_on_fees=False))
    wf = ui_present.waterfall(f)
    assert list(wf["step"]) == ["Payment", "Issuance fee", "This refund", "Remittance fee", "Net result"]
    assert wf.iloc[-1]["end"] == -600 == f.net_after
    assert "This refund costs you ₩10,300" in ui_present.cost_sentence(f)
    rows = {r[""]: r["Amount"] for r in ui_present.fee_rows(fees.fee_impact(10_000, 2_000, 3_000, FeeRule(vat_on_fees=False), 1))}
    assert rows["Balance that stays paid (refundable later)"] == "₩5,000"
    assert rows["Your net result for this payment after the refund"] == krw(9_700 - 2_000 - 300 - 3_300)
