"""The fast readings of a settlement file (issue 33's month end) give exactly the careful reading's table: a CP949
file parsed from its own bytes (only its distinct non-ASCII values decoded) and the total rows found through their
first characters."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from lib.reports.recon import formats, grid
from lib.reports.recon.grid import LIMITS
from lib.reports.recon.layouts import HEADER_WORDS

ROWS = [
    "거래일자,구분,주문번호,PG거래번호,결제수단,거래금액,수수료,PG사,메모",
    '2026.10.01,입금,ord_1,T1,가상계좌,"12,000",300,KG이니시스,첫 입금',
    "2026.10.01,취소,ord_2,T2,가상계좌,-5000,300,토스페이먼츠,부분 환불 (고객 요청)",
    "2026.10.02,입금,ord_3,T3,가상계좌,9900,300,kcp,",
    "2026.10.02,입금,ord_4,T4,가상계좌,9900,300,kcp,뷁똠햏 읊",     # CP949-only syllables (UHC)
]


def _file(lines: list[str], enc: str = "cp949", sep: str = ",") -> bytes:
    return ("\r\n".join(line.replace(",", sep) for line in lines) + "\r\n").encode(enc)


def _both(data: bytes) -> tuple[grid.Table, grid.Table]:
    fast = formats._read_text(data, "f.csv", HEADER_WORDS, None, LIMITS)
    careful = formats._read_text(data, "f.csv", HEADER_WORDS, None, LIMITS, as_is=False)
    return fast, careful


def _same_or_same_error(data: bytes) -> None:
    try:
        careful = formats._read_text(data, "f.csv", HEADER_WORDS, None, LIMITS, as_is=False)
    except grid.ReconFileError as e:
        with pytest.raises(grid.ReconFileError) as fast_e:
            formats._read_text(data, "f.csv", HEADER_WORDS, None, LIMITS)
        assert str(fast_e.value) == str(e)
        return
    _same(formats._read_text(data, "f.csv", HEADER_WORDS, None, LIMITS), careful)


def _same(a: grid.Table, b: grid.Table) -> None:
    pdt.assert_frame_equal(a.df, b.df)
    assert (a.header_row, a.encoding, a.delimiter, a.title, a.dropped) == \
        (b.header_row, b.encoding, b.delimiter, b.title, b.dropped)


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_cp949_from_its_own_bytes_without_transcoding_the_file(sep: str, monkeypatch: pytest.MonkeyPatch) -> None:
    title = ["정산내역 조회", "기간: 2026.10.01 ~ 2026.10.31", ""]
    lines = title + ROWS + ["합계,,,,,\"26,800\",1200,,", ",,,,,,,,※ 취소 건은 음수로 표시됩니다"]
    data = _file(lines, sep=sep)
    careful = formats._read_text(data, "f.csv", HEADER_WORDS, None, LIMITS, as_is=False)
    whole: list[int] = []
    real = formats._transcode

    def spy(d: bytes, enc: str, *, keep: bool) -> bytearray | None:
        if keep:
            whole.append(len(d))
        return real(d, enc, keep=keep)
    monkeypatch.setattr(formats, "_transcode", spy)
    fast = formats._read_text(data, "f.csv", HEADER_WORDS, None, LIMITS)
    assert whole == []                                  # the file was never transcoded whole
    _same(fast, careful)
    assert fast.encoding == "cp949" and fast.df.loc[8, "메모"] == "뷁똠햏 읊"
    assert fast.df["구분"].tolist() == ["입금", "취소", "입금", "입금"]
    assert set(fast.dropped) == {"total", "note"}


def test_cp949_fast_reading_steps_aside_when_it_cannot_be_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    # a pipe is also the second byte of some CP949 characters; a note or a ragged row (Arrow hands its text over as
    # UTF-8); too many distinct Korean values
    _same(*_both(_file(ROWS, sep="|")))
    _same(*_both(_file([*ROWS, "※ 취소 건은 음수로 표시됩니다"])))
    _same_or_same_error(_file([*ROWS[:3], "2026.10.03,입금,ord_9", *ROWS[3:]]))
    monkeypatch.setattr(formats, "_DISTINCT_MAX", 2)
    _same(*_both(_file(ROWS)))


def test_broken_cp949_cell_is_read_the_careful_way() -> None:
    data = _file(ROWS[:2]) + b"2026.10.03,\xc0\x20,ord_5,T5,x,100,1,kcp,\r\n" + _file(ROWS[3:])
    _same_or_same_error(data)                             # whatever the careful reading says, the fast one says


def test_utf8_file_is_read_as_before() -> None:
    fast, careful = _both(_file(ROWS, enc="utf-8"))
    _same(fast, careful)
    assert fast.encoding == "utf-8"


@pytest.mark.parametrize("cell", ["합계", "합 계", "총 합 계", "총합계", "[소계]", "(total)", "SUBTOTAL", "Sum:", "ſum",
                                  "<누계>", "일계", "TOTAL 12", "소\t계", "tOtal"])
def test_total_rows_found_whatever_they_begin_with(cell: str) -> None:
    df = pd.DataFrame({"주문번호": ["ord_1", cell, "T1"], "거래금액": ["1000", "2000", "3000"],
                       "PG사": ["tosspayments", "", "summary"]}, index=[2, 3, 4])
    kept, dropped = grid.tidy(df)
    assert dropped == {"total": [3]} and kept.index.tolist() == [2, 4]


def test_words_that_only_begin_like_a_total_stay() -> None:
    df = pd.DataFrame({"a": ["summary", "tosspayments", "합계액", "Total"], "b": ["1", "2", "3", "4"]},
                      index=[2, 3, 4, 5])
    kept, dropped = grid.tidy(df)
    assert dropped == {"total": [5]}                    # 합계액 is no total word (the word must end there)
    assert kept.index.tolist() == [2, 3, 4]
