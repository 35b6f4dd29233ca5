"""Files read by what their cells hold, calibrated against I'mport (lib/reports/recon/understand.py): every layout of
both corpora (tests/fixtures/realfiles.py, corpus2.py) reconciles exactly with no hand on the mapping; the readings a
person could be fooled by are told apart by the data; a file nothing explains stops with one sentence; shuffling,
renaming, splitting and re-writing a file changes nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.domain.names import recon_status
from lib.domain.settings import Rules
from lib.reports.recon import expected, match, normalize, payouts, read, statement, understand
from lib.reports.recon.reading import Reading
from tests.fixtures import corpus2 as c2
from tests.fixtures import realfiles as rf


@pytest.fixture(scope="module")
def pays():
    return rf.payments()


@pytest.fixture(scope="module")
def events(pays):
    """What the page gives the reading: I'mport's events over the file's days, every PG."""
    return expected.events(pays, rf.D_FROM, rf.D_TO, Rules())


@pytest.fixture(scope="module")
def due(events):
    return payouts.expected_payouts(expected.expected_settlement(events), Rules())


def pg_exceptions(made, pays, events, overrides=None) -> tuple[set, Reading]:
    table = read.read_file(made.data, made.name)
    r = understand.understand_pg(table.df, events, Rules(), overrides)
    assert r.stop is None, r.stop
    rows = normalize.normalize(table.df, r.mapping)
    a, b = normalize.file_range(rows)
    res = match.match(rows, expected.events(pays, a, b, Rules(), normalize.file_pgs(rows) or None))
    exc = res.exceptions()
    reasons = exc["reasons"] if "reasons" in exc else pd.Series("", index=exc.index)
    return {(recon_status(s), m, x if isinstance(x, str) else "")
            for s, m, x in zip(exc["status"], exc["merchant_uid"], reasons)}, r


def payout_exceptions(made, due) -> tuple[set, Reading]:
    table = read.read_file(made.data, made.name)
    r = statement.understand_bank(table.df, due, Rules())
    assert r.stop is None, r.stop
    st = normalize.normalize_statement(table.df, r.mapping)
    chk = payouts.match_payouts(due, st, Rules())
    bad = chk[~chk["status"].isin([payouts.PAYOUT_MATCHED, payouts.PAYOUT_OFFSET])]
    return {(s, d.isoformat(), p or who) for s, d, p, who in zip(bad["status"], bad["date"], bad["sender"],
                                                                   bad["depositor"])}, r


def planted_payouts(planted) -> set:
    kinds = {"short": payouts.PAYOUT_SHORT, "missing": payouts.PAYOUT_MISSING, "unexpected": payouts.PAYOUT_UNEXPECTED}
    return {(kinds[p["kind"]], p["date"], p.get("pg") or p.get("memo")) for p in planted}


PG_ALL = {**{f"rf:{k}": v for k, v in rf.PG_FILES.items()}, **{f"c2:{k}": v for k, v in c2.PG_FILES2.items()}}
BANK_ALL = {**{f"rf:{k}": (lambda p, k=k: rf.bank_file(k, p)) for k in rf.BANKS},
            **{f"c2:{k}": v for k, v in c2.BANKS2.items()}}


@pytest.mark.parametrize("layout", list(PG_ALL))
def test_every_pg_layout_reconciles_exactly_with_no_hand_on_the_mapping(layout, pays, events):
    made = PG_ALL[layout](pays)
    got, r = pg_exceptions(made, pays, events)
    assert got == made.expected
    assert r.explained >= 0.9 * r.checked


@pytest.mark.parametrize("layout", list(BANK_ALL))
def test_every_bank_statement_finds_its_payouts_with_no_hand_on_the_mapping(layout, pays, due):
    made, planted = BANK_ALL[layout](pays)
    got, r = payout_exceptions(made, due)
    assert got == planted_payouts(planted)
    assert r.checked and r.explained >= 0.9 * r.checked


def test_a_sender_column_no_table_knows_is_found_by_what_it_holds(pays, due):
    """The quiet wrong answer of before: a header nobody listed made every payout 미입금 under a yellow warning."""
    made, planted = c2.statement_with_sender_header(pays, "돈 보내신 곳 (XQ)")
    table = read.read_file(made.data, made.name)
    assert read.recognise_bank(table.columns)[1]["sender"] is None          # no table knows the header
    got, r = payout_exceptions(made, due)
    assert r.mapping["sender"] == "돈 보내신 곳 (XQ)"
    assert got == planted_payouts(planted)


@pytest.mark.parametrize("name", list(c2.STOP_FILES))
def test_a_file_nothing_explains_stops_with_one_sentence(name, pays, events, due):
    kind, make = c2.STOP_FILES[name]
    made = make(pays)
    made = made[0] if isinstance(made, tuple) else made
    table = read.read_file(made.data, made.name)
    r = understand.understand_pg(table.df, events, Rules()) if kind == "pg" else \
        statement.understand_bank(table.df, due, Rules())
    assert r.stop and r.stop.endswith(".") and "\n" not in r.stop


def test_the_fee_with_or_without_vat_is_decided_by_the_fee_schedule_and_the_runner_up_is_one_choice_away(pays, events):
    made = c2.PG_FILES2["toss_ko"](pays)                        # 수수료 includes its VAT; its header does not say so
    got, r = pg_exceptions(made, pays, events)
    assert got == made.expected and r.mapping.fee_includes_vat
    fee = r.choice("fee_vat")
    assert fee is not None and fee.key == "incl" and [o.key for o in fee.options] == ["incl", "excl"]
    assert fee.options[0].score > 10 * max(fee.options[1].score, 1) and fee.evidence
    wrong, r2 = pg_exceptions(made, pays, events, overrides={"fee_vat": "excl"})   # the runner-up, one click away
    assert not r2.mapping.fee_includes_vat
    assert len(wrong) > len(made.expected) + 10                 # plausible-looking, and wrong: every row 수수료 불일치


def test_the_payment_vat_and_the_fee_vat_are_told_apart_by_their_size(pays, events):
    made = rf.PG_FILES["portone_recon"](pays)                   # 부가세 is the payment's; the fee's has its own column
    table = read.read_file(made.data, made.name)
    r = understand.understand_pg(table.df, events, Rules())
    assert r.mapping.vat == "부가세" and r.mapping.fee_vat == "PG 정산 수수료 부가세"
    made = rf.PG_FILES["settle_recon"](pays)                    # here 부가세 is the fee's VAT
    table = read.read_file(made.data, made.name)
    r = understand.understand_pg(table.df, events, Rules())
    assert r.mapping.fee_vat == "부가세" and r.mapping.vat is None


def test_cancel_codes_are_learned_from_the_rows_i_mport_knows(pays, events):
    made = rf.PG_FILES["settle_recon"](pays)                    # 승인구분 0 = approval, 1 = cancel: no word says so
    table = read.read_file(made.data, made.name)
    r = understand.understand_pg(table.df, events, Rules())
    assert r.mapping.type == "승인구분" and r.mapping.refund_values == "1"


def test_the_transaction_day_is_told_from_the_settlement_day(pays, events):
    made = rf.PG_FILES["portone_recon"](pays)                   # 거래일시 and 정산일 are both days
    table = read.read_file(made.data, made.name)
    r = understand.understand_pg(table.df, events, Rules())
    assert r.mapping.date == "거래일시"
    day = r.choice("date")
    assert day is not None and day.options[0].score > day.options[1].score


def test_money_in_and_out_are_proved_by_the_balance(pays, due):
    made, _planted = c2.BANKS2["sc_first"](pays)                # 들어온금액 / 나간금액 / 남은금액: no known name
    table = read.read_file(made.data, made.name)
    r = statement.understand_bank(table.df, due, Rules())
    assert (r.mapping["deposit"], r.mapping["withdrawal"]) == ("들어온금액", "나간금액")
    money = r.choice("money")
    assert money is not None and "남은금액" in money.options[money.picked].label


def test_a_summary_sheet_first_is_passed_over(pays):
    made, _planted = c2.BANKS2["kbank"](pays)
    table = read.read_file(made.data, made.name)
    assert table.sheet == "거래내역" and table.sheets[0] == "거래내역"


def test_a_two_row_header_is_joined(pays):
    made = c2.PG_FILES2["inicis_merged"](pays)
    table = read.read_file(made.data, made.name)
    assert {"거래금액", "수수료", "부가세", "입금예정액 (원)"} <= set(table.columns)


VARIANTS = ["rf:portone_recon", "c2:toss_ko", "c2:kcp_fullwidth"]


@pytest.mark.parametrize("layout", VARIANTS)
def test_shuffled_renamed_split_and_textual_pg_files_give_the_same_result(layout, pays, events):
    made = PG_ALL[layout](pays)
    base, _r = pg_exceptions(made, pays, events)
    for v in c2.transform_variants(made):
        got, _r = pg_exceptions(v, pays, events)
        assert got == base, v.quirks


@pytest.mark.parametrize("layout", ["rf:shinhan", "c2:busan", "c2:sc_first"])
def test_shuffled_renamed_split_and_textual_statements_give_the_same_payouts(layout, pays, due):
    made, planted = BANK_ALL[layout](pays)
    for v in c2.transform_variants(made):
        got, _r = payout_exceptions(v, due)
        assert got == planted_payouts(planted), v.quirks


def test_a_saved_reading_keeps_its_meaning(pays, events, due):
    """A preset saved from a calibrated reading is the columns *and* what they mean (fee with its VAT, the file's PG,
    cancel codes): picked again for the next month's file, it gives the same result with no calibration."""
    made = c2.PG_FILES2["toss_ko"](pays)
    table = read.read_file(made.data, made.name)
    first = understand.understand_pg(table.df, events, Rules())
    saved = {**first.mapping.as_dict(), "kind": "pg"}                  # what the page stores
    again = understand.check_pg(Reading("pg", normalize.ColumnMap.of(saved)), table.df, events)
    assert again.stop is None and again.mapping == first.mapping and again.mapping.fee_includes_vat
    made, planted = c2.BANKS2["busan"](pays)                          # unsigned amount beside 입출구분
    table = read.read_file(made.data, made.name)
    first_b = statement.understand_bank(table.df, due, Rules())
    saved_b = {**first_b.mapping, "kind": "bank"}
    again_b = statement.check_bank(Reading("bank", dict(saved_b)), table.df, due, Rules())
    assert again_b.stop is None and again_b.explained == first_b.explained
    rows = normalize.normalize_statement(table.df, {k: v for k, v in saved_b.items() if k != "kind"})
    chk = payouts.match_payouts(due, rows, Rules())
    bad = chk[~chk["status"].isin([payouts.PAYOUT_MATCHED, payouts.PAYOUT_OFFSET])]
    assert {(s, d.isoformat(), p or w) for s, d, p, w in zip(bad["status"], bad["date"], bad["sender"],
                                                             bad["depositor"])} == planted_payouts(planted)
