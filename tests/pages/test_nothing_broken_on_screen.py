"""Issue 31 point 6: nothing internal or broken on screen. Every page, in Korean and in English, over the sandbox's
payments (fields the API leaves empty: card, bank, custom data, fail and cancel reasons …) after a refund through
this app and an account closed through it: no "nan", "None" or "NaT", and the proof tag a refund's reason carries
to the PG ([vd:…]) nowhere — the payment page's 취소 사유, its history and story, the audit log, approvals, search."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lib.domain.identity import Actor
from lib.domain.rules import Seen
from lib.domain.settings import get_settings
from tests.conftest import refund_request

BROKEN = re.compile(r"(?<![A-Za-z])(nan|None|NaT)(?![A-Za-z])")
TAG = re.compile(r"\[vd:[0-9a-f]{8}\]")
OPERATOR = Actor("tester@example.com", frozenset({"operator", "approver"}))


def shown_texts(at) -> list[str]:
    """What a person reads on the page: texts, messages, metrics, and the visible cells of tables."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error", "success",
                 "exception"):
        out += [str(getattr(e, "value", "")) for e in getattr(at, kind, [])]
    for m in at.metric:
        out += [str(m.label), str(m.value)]
    for t in at.table:
        df = t.value
        out += [str(c) for c in df.columns] + [str(i) for i in df.index] + [str(v) for v in df.to_numpy().ravel()]
    for d in at.dataframe:
        df = d.value
        order = list(d.proto.column_order) or list(df.columns)
        df = df[[c for c in order if c in df.columns]]
        for col in df.columns:
            s = df[col]
            out.append(str(col))
            if not pd.api.types.is_datetime64_any_dtype(s) and not pd.api.types.is_numeric_dtype(s):
                out += ["None" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in s]
            elif s.isna().any():
                out.append(f"{col}: None")       # an empty cell in a number or date column shows as None
    return out


@pytest.fixture
def story(app_env, client):
    """A refund and an account closed through the app (its audit), in the sandbox the pages read."""
    from lib.db.appdb import AppDb
    from lib.services.refund import refund_vbank
    from lib.services.revoke import revoke_vbank
    s = get_settings()
    db = AppDb(s.audit_db_url)
    fresh = app_env
    paid = client.get_payment(fresh.pick(status="paid", pg="kcp", where=lambda x: x["cancel_amount"] == 0
                                         and 20_000 <= x["amount"] <= 90_000)["imp_uid"])
    refund_vbank(client, db, operator=OPERATOR, request=refund_request(paid, 7000), seen=Seen.of(paid),
                 rules=s.rules)
    import time
    ready = client.get_payment(fresh.pick(status="ready", pg="settle",
                                          where=lambda x: x["vbank_date"] > time.time() + 3600)["imp_uid"])
    revoke_vbank(client, db, operator=OPERATOR, imp_uid=ready.imp_uid, seen=Seen.of(ready), rules=s.rules)
    full = fresh.pick(status="cancelled", where=lambda x: x["cancel_history"])
    pending = fresh.pick(status="ready")
    assert TAG.search(client.get_payment(paid.imp_uid).cancel_reason)      # the PG has it: it proves our write
    return {"refunded": paid.imp_uid, "revoked": ready.imp_uid, "full": full["imp_uid"], "ready": pending["imp_uid"]}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_no_page_shows_nan_none_nat_or_the_proof_tag(app, story, monkeypatch, lang):
    monkeypatch.setenv("VBANK_LANG", lang)
    pages = [("app_pages/pending.py", {}), ("app_pages/search.py", {"q": "55,000"}),
             ("app_pages/approvals.py", {}), ("app_pages/audit.py", {}), ("app_pages/today.py", {}),
             ("app_pages/refund.py", {})]
    pages += [("app_pages/payment.py", {"imp_uid": story[k]}) for k in ("refunded", "revoked", "full", "ready")]
    pages += [("app_pages/audit.py", {"imp_uid": story["refunded"]}), ("app_pages/update.py", {"imp_uid": story["ready"]}),
              ("app_pages/refund.py", {"imp_uid": story["refunded"]})]
    problems = []
    for page, query in pages:
        at = app(page, **query).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        for text in shown_texts(at):
            if BROKEN.search(text) or TAG.search(text):
                problems.append((page, query, text[:160]))
    assert problems == [], "\n".join(map(str, problems))
