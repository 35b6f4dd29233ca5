"""Smaller holes of issue 23 §6, each tried as an attacker would: a bare CR in an exported name, an e-mail's case
against the rolling refund limit, a host named like loopback, credentials in the API URL, a private write
function called directly."""

from __future__ import annotations

import pandas as pd
import pytest
import responses

from lib.domain import rules as domain_rules
from lib.domain.identity import Actor, Forbidden
from lib.domain.rules import Seen
from lib.domain.settings import Rules, Settings, load_settings
from lib.reports import export
from lib.services import approval_flow, bulk, refund, unknowns
from lib.services import update as services_update

ENV = {"VBANK_SECRETS_FILE": "/nonexistent", "VBANK_RULES_FILE": "/nonexistent"}


def test_a_bare_cr_in_a_csv_value_is_quoted_so_no_reader_starts_a_live_line_with_it():
    text = export.to_csv_bytes(pd.DataFrame({"buyer": ["홍길동\r=cmd|' /C calc'!A0", "ok"]})).decode("utf-8-sig")
    assert '"홍길동\r=cmd|' in text                          # inside quotes: one value, not a new line
    outside = text.replace('"홍길동\r=cmd|\' /C calc\'!A0"', "")
    assert not any(line.startswith("=") for line in outside.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def test_the_rolling_refund_limit_ignores_the_e_mails_case(db):
    from lib.db.writes import WriteMove
    from lib.domain.kinds import WriteKind
    db.audit.record(operator="kim@example.com", action="refund", outcome="sent", correlation_id="c1",
                    request={"amount": 2_500_000},
                    write=WriteMove.sent("c1", action_key="a1", kind=WriteKind.REFUND, imp_uid="imp_1",
                                         amount=2_500_000, operator="kim@example.com", approval_id=None))
    assert refund.refunded_by_operator(db, "Kim@Example.COM", hours=24) == 2_500_000


@pytest.mark.parametrize("url,sandbox", [("https://127.attacker.example", False), ("http://127.0.0.1:8787", True),
                                         ("http://127.0.0.2:8787", True), ("http://localhost:8787", True),
                                         ("http://[::1]:8787", True), ("https://api.iamport.kr", False)])
def test_sandbox_is_a_loopback_address_never_a_name_that_looks_like_one(url, sandbox):
    assert Settings(api_url=url).is_sandbox is sandbox


def test_a_lookalike_host_does_not_get_the_sandbox_keys():
    with pytest.raises(ValueError, match="remote API but no IAMPORT_IMP_KEY"):
        load_settings(env={**ENV, "IAMPORT_API_URL": "https://127.attacker.example"})


def test_credentials_in_the_api_url_are_refused_and_never_repeated():
    with pytest.raises(ValueError) as e:
        load_settings(env={**ENV, "IAMPORT_API_URL": "http://ops:s3cret@127.0.0.1:8787"})
    assert "user name or password" in str(e.value) and "s3cret" not in str(e.value)


@responses.activate
def test_a_private_write_function_checks_the_role_itself(db):
    from lib.iamport.client import IamportClient
    viewer = Actor("viewer@example.com", frozenset({"viewer"}))
    client = IamportClient(Settings(api_url="http://127.0.0.1:9"))
    with pytest.raises(Forbidden):
        services_update._update_vbank(client, db, operator=viewer, imp_uid="imp_1",
                               seen=Seen(status="ready", amount=1000, cancel_amount=0, vbank_due=0),
                               new_amount=2000, new_due=None, rules=Rules(), note=None)
    assert len(responses.calls) == 0                       # nothing read, nothing sent


# ------------------------------------------------------------------ §1 a re-read proves only our own write
def test_a_reread_proves_only_our_own_refund_not_another_of_the_same_amount(fresh, client, db, rules):
    """Our refund gets a gateway's 502 and is not applied; meanwhile someone refunds the same amount to another
    account in the PG console. The re-read sees a refund of our amount — but without our tag it proves nothing:
    the outcome stays unknown (the lock kept, nothing resent), never "succeeded"."""
    import threading
    import time

    from lib.iamport.client import IamportClient
    from tests.conftest import paid_payment, refund_request
    from tests.helpers import settings_for
    kim = Actor("kim@example.com", frozenset({"operator"}))
    p = paid_payment(fresh, client, min_amount=50_000)
    fresh.fault(path_prefix="/payments/cancel", method="POST", latency_ms=2000, status=502, html=True, times=1)
    out: dict = {}
    t = threading.Thread(target=lambda: out.setdefault("r", refund.refund_vbank(
        client, db, operator=kim, request=refund_request(p, 10_000), seen=Seen.of(p), rules=rules)))
    t.start()
    deadline = time.monotonic() + 20
    while not any(f.get("hits") for f in fresh.faults()):       # poll: our request is at the gateway
        assert time.monotonic() < deadline, "our refund never reached the sandbox"
        time.sleep(0.02)
    console = IamportClient(settings_for(fresh))
    console.cancel(imp_uid=p.imp_uid, amount=10_000, checksum=p.refundable, reason="콘솔에서 환불",
                   refund_holder="김철수", refund_bank=refund_request(p).refund_bank, refund_account="220-000-000000")
    t.join(30)
    r = out["r"]
    assert r.outcome == "unknown" and not r.confirmed_by_reread
    assert [x["reason"] for x in fresh.refunds(p.imp_uid)] == ["콘솔에서 환불"]      # only the other refund landed
    assert [o for o in db.audit.records(imp_uid=p.imp_uid).sort_values("id")["outcome"]] == ["sent", "unknown"]
    assert db.locks.all(), "the payment stays locked until someone resolves it"


def test_our_refund_carries_its_tag_and_the_reread_finds_it(fresh, client, db, rules):
    """Processed, then a gateway's 504: the re-read finds the entry with *our* tag — the only accepted proof."""
    from lib.domain.text import WRITE_TAG_RX
    from tests.conftest import paid_payment, refund_request
    kim = Actor("kim@example.com", frozenset({"operator"}))
    p = paid_payment(fresh, client, min_amount=50_000)
    fresh.fault(path_prefix="/payments/cancel", after="error", status=504)
    r = refund.refund_vbank(client, db, operator=kim, request=refund_request(p, 7_000), seen=Seen.of(p),
                              rules=rules)
    assert r.outcome == "succeeded" and r.confirmed_by_reread
    reason = fresh.refunds(p.imp_uid)[0]["reason"]
    assert WRITE_TAG_RX.search(reason).group(1) == r.correlation_id[:8] and len(reason) <= 256


# ------------------------------------------------------------------ §3 a configured key means every record is signed
def _unsign_and(db, tamper) -> None:
    """Someone who can write the database but lacks the key: blank every signature (records and head), tamper,
    then re-chain the hashes and the head so that every link checks out again."""
    import json

    from sqlalchemy import select, update

    from lib.db.audit import GENESIS, record_hash
    from lib.db.schema import audit_head, audit_log
    with db.audit.engine.begin() as c:
        c.execute(update(audit_log).values(mac=None))
        tamper(c)
        rows = c.execute(select(audit_log).order_by(audit_log.c.id)).mappings().all()
        prev = GENESIS
        for r in rows:
            row = dict(r)
            row["prev_hash"] = prev
            row["hash"] = record_hash(row)
            c.execute(update(audit_log).where(audit_log.c.id == row["id"])
                      .values(prev_hash=row["prev_hash"], hash=row["hash"]))
            prev = row["hash"]
        c.execute(update(audit_head).values(mac=None, signed_from=None, count=len(rows),
                                            last_id=rows[-1]["id"] if rows else 0, head_hash=prev))
    del json


def _fill(db, n=6):
    for i in range(n):
        db.audit.record(operator="kim", action="refund", outcome="sent", correlation_id=f"c{i}", imp_uid=f"imp_{i}",
                     request={"amount": 1000 + i})


def _truncate(c):
    from sqlalchemy import delete

    from lib.db.schema import audit_log
    c.execute(delete(audit_log).where(audit_log.c.id > 4))


def _edit(c):
    import json

    from sqlalchemy import update

    from lib.db.schema import audit_log
    c.execute(update(audit_log).where(audit_log.c.id == 3).values(request=json.dumps({"amount": 999_999})))


def _delete_one(c):
    from sqlalchemy import delete

    from lib.db.schema import audit_log
    c.execute(delete(audit_log).where(audit_log.c.id == 2))


def _swap(c):
    from sqlalchemy import select, update

    from lib.db.schema import audit_log
    a, b = (dict(c.execute(select(audit_log).where(audit_log.c.id == i)).mappings().one()) for i in (2, 3))
    for src, dst in ((a, 3), (b, 2)):
        c.execute(update(audit_log).where(audit_log.c.id == dst).values(
            imp_uid=src["imp_uid"], request=src["request"], correlation_id=src["correlation_id"], at=src["at"]))


@pytest.mark.parametrize("tamper", [_truncate, _edit, _delete_one, _swap, lambda c: None],
                         ids=["truncate", "edit", "delete-a-refund", "swap", "only-unsigned"])
def test_with_a_key_unsigned_records_or_head_are_a_break(db, tamper):
    _fill(db)
    assert db.audit.verify_chain().ok and db.audit.verify_chain().signed
    _unsign_and(db, tamper)
    rep = db.audit.verify_chain()
    assert not rep.ok and "signature" in rep.reason, rep


# ------------------------------------------------------------------ §5 bulk changes obey the single-change rules
def _ready(fresh, client, *, due_in_days: float):
    from datetime import datetime, timedelta

    from lib.domain.clock import KST
    p = fresh.pick(status="ready", pg="settle", where=lambda x: x["vbank_date"] > __import__("time").time() + 3600)
    due = datetime.now(KST) + timedelta(days=due_in_days)
    fresh.api("PUT", f"/vbanks/{p['imp_uid']}", json={"vbank_due": int(due.timestamp())})
    return client.get_payment(p["imp_uid"])


def test_plus_n_days_on_an_overdue_account_counts_from_today():
    from datetime import datetime

    from lib.domain import rules as R
    from lib.domain.clock import KST
    now = datetime(2026, 11, 28, 10, 0, tzinfo=KST)
    overdue = datetime(2026, 9, 5, 23, 59, 59, tzinfo=KST)                   # 84 days overdue
    assert R.plan_due(overdue, extend_days=3, to=None, now=now) == datetime(2026, 12, 1, 23, 59, 59, tzinfo=KST)
    future = datetime(2026, 12, 10, 23, 59, 59, tzinfo=KST)
    assert R.plan_due(future, extend_days=3, to=None, now=now) == datetime(2026, 12, 13, 23, 59, 59, tzinfo=KST)


def test_a_bulk_extension_past_the_typed_limit_or_earlier_needs_it_typed(fresh, client, db, rules):
    from datetime import datetime, timedelta

    from lib.domain.clock import KST
    kim = Actor("kim@example.com", frozenset({"operator"}))
    far = _ready(fresh, client, due_in_days=45)
    near = _ready(fresh, client, due_in_days=2)
    assert domain_rules.bulk_confirmation([near], 3, None, rules) is None             # a small extension: a click
    assert domain_rules.bulk_confirmation([near], 40, None, rules) == "40"            # the single-account rule
    tomorrow = datetime.now(KST).replace(hour=23, minute=59, second=0, microsecond=0) + timedelta(days=1)
    assert domain_rules.bulk_confirmation([far], None, tomorrow, rules) == tomorrow.strftime("%Y-%m-%d")   # earlier
    fresh.clear_requests()
    for kw in ({"extend_days": 40}, {"to": tomorrow}):
        with pytest.raises(domain_rules.InvalidInput, match="type"):
            bulk.bulk_extend(client, db, operator=kim, payments=[near, far], rules=rules, **kw)
    assert fresh.requests_seen("/vbanks/", "PUT") == []                            # nothing sent
    rows = bulk.bulk_extend(client, db, operator=kim, payments=[near], rules=rules, extend_days=40,
                                typed_confirmation="40")
    assert [r.outcome for r in rows] == ["succeeded"]


# ------------------------------------------------------------------ §2 approvals always finish
APPROVER_CHILD = """
import sys
from lib.db.appdb import AppDb
from lib.domain.identity import Actor
from lib.domain.settings import load_settings
from lib.iamport.client import IamportClient
from lib.services import approval_flow
url, db, request_id = sys.argv[1:4]
s = load_settings(env={"IAMPORT_API_URL": url, "VBANK_SECRETS_FILE": "/nonexistent", "VBANK_RULES_FILE": "/nonexistent"})
s.read_timeout = 120
s.rules.refund_approval_above = 1000
approval_flow.approve(IamportClient(s), AppDb(db), approver=Actor("boss@example.com", frozenset({"approver"})),
                 request_id=request_id, rules=s.rules)
"""


@pytest.mark.parametrize("lands", [True, False], ids=["refund-landed", "refund-not-applied"])
def test_killing_the_app_while_it_sends_an_approved_refund_still_finishes_the_request(fresh, client, tmp_path, lands):
    """SIGKILL the approver's process mid-send. The path that settles the abandoned lock also finishes the
    request (executed when a re-read shows our refund, else unknown until resolved — then failed), frees the
    payment's pending key and erases the sealed full account number."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from sqlalchemy import select

    from lib.db.appdb import AppDb
    from lib.db.schema import approval_requests
    from lib.domain.settings import Rules
    from tests.conftest import paid_payment, refund_request
    from tests.helpers import ROOT
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    db = AppDb(url)
    rules = Rules(refund_approval_above=1000)
    kim = Actor("kim@example.com", frozenset({"operator"}))
    p = paid_payment(fresh, client)
    req = approval_flow.request_refund_approval(client, db, requester=kim, request=refund_request(p, 5000),
                                           seen=Seen.of(p), rules=rules)
    if lands:
        fresh.fault(path_prefix="/payments/cancel", after="timeout", hang_s=60, times=1)
    else:
        fresh.fault(path_prefix="/payments/cancel", latency_ms=60_000, status=502, times=1)
    child = subprocess.Popen([sys.executable, "-c", APPROVER_CHILD, fresh.url, url, req.id], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not any(f.get("hits") for f in fresh.faults()):      # the child's refund is at the sandbox
            assert time.monotonic() < deadline and child.poll() is None, child.stderr.read() if child.poll() else ""
            time.sleep(0.05)
        if lands:
            while not fresh.refunds(p.imp_uid):
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert db.approvals.get(req.id).status == "approving"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    lee = Actor("lee@example.com", frozenset({"operator"}))
    res = unknowns.resolve_unknown_refund(client, db, operator=lee, imp_uid=p.imp_uid)
    got = db.approvals.get(req.id)
    if lands:
        assert res.outcome == "succeeded" and got.status == "executed"
    else:
        assert res.outcome == "unknown" and got.status == "unknown"
        res = unknowns.resolve_unknown_refund(client, db, operator=lee, imp_uid=p.imp_uid,
                                              operator_confirms_not_applied=True)
        assert res.outcome == "failed" and db.approvals.get(req.id).status == "failed"
    with db.audit.engine.connect() as c:
        row = c.execute(select(approval_requests).where(approval_requests.c.id == req.id)).mappings().one()
    assert row["pending_key"] is None and row["sealed"] is None          # payment freed, full numbers erased
    # the payment can be requested again
    p = client.get_payment(p.imp_uid)
    fresh.clear_faults()
    again = approval_flow.request_refund_approval(client, db, requester=kim, request=refund_request(p, 2000),
                                             seen=Seen.of(p), rules=rules)
    assert again.status == "pending"


# ------------------------------------------------------------------ §4 the holder check travels with the money
def test_a_refund_is_never_sent_without_the_holder_check_or_a_written_reason(fresh, client, db, rules):
    """lib looks the holder up itself right before sending: a name that differs (or a lookup that fails) needs a
    reason of at least a sentence; with one, the audit keeps the bank's name, the typed name and the reason."""
    from tests.conftest import paid_payment, refund_request
    kim = Actor("kim@example.com", frozenset({"operator"}))
    p = paid_payment(fresh, client, min_amount=20_000)
    fresh.clear_requests()
    wrong = refund_request(p, 3000, refund_holder="엉뚱한이름")
    with pytest.raises(domain_rules.InvalidInput, match="엉뚱한이름"):
        refund.refund_vbank(client, db, operator=kim, request=wrong, seen=Seen.of(p), rules=rules)
    with pytest.raises(domain_rules.InvalidInput):
        refund.refund_vbank(client, db, operator=kim, request=refund_request(p, 3000, refund_holder="엉뚱한이름",
                                                                                  holder_override="ok"),
                              seen=Seen.of(p), rules=rules)
    assert fresh.requests_seen("/payments/cancel") == [] and len(fresh.requests_seen("/vbanks/holder")) == 2
    why = "고객이 전화로 가족 명의 계좌임을 확인함"
    r = refund.refund_vbank(client, db, operator=kim, request=refund_request(
        p, 3000, refund_holder="엉뚱한이름", holder_override=why), seen=Seen.of(p), rules=rules)
    assert r.ok
    sent = db.audit.records(imp_uid=p.imp_uid, outcome="sent").iloc[-1]
    import json
    chk = json.loads(sent["detail"])["holder_check"]
    bank_says = refund_request(p).refund_holder
    assert (chk["bank_says"], chk["typed"], chk["ok"], chk["override"]) == (bank_says, "엉뚱한이름", False, why)


def test_a_failed_lookup_needs_a_reason_too(fresh, client, db, rules):
    from tests.conftest import paid_payment, refund_request
    kim = Actor("kim@example.com", frozenset({"operator"}))
    p = paid_payment(fresh, client, min_amount=20_000)
    fresh.fault(path_prefix="/vbanks/holder", status=500, times=5)
    with pytest.raises(domain_rules.InvalidInput, match="did not work"):
        refund.refund_vbank(client, db, operator=kim, request=refund_request(p, 3000), seen=Seen.of(p),
                              rules=rules)
    r = refund.refund_vbank(client, db, operator=kim, request=refund_request(
        p, 3000, holder_override="은행 조회 장애: 고객 통장 사본으로 확인함"), seen=Seen.of(p), rules=rules)
    assert r.ok


def test_the_request_for_approval_carries_the_check_to_the_approver(fresh, client, db, rules):
    from tests.conftest import paid_payment, refund_request
    rules.refund_approval_above = 1000
    kim = Actor("kim@example.com", frozenset({"operator"}))
    p = paid_payment(fresh, client, min_amount=20_000)
    why = "고객 요청으로 배우자 계좌로 환불 (통화 녹취 있음)"
    req = approval_flow.request_refund_approval(client, db, requester=kim, seen=Seen.of(p), rules=rules,
                                           request=refund_request(p, 5000, refund_holder="배우자이름",
                                                                  holder_override=why))
    chk = req.payload["holder_check"]
    assert chk["bank_says"] == refund_request(p).refund_holder and chk["typed"] == "배우자이름"
    assert chk["override"] == why and not chk["ok"]
    boss = Actor("boss@example.com", frozenset({"approver"}))
    r = approval_flow.approve(client, db, approver=boss, request_id=req.id, rules=rules)
    assert r.ok                                                 # the requester's reason travels with the request
