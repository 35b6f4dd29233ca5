"""lib/reports/pending.py: the pending-list frame, filters, summary and exports."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from lib.domain.clock import KST
from lib.domain.fmt import mask_account, mask_phone
from lib.reports import pending

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
    import io

    import openpyxl
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert ws.max_row == 7 and ws.cell(2, 4).value == 1000


def test_time_left_said_once_per_distinct_text_reads_as_row_by_row():
    rng = np.random.default_rng(3)
    secs = np.concatenate([rng.integers(-90 * 86400, 30 * 86400, 3000), [0, -1, 1, -59, 59, -60, 60, 3599, -3599,
                                                                          86399, 86400, -86400, -86401, 86401]])
    s = pd.Series(secs, index=np.arange(len(secs)) * 2)
    got = pending.time_left_column(s)
    assert got.tolist() == [pending.time_left_text(int(x)) for x in secs] and list(got.index) == list(s.index)


def test_the_masked_view_uses_the_masks_made_with_the_frame(frame):
    df = frame
    shown = pending.masked_view(df, reveal=False)
    assert shown["vbank_num"].tolist() == [mask_account(x) for x in df["vbank_num"]]
    assert shown["buyer_tel"].tolist() == [mask_phone(x) for x in df["buyer_tel"]]
    assert pending.masked_view(df, reveal=True)["vbank_num"].tolist() == df["vbank_num"].tolist()


@pytest.mark.parametrize("values", [["40000000123", "1234567", "110-123-456789", "12345", "", "ab12cd345678"],
                                    [str(10**13 + i * 7919) for i in range(50)]])
def test_account_masks_of_a_column_are_the_one_by_one_masks(values):
    s = pd.Series(values, dtype="str")
    assert pending.mask_accounts(s).tolist() == [mask_account(v) for v in values]


def test_phone_masks_of_a_column_are_the_one_by_one_masks():
    values = ["010-1234-5678", "010-123-5678", "01012345678", "+82 10-1234-5678", "", "02-123-4567", "010-12-3"]
    s = pd.Series(values, dtype="str")
    assert pending.mask_phones(s).tolist() == [mask_phone(v) for v in values]
