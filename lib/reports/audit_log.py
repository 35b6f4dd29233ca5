"""The audit log read as a person does (the audit page, lib/db/audit.py's records as a frame): cases — a request,
its decision and the write it sent — kept together, and the search by an amount, a name, a bank or a buyer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd


def _json(v: Any) -> dict[str, Any]:
    try:
        out = json.loads(v) if isinstance(v, str) and v else {}
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _amounts(d: Any) -> set[int]:
    """Every amount a record's request or detail names (amount, cancel_amount, before/after …)."""
    out: set[int] = set()
    if isinstance(d, dict):
        for k, v in d.items():
            if isinstance(v, (dict, list)):
                out |= _amounts(v)
            elif "amount" in str(k) and isinstance(v, int) and not isinstance(v, bool):
                out.add(v)
    elif isinstance(d, list):
        for v in d:
            out |= _amounts(v)
    return out


def case_ids(df: pd.DataFrame) -> pd.Series:
    """One id per case: a refund's approval request, its decision and the refund it sent (sent, outcome, resolution)
    share the approval's id; a write without an approval its correlation id."""
    approval_of: dict[str, str] = {}
    for cid, det in zip(df["correlation_id"], df["detail"]):
        aid = _json(det).get("approval_id")
        if aid:
            approval_of[str(cid)] = str(aid)
    return df["correlation_id"].map(lambda c: approval_of.get(str(c), c))


def grouped(df: pd.DataFrame) -> pd.DataFrame:
    """The records with ``case`` (see ``case_ids``) and ``case_no`` (1 = the case with the newest record), each case's
    records together, oldest first, the cases newest first."""
    if df.empty:
        return df.assign(case=pd.Series(dtype=object), case_no=pd.Series(dtype="int64"))
    out = df.assign(case=case_ids(df))
    newest = out.groupby("case")["id"].transform("max")
    out = out.assign(_newest=newest).sort_values(["_newest", "id"], ascending=[False, True], kind="stable")
    order = {c: i + 1 for i, c in enumerate(dict.fromkeys(out["case"]))}
    return out.assign(case_no=out["case"].map(order)).drop(columns="_newest").reset_index(drop=True)


def search(df: pd.DataFrame, text: str, *, buyer_imp_uids: set[str] | frozenset[str] = frozenset(),
           bank_name: Any = None, amount_cases: Callable[[int], set[str]] | None = None) -> pd.DataFrame:
    """The records a person means by ``text``: an amount (₩55,000, 55,000원, 55000) named anywhere in the record; or
    words found in the operator, the imp_uid or order number, the holder's name (typed or the bank's), the bank (by
    name: ``bank_name(code)`` gives it), the API's message; or a payment of a buyer (``buyer_imp_uids``, from the
    payments of the period). A whole case (``case_ids``) is kept when any of its records matches. ``amount_cases``
    (the app: ``WriteStore.cases_with_amount``) answers an amount with SQL over the ``writes`` table and the requests
    (the correlation ids of the writes and requests of that amount) instead of reading every record's JSON."""
    from lib.domain.text import clean, parse_won
    q = clean(text).lower()
    if not q or df.empty:
        return df
    amount, why = parse_won(q.replace("원", "").strip()) if any(ch.isdigit() for ch in q) else (None, "text")
    by_amount = amount_cases(amount) if amount_cases is not None and amount is not None and not why else None
    hit = []
    for r in df.itertuples(index=False):
        req, det = _json(r.request), _json(r.detail)
        if by_amount is not None:
            if r.correlation_id in by_amount:
                hit.append(True)
                continue
        elif amount is not None and not why and amount in (_amounts(req) | _amounts(det)):
            hit.append(True)
            continue
        chk = det.get("holder_check") or {}
        code = req.get("refund_bank")
        words = [r.operator, r.imp_uid, r.merchant_uid, r.api_message, req.get("refund_holder"), chk.get("typed"),
                 chk.get("bank_says"), chk.get("bank"), det.get("note"), code,
                 bank_name(code) if (bank_name and code) else None]
        hay = " ".join(str(w) for w in words if w).lower()
        hit.append(q in hay or (r.imp_uid in buyer_imp_uids if r.imp_uid else False))
    cases = case_ids(df)
    keep = set(cases[pd.Series(hit, index=df.index)])
    return df[cases.isin(keep)]
