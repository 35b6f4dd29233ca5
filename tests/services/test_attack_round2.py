"""Issue 30, round two of attacks from outside, the breaks in services, search and the pending page: each test here
failed on the code before its fix (the report lists which)."""

from __future__ import annotations

import threading
import time

import pytest

from lib.domain.kinds import WriteKind
from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiUnavailable
from lib.iamport.transport import ClientConfig
from lib.services.deposits import DepositFeed
from tests.conftest import ready_payment


class Clock:
    def __init__(self):
        self.t = time.time()

    def __call__(self):
        return self.t


def _config(sandbox, **kw) -> ClientConfig:
    return ClientConfig(api_url=sandbox.url, imp_key="sandbox_key", imp_secret="sandbox_secret", **kw)


# ------------------------------------------------------------------ #30 item 2: an outage never freezes the desk
def test_a_read_that_hangs_holds_no_other_reader(fresh):
    """One session's read waits for a hanging I'mport; another session asking meanwhile gets what is known at once
    (no lock held across the API call), while the first is still waiting."""
    clock = Clock()
    feed = DepositFeed(IamportClient(_config(fresh, read_timeout=3)), min_interval_s=30, clock=clock)
    known = feed.refresh()
    assert known
    clock.t += 31
    fresh.fault(path_prefix="/payments/status/paid", after="timeout", hang_s=4)
    first = threading.Thread(target=feed.refresh)
    first.start()
    try:
        deadline = time.time() + 10
        while not fresh.requests_seen("/payments/status/paid") and time.time() < deadline:
            time.sleep(0.02)                       # wait for the state: the first read reached I'mport
        fresh.clear_requests()
        assert feed.refresh() == known             # the second session: what is known, nothing read
        assert first.is_alive()                    # ... while the first read is still waiting
        assert fresh.requests_seen("/payments/status/") == []
    finally:
        first.join()
        fresh.clear_faults()


def test_a_failed_read_backs_off_for_the_whole_app(fresh):
    """Ten sessions refreshing against a 503 make one read (with its few retries), not ten; the next read waits
    longer after each failure; the outage is a state with since-when and I'mport's own message; a read that
    succeeds again ends it."""
    clock = Clock()
    feed = DepositFeed(IamportClient(_config(fresh)), min_interval_s=30, clock=clock)
    known = feed.refresh()
    clock.t += 31
    fresh.fault(path_prefix="/payments/status/", status=503)
    fresh.clear_requests()
    for _ in range(10):
        assert feed.refresh() == known             # never raises: the page keeps what it has
    reads = len(fresh.requests_seen("/payments/status/"))
    assert 1 <= reads <= 3                         # one reader, its retries bounded
    out = feed.outage
    assert out is not None and out.failures == 1 and "503" in out.message
    clock.t += 31                                  # past the interval: one more read, which fails too
    for _ in range(10):
        feed.refresh()
    assert feed.outage.failures == 2
    reads2 = len(fresh.requests_seen("/payments/status/"))
    assert reads2 - reads <= 3
    clock.t += 31                                  # the backoff doubled: 60 s after the second failure, not 30
    feed.refresh()
    assert len(fresh.requests_seen("/payments/status/")) == reads2 and feed.outage.failures == 2
    fresh.clear_faults()
    clock.t += 30
    assert feed.refresh() and feed.outage is None and feed.checked_at == clock.t


def test_a_read_is_bounded_by_total_time_not_only_by_tries(fresh):
    """A hanging I'mport costs one read its deadline: with a 1 s read timeout and a 1.6 s deadline the read gives up
    after the attempt that fits (before: three attempts of the full timeout each, whatever they add up to)."""
    c = IamportClient(_config(fresh, read_timeout=1.0, read_deadline=1.6))
    p = fresh.pick(status="paid")
    c.token()
    fresh.fault(path_prefix=f"/payments/{p['imp_uid']}", method="GET", after="timeout", hang_s=3)
    fresh.clear_requests()
    with pytest.raises(ApiUnavailable):
        c.get_payment(p["imp_uid"])
    assert 1 <= len(fresh.requests_seen(f"/payments/{p['imp_uid']}")) <= 2


def test_the_default_deadline_is_one_attempt_and_quick_retries():
    cfg = ClientConfig(api_url="http://127.0.0.1:1", imp_key="k", imp_secret="s")
    assert cfg.read_deadline_s < 3 * cfg.read_timeout
    assert cfg.read_deadline_s >= cfg.read_timeout + cfg.connect_timeout


# ------------------------------------------------------------------ #30 item 8: a refunded deposit is no longer new
def test_a_deposit_refunded_afterwards_leaves_the_new_deposits(fresh, client):
    clock = Clock()
    feed = DepositFeed(client, min_interval_s=30, clock=clock)
    feed.refresh()
    p = ready_payment(fresh, client)
    fresh.deposit(p.imp_uid)
    clock.t += 31
    assert p.imp_uid in {r["imp_uid"] for r in feed.refresh()}
    client.cancel(imp_uid=p.imp_uid, reason="test", refund_holder="홍길동", refund_bank="088",
                  refund_account="110123456789")
    assert client.get_payment(p.imp_uid).status == "cancelled"
    clock.t += 31
    assert p.imp_uid not in {r["imp_uid"] for r in feed.refresh()}


# ------------------------------------------------------------------ #30 item 4: permissions that cannot be forged
def test_every_write_refuses_a_made_up_a_foreign_and_a_spent_approval_id(fresh, client, db, rules):
    """An approver without the operator role walks every write entry point with an approval id that no one issued,
    one issued for something else, and one already carried out: each is refused and nothing reaches I'mport (before:
    ``revoke_vbank`` and the bulk row update took any id as permission)."""
    from datetime import timedelta

    from lib.domain.identity import Actor, Forbidden
    from lib.domain.refusals import Refusal
    from lib.domain.rules import InvalidInput, Seen
    from lib.services import approval_flow, bulk
    from lib.services.refund import refund_vbank
    from lib.services.revoke import revoke_vbank
    from lib.services.update import _update_vbank
    from tests.conftest import refund_request

    kim = Actor("kim@example.com", frozenset({"operator"}))
    boss = Actor("boss@example.com", frozenset({"approver"}))
    opens = [client.get_payment(x["imp_uid"]) for x in fresh.all_payments("ready")
             if x["pay_method"] == "vbank" and x["pg_provider"] == "settle" and x["vbank_date"] > time.time() + 86400][:3]
    p, spent_revoked, spent_extended = opens
    paid = [client.get_payment(x["imp_uid"]) for x in fresh.all_payments("paid")
            if x["pay_method"] == "vbank" and x["pg_provider"] == "kcp" and x["cancel_amount"] == 0
            and x["amount"] >= 10_000][:3]
    q, q_foreign, q_spent = paid
    foreign = approval_flow.request_refund_approval(client, db, requester=kim, request=refund_request(q_foreign),
                                                    seen=Seen.of(q_foreign), rules=rules).id
    spent_refund = approval_flow.request_refund_approval(client, db, requester=kim, request=refund_request(q_spent),
                                                         seen=Seen.of(q_spent), rules=rules).id
    assert approval_flow.approve(client, db, approver=boss, request_id=spent_refund, rules=rules).outcome == \
        "succeeded"
    spent_revoke = approval_flow.request_bulk_revoke_approval(db, requester=kim, payments=[spent_revoked],
                                                              rules=rules, typed_confirmation="1").id
    approval_flow.approve(client, db, approver=boss, request_id=spent_revoke, rules=rules)
    spent_bulk = approval_flow.request_bulk_approval(db, requester=kim, payments=[spent_extended], extend_days=1,
                                                     to=None, rules=rules).id
    approval_flow.approve(client, db, approver=boss, request_id=spent_bulk, rules=rules)
    assert db.approvals.get(spent_bulk).status == "executed"
    p_after_spent = client.get_payment(spent_extended.imp_uid)

    writes = {
        "revoke": lambda aid: revoke_vbank(client, db, operator=boss, imp_uid=p.imp_uid, seen=Seen.of(p),
                                           rules=rules, approval_id=aid),
        "revoke (spent on that payment)": lambda aid: revoke_vbank(
            client, db, operator=boss, imp_uid=spent_extended.imp_uid, seen=Seen.of(p_after_spent), rules=rules,
            approval_id=aid),
        "update": lambda aid: _update_vbank(client, db, operator=boss, imp_uid=p.imp_uid, seen=Seen.of(p),
                                            new_due=p.vbank_date + timedelta(days=1), new_amount=None, rules=rules,
                                            note=None, approval_id=aid),
        "update (spent on that payment)": lambda aid: _update_vbank(
            client, db, operator=boss, imp_uid=spent_extended.imp_uid, seen=Seen.of(p_after_spent),
            new_due=p_after_spent.vbank_date + timedelta(days=1), new_amount=None, rules=rules, note=None,
            approval_id=aid),
        "refund": lambda aid: refund_vbank(client, db, operator=boss, request=refund_request(q), seen=Seen.of(q),
                                           rules=rules, approval_id=aid),
        "bulk extend": lambda aid: bulk.bulk_extend(client, db, operator=boss, payments=[p], extend_days=1,
                                                    rules=rules, approval_id=aid),
        "bulk revoke": lambda aid: bulk.bulk_revoke(client, db, operator=boss, payments=[p], rules=rules,
                                                    approval_id=aid),
        "approve": lambda aid: approval_flow.approve(client, db, approver=boss, request_id=aid, rules=rules),
    }
    ids = {"made-up": "0f" * 16, "foreign": foreign, "spent refund": spent_refund, "spent revoke": spent_revoke,
           "spent bulk": spent_bulk}
    fresh.clear_requests()
    let_through = []
    for name, write in writes.items():
        for what, aid in ids.items():
            if name == "approve" and what == "foreign":
                continue                      # approving someone's waiting request is what approving is
            try:
                out = write(aid)
            except (Refusal, Forbidden, InvalidInput):
                continue
            if out is not None and not (isinstance(out, list) and all(r.outcome != "succeeded" for r in out)):
                let_through.append((name, what))
    sent = [r for r in fresh.requests_seen("/") if r["method"] in ("PUT", "DELETE", "POST")
            and r["path"] != "/users/getToken"]
    assert let_through == [] and sent == []
    assert db.approvals.get(foreign).status == "pending"            # the foreign request is untouched


# ------------------------------------------------------------------ #30 item 3: masking that search cannot undo
def _frame():
    from lib.reports import search
    rows = [{"imp_uid": f"imp_{i}", "merchant_uid": f"order-{i}", "buyer_name": "김민수", "buyer_tel": tel,
             "buyer_email": mail, "amount": 10_000 + i, "cancel_amount": 0, "status": "paid", "pg_provider": "kcp",
             "pay_method": "vbank", "started_at": 1_790_000_000 + i, "paid_at": 0, "vbank_name": "", "vbank_date": 0,
             "name": "", "cash_receipt_issued": False}
            for i, (tel, mail) in enumerate([("010-1234-5678", "abcdef@example.com"),
                                             ("010-9994-5678", "zz@example.com"),
                                             ("010-2222-3333", "other@example.org")])]
    return search.frame(rows)


@pytest.mark.parametrize("typed, reveal, expected", [
    ("45678", False, []),                                   # a hidden digit in front of the visible four
    ("345678", False, []),
    ("5678", False, ["imp_0", "imp_1"]),                    # what a masked phone shows
    ("01012345678", False, ["imp_0"]),                      # the whole number, typed exactly
    ("010-1234-5678", False, ["imp_0"]),
    ("f@example.com", False, []),                           # growing the address to the left
    ("def@example.com", False, []),
    ("abcdef@example.com", False, ["imp_0"]),               # the whole address
    ("ab***@example.com", False, ["imp_0"]),                # as the masked one reads
    ("@example.com", False, ["imp_0", "imp_1"]),            # the visible domain
    ("45678", True, ["imp_0", "imp_1"]),                    # with the reveal permission: any part
    ("f@example.com", True, ["imp_0"]),
])
def test_a_masked_search_matches_only_what_the_person_sees(typed, reveal, expected):
    from lib.reports import search
    found, n = search.search(_frame(), search.parse(typed), reveal=reveal)
    assert sorted(found["imp_uid"]) == expected and n == len(expected)


def test_repeated_narrowing_searches_are_limited():
    from lib.reports import search
    guard = search.NarrowingGuard(limit=3, window_s=600)
    t = 1000.0
    assert guard.check("kim@example.com", search.parse("5678"), t) == (False, True)
    for typed in ("45678", "345678", "2345678"):
        assert guard.check("kim@example.com", search.parse(typed), t) == (True, True)
    assert guard.check("kim@example.com", search.parse("12345678"), t) == (True, False)     # the fourth: refused
    assert guard.check("lee@example.com", search.parse("45678"), t) == (False, True)         # per person
    assert guard.check("kim@example.com", search.parse("김민수"), t) == (False, True)          # not personal
    assert guard.check("kim@example.com", search.parse("12345678"), t + 601) == (True, True)  # the window passed
    assert search.reaches_hidden(search.parse("45678")) and not search.reaches_hidden(search.parse("5678"))


# ------------------------------------------------------------------ #30 item 9: a bulk re-run never re-extends a row
def test_rerunning_a_bulk_extension_after_a_crash_never_extends_a_finished_row_again(fresh, client, db, rules,
                                                                                      monkeypatch):
    """The app stops after the first of three rows (a crash between rows). The operator opens the bulk page again —
    it re-reads the accounts — and gives the same change: the first row is not extended a second time, the others
    once. The same change given again after a finished run is a new run (on purpose)."""
    from lib.domain.identity import Actor
    from lib.services import bulk

    kim = Actor("kim@example.com", frozenset({"operator"}))
    ids = [x["imp_uid"] for x in fresh.all_payments("ready") if x["pay_method"] == "vbank"
           and x["pg_provider"] == "settle" and x["vbank_date"] > time.time() + 86400][:3]
    before = {i: client.get_payment(i).vbank_date for i in ids}
    real = bulk._update_vbank
    calls = []

    def crash_after_first(*a, **kw):
        calls.append(kw["imp_uid"])
        if len(calls) == 2:
            raise KeyboardInterrupt("the app stopped")          # nothing of row 2 was sent
        return real(*a, **kw)

    monkeypatch.setattr(bulk, "_update_vbank", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        bulk.bulk_extend(client, db, operator=kim, payments=[client.get_payment(i) for i in ids], extend_days=2,
                         rules=rules)
    monkeypatch.setattr(bulk, "_update_vbank", real)
    assert calls == ids[:2]
    assert (client.get_payment(ids[0]).vbank_date - before[ids[0]]).days == 2

    reread = [client.get_payment(i) for i in ids]                                         # the page reads them again
    rows = bulk.bulk_extend(client, db, operator=kim, payments=reread, extend_days=2, rules=rules)
    assert [r.outcome for r in rows] == ["skipped", "succeeded", "succeeded"]
    assert "not sent again" in rows[0].message
    assert [(client.get_payment(i).vbank_date - before[i]).days for i in ids] == [2, 2, 2]
    keys = {w["imp_uid"]: w["action_key"] for w in db.writes.recent(WriteKind.UPDATE, ids, since=0)}
    assert set(keys) == set(ids) and len({k.rsplit(":", 1)[0] for k in keys.values()}) == 1   # one run, one key per row

    again = bulk.bulk_extend(client, db, operator=kim, payments=client.get_payments(ids[:1]), extend_days=2,
                             rules=rules)                         # another bulk (one account): its own run
    assert [r.outcome for r in again] == ["succeeded"]


# ------------------------------------------------------------------ #30 item 10: the small ones
@pytest.mark.parametrize("text, ok", [
    ("ok", False), ("ㅋ" * 10, False), ("." * 10, False), ("ㅋㅎㅋㅎㅋㅎㅋㅎㅋㅎ", False), ("ok ok ok ok ok", False),
    ("확인확인확인확인확인", False), ("aaaaaaaaaaaaaaa!", False), ("   ok      ", False),
    ("PG에 확인: 다음 영업일 입금 예정", True), ("고객이 개명 전 이름으로 알려 주었습니다", True),
    ("customer renamed, bankbook copy seen", True),
])
def test_a_reason_is_a_sentence_not_filler(text, ok):
    from lib.domain.rules import is_reason
    assert is_reason(text) is ok


def test_an_exception_is_not_closed_with_filler(db):
    from lib.domain.identity import Actor
    kim = Actor("kim@example.com", frozenset({"operator"}))
    for memo in ("ok", "ㅋ" * 10, "." * 10):
        with pytest.raises(ValueError, match="at least 10 characters"):
            db.resolutions.resolve("exc-1", memo=memo, owner="kim", summary={}, actor=kim)
    assert db.resolutions.resolved(["exc-1"]) == {}
    db.resolutions.resolve("exc-1", memo="PG에 확인: 다음 영업일 입금 예정", owner="kim", summary={}, actor=kim)
    assert set(db.resolutions.resolved(["exc-1"])) == {"exc-1"}


def test_a_holder_mismatch_is_not_overridden_with_filler():
    from lib.domain.rules import holder_problem
    check = {"ok": False, "available": True, "bank_says": "황준서", "typed": "김준서"}
    for filler in ("ㅋ" * 10, "." * 10, "ok ok ok ok ok", "          ok"):
        assert holder_problem(check, filler) is not None
    assert holder_problem(check, "고객이 개명 전 이름으로 알려 주었습니다") is None


def test_a_hanging_holder_lookup_gives_up_within_ten_seconds_with_a_sentence(fresh, client):
    """The bank's lookup hangs for 15 s, less than the read timeout (20 s): the check gives up at 10 s, once, and
    says so (before: the operator waited for the whole hang, or 3 tries x 20 s)."""
    from lib.domain.rules import RefundRequest, holder_problem
    from lib.services.refund import holder_check
    client.token()
    fresh.fault(path_prefix="/vbanks/holder", after="timeout", hang_s=15)
    fresh.clear_requests()
    req = RefundRequest(imp_uid="imp_x", amount=1000, reason_code="CUSTOMER_REQUEST", note=None, refund_bank="088",
                        refund_account="110-123-456789", refund_holder="김준서")
    check = holder_check(client, "settle", req)
    assert check.bank_says is None and "No reply within 10 s" in check.error
    assert len(fresh.requests_seen("/vbanks/holder")) == 1
    assert "did not work" in holder_problem(check.record(), "") == check.problem("")


def test_exchange_bank_codes_read_as_hana_and_hana_is_offered_with_its_own_code():
    """외환은행 (KEB) merged into 하나은행 in 2015. Kiwoom Pay's table keeps 외환은행 05 beside 하나은행 12 and the
    official spec's holder table keeps KFTC 005 beside 081: a refund is offered to 하나은행 with Hana's code (12 /
    081), and a stored or replied legacy code (05 / 005) reads as 하나은행 instead of a bare number."""
    from lib.domain import banks
    hana = [b for b in banks.refund_banks("daou") if b.name_ko == "하나은행"]
    assert [b.code for b in hana] == ["12"] and hana[0].kftc == "081"
    assert banks.bank_by_code("daou", "05").name_ko == "하나은행"
    assert banks.bank_by_code("daou", "12").name_ko == "하나은행"
    assert "하나은행" in banks.bank_name_for_kftc("005")
    assert "05" not in {b.code for b in banks.refund_banks("daou")}


def test_the_shared_list_is_served_with_its_age_while_iamport_fails_or_hangs(monkeypatch):
    """The pending list's shared cache during an outage: a failed reload returns the last list (with when it was
    read) and backs off for everyone; a reload that hangs is waited for only ``wait_s``, then the last list shows and
    the reload goes on (kept when it ends); a list cleared by a write is never served from before it unless
    reloading fails."""
    import types

    from lib.ui import cache as cache_mod
    clock = Clock()
    monkeypatch.setattr(cache_mod, "time", types.SimpleNamespace(time=clock))
    c = cache_mod.TTLCache(ttl=60)
    calls = []

    def failing():
        calls.append("x")
        raise ApiUnavailable("No reply within 20 s.", method="GET", path="/payments/status/ready")

    assert c.get_or_load("k", lambda: "v1", keep_on=(ApiUnavailable,)) == ("v1", clock.t)
    read_at = clock.t
    clock.t += 61
    assert c.get_or_load("k", failing, keep_on=(ApiUnavailable,)) == ("v1", read_at)      # the last, with its age
    since, err = c.failure("k")
    assert since == clock.t and "No reply" in err.message
    for _ in range(5):                                                                     # backing off: no reads
        assert c.get_or_load("k", failing, keep_on=(ApiUnavailable,)) == ("v1", read_at)
    assert len(calls) == 1
    clock.t += 61
    assert c.get_or_load("k", lambda: "v2", keep_on=(ApiUnavailable,))[0] == "v2" and c.failure("k") is None

    clock.t += 61                                                                          # I'mport hangs now
    release = threading.Event()

    def hanging():
        release.wait(10)
        return "v3"

    assert c.get_or_load("k", hanging, keep_on=(ApiUnavailable,), wait_s=0.05)[0] == "v2"
    assert not release.is_set()                                                           # ... still loading
    assert c.get_or_load("k", failing, keep_on=(ApiUnavailable,), wait_s=0.05)[0] == "v2"  # nobody waits, nobody reads
    assert len(calls) == 1
    release.set()
    pause = threading.Event()
    for _ in range(500):                                                                   # wait for the reload
        if c.get_or_load("k", failing, keep_on=(ApiUnavailable,))[0] == "v3":
            break
        pause.wait(0.01)
    assert c.get_or_load("k", failing, keep_on=(ApiUnavailable,))[0] == "v3" and len(calls) == 1
    c.clear()                                                                              # a write: never before it
    assert c.get_or_load("k", lambda: "v4", keep_on=(ApiUnavailable,), wait_s=0.05)[0] == "v4"
