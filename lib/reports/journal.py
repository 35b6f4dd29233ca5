"""회계 전표 export: journal entries for a period from the same events reconciliation uses (lib/reports/recon/
expected.py: deposits and refunds of virtual accounts with each PG's fees and their VAT; lib/reports/recon/payouts.py:
the payouts to the bank account, D+N business days later), written in the accounting software's import template
(``[journal]`` in vbank-desk.toml: columns, account codes, 거래처 per PG).

One entry per day, PG and kind, each balanced (its debits equal its credits, ``check`` proves it):

* 매출 (deposits): Dr 미수금 (the PG) gross / Cr 상품매출 supply value, Cr 부가세예수금 VAT (1/11, as the API
  defaults; ``split_sales_vat = false``: the whole amount to sales);
* 환불 (refunds): Dr 상품매출 (or 매출환입) and 부가세예수금 / Cr 미수금 (the PG pays the customer out of what it owes);
* PG 수수료: Dr 지급수수료 fee, Dr 부가세대급금 its VAT / Cr 미수금;
* 정산 입금 (payouts): Dr 보통예금 / Cr 미수금, on the payout day (a day whose net is not positive moves no money: no
  entry).

Accounting packages' import formats are not public; the template is the answer, with a default most accept after
mapping (전표일자, 전표번호, 차대구분, 계정코드, 계정과목, 차변금액, 대변금액, 거래처, 적요).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from lib.domain.names import PG_NAMES
from lib.domain.settings import JournalRules, Rules
from lib.reports.ahead import records
from lib.reports.recon import expected as recon_expected
from lib.reports.recon import payouts as recon_payouts

FIELDS = ("date", "entry_no", "line", "side", "account_code", "account_name", "debit", "credit", "counterparty",
          "memo", "pg")
KIND_WORDS = {"sales": "매출", "refund": "환불", "fees": "PG 수수료", "payout": "정산 입금"}


class Unbalanced(ValueError):
    """An entry whose debits differ from its credits (never written out)."""


def _line(j: JournalRules, role: str, side: str, amount: int) -> dict[str, Any]:
    acc = j.accounts[role]
    return {"side": j.debit_word if side == "D" else j.credit_word, "account_code": acc.code,
            "account_name": acc.name, "debit": amount if side == "D" else 0, "credit": amount if side == "C" else 0}


def _entries(exp: pd.DataFrame, pay: pd.DataFrame, ev: pd.DataFrame, j: JournalRules, d_from: date,
             d_to: date) -> list[tuple[date, str, str, list[dict[str, Any]]]]:
    """(day, pg, kind, lines) for every entry, in day, PG and kind order."""
    vat = ev.groupby(["date", "pg", "kind"])["vat"].sum() if len(ev) else pd.Series(dtype="int64")
    out: list[tuple[date, str, str, list[dict[str, Any]]]] = []
    for r in records(exp):
        day, pg = r["date"], str(r["pg"])
        gross, refunded = int(r["gross"]), int(r["refunded"])
        fee, fee_vat = int(r["issuance_fees"]) + int(r["remittance_fees"]), int(r["vat_on_fees"])
        if gross:
            v = int(vat.get((day, pg, "deposit"), 0)) if j.split_sales_vat else 0
            lines = [_line(j, "receivable", "D", gross), _line(j, "sales", "C", gross - v)]
            out.append((day, pg, "sales", lines + ([_line(j, "vat_output", "C", v)] if v else [])))
        if refunded:
            v = int(vat.get((day, pg, "refund"), 0)) if j.split_sales_vat else 0
            lines = [_line(j, "sales_returns", "D", refunded - v)] + ([_line(j, "vat_output", "D", v)] if v else [])
            out.append((day, pg, "refund", lines + [_line(j, "receivable", "C", refunded)]))
        if fee or fee_vat:
            lines = [_line(j, "fees", "D", fee)] + ([_line(j, "vat_input", "D", fee_vat)] if fee_vat else [])
            out.append((day, pg, "fees", lines + [_line(j, "receivable", "C", fee + fee_vat)]))
    for r in records(pay):
        amount = int(r["expected"])
        if d_from <= r["payout_date"] <= d_to and amount > 0:
            out.append((r["payout_date"], str(r["pg"]), "payout", [_line(j, "bank", "D", amount),
                                                                   _line(j, "receivable", "C", amount)]))
    order = {k: i for i, k in enumerate(KIND_WORDS)}
    return sorted(out, key=lambda e: (e[0], e[1], order[e[2]]))


def entries(payments: Any, d_from: date, d_to: date, rules: Rules) -> pd.DataFrame:
    """The period's journal lines (``FIELDS``), every entry balanced. Refunds and fees fall on their own day;
    payouts on their payout day (transactions before the period paid out inside it included)."""
    j = rules.journal
    longest = max([rules.settlement_days_default, *rules.settlement_days.values()])
    ev_all = recon_expected.events(payments, d_from - pd.Timedelta(days=2 * longest + 10).to_pytimedelta(), d_to,
                                   rules)
    pay = recon_payouts.expected_payouts(recon_expected.expected_settlement(ev_all), rules)
    ev = ev_all[(ev_all["date"] >= d_from) & (ev_all["date"] <= d_to)] if len(ev_all) else ev_all
    exp = recon_expected.expected_settlement(ev)
    rows: list[dict[str, Any]] = []
    seq: dict[date, int] = {}
    for day, pg, kind, lines in _entries(exp, pay, ev, j, d_from, d_to):
        seq[day] = seq.get(day, 0) + 1
        name = PG_NAMES.get(pg, pg)
        memo = f"{KIND_WORDS[kind]} · {name}"
        for i, ln in enumerate(lines, start=1):
            rows.append({"date": day, "entry_no": f"{day:%Y%m%d}-{seq[day]:03d}", "line": i, **ln,
                         "counterparty": j.counterparty.get(pg, name), "memo": memo, "pg": name})
    out = pd.DataFrame(rows, columns=list(FIELDS))
    check(out)
    return out


def check(lines: pd.DataFrame) -> None:
    """Every entry's debits equal its credits, or ``Unbalanced`` naming the first that does not."""
    if lines.empty:
        return
    s = lines.groupby("entry_no")[["debit", "credit"]].sum()
    bad = s[s["debit"] != s["credit"]]
    if len(bad):
        raise Unbalanced(f"{bad.index[0]}: {int(bad['debit'].iloc[0]):,} ≠ {int(bad['credit'].iloc[0]):,}")


def templated(lines: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The lines in the template's columns and order (``[journal] columns``: header → field)."""
    cols = rules.journal.columns
    unknown = [f for f in cols.values() if f not in FIELDS]
    if unknown:
        raise ValueError(f"[journal] columns names unknown fields: {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    return pd.DataFrame({h: lines[f] for h, f in cols.items()}, columns=list(cols))
