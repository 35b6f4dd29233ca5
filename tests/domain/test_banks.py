"""lib/domain/banks.py: refund bank codes by PG."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lib.domain import banks

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
