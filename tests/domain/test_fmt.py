"""lib/domain/fmt.py: won, KST, durations, masking."""

from __future__ import annotations

from datetime import datetime, timedelta

from lib.domain.clock import KST
from lib.domain.fmt import duration, krw, krw_compact, kst, mask_account, mask_phone, time_left


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


def test_compact_won_fits_a_metric(korean):
    assert krw_compact(999_999) == "₩999,999" and krw_compact(1_375_000) == "₩138만"
    assert krw_compact(9_999_999) == "₩1,000만"
    assert krw_compact(31_858_500) == "₩3,186만" and krw_compact(-16_558_600) == "-₩1,656만"
    assert krw_compact(1_234_567_890) == "₩12억 3,457만" and krw_compact(300_000_000) == "₩3억"
