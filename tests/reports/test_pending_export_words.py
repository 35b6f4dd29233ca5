"""Issue 31 points 6 and 7 in the pending export: PG names, not codes; the status in words; time left as a number."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pandas as pd
import pytest

from lib.domain.clock import KST
from lib.domain.i18n import lang, set_lang
from lib.reports import pending

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=KST)


def _row(i, hours, pg):
    due = int((NOW + timedelta(hours=hours)).timestamp())
    return {"imp_uid": f"imp_{i}", "merchant_uid": f"ord_{i}", "buyer_name": "홍길동", "buyer_tel": "010-1234-5678",
            "amount": 10000 * i, "vbank_code": "004", "vbank_name": "KB국민은행", "vbank_num": "12345678901234",
            "vbank_holder": "상점", "pg_provider": pg, "vbank_issued_at": due - 86400 * 3, "started_at": due - 86400 * 3,
            "vbank_date": due, "name": "x"}


@pytest.fixture
def korean():
    before = lang()
    set_lang("ko")
    yield
    set_lang(before)


def test_the_pending_export_names_pgs_says_the_status_and_counts_hours(korean):
    frame = pending.build_frame([_row(1, -30, "html5_inicis"), _row(2, 5.5, "tosspayments"), _row(3, 49, "nice")], NOW)
    out = pending.export_frame(frame, reveal=False)
    text = pending.to_csv_bytes(out).decode("utf-8-sig")
    assert "KG이니시스" in text and "토스페이먼츠" in text and "나이스페이먼츠" in text
    assert out["PG"].tolist() == ["KG이니시스 (html5_inicis)", "토스페이먼츠 (tosspayments)", "나이스페이먼츠 (nice)"]
    assert out["상태"].tolist() == ["기한 경과", "입금대기", "입금대기"]
    hours = [c for c in out.columns if c.startswith("남은 시간")][0]
    assert pd.api.types.is_float_dtype(out[hours]) and out[hours].tolist() == [-30.0, 5.5, 49.0]
    from python_calamine import CalamineWorkbook
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(pending.to_xlsx_bytes(out))).get_sheet_by_index(0).to_python()
    col = sheet[0].index(hours)
    assert [r[col] for r in sheet[1:]] == [-30.0, 5.5, 49.0]                 # numbers in Excel, not "1d 6h overdue"
