"""The watcher: what happened, told to the team's chat while nobody has the desk open (``python -m watcher``).

Longer than 400 lines: one pass's collecting (every source, each from its cursor), delivering (claims, grouping,
backoff, one thread per webhook) and wording share the pass's state; the digest's numbers live in lib/domain/digest.py
and lib/domain/since.py, the payouts ahead in lib/reports/ahead.py.

Every ``interval_s`` seconds one pass (``Watcher.run_once``):

* **collects** events since the watcher first started (its ``since``, kept in the app database): deposits (the API's
  paid list from the watcher's cursor, with two minutes of overlap), approval requests made and decided, writes with
  an unknown outcome and their resolution, refunds sent (the audit log), and the morning digest once per business day
  at ``digest_at`` (KST; weekends and Korean holidays skipped — the ``holidays`` package);
* **delivers** each event to each webhook at most once: the event is claimed in the sent-log (a primary key several
  watchers and restarts share), posted, then marked sent; a webhook that answers 5xx, times out or refuses is retried
  later with backoff (5 s, 10 s, … then every 10 minutes, for as long as it takes: a chat down for a day still gets
  every event) — it never blocks the other events or webhooks, and an event is never dropped. Only a webhook that
  keeps refusing the message itself (4xx but 408/429: a removed or mistyped hook) is given up after ``max_attempts``;
  that is shown on /admin. The error kept and shown names the webhook's host only: its path is its secret;
* **records** its last run, cursor and last error for the admin page.

Messages are Slack-compatible (``text`` plus ``blocks``), in the app's language (Korean by default), with links back to
the app (``public_url``); buyers' names masked, no account or phone numbers, no secrets; outside text is plain text in
the blocks and escaped (&, <, >) in ``text``. The HTTP POST itself is given by the caller (``post``): lib holds no
HTTP client but the API's.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import holidays

from lib.db.appdb import AppDb
from lib.db.watch_log import SEND_LEASE_S
from lib.domain import digest
from lib.domain.clock import KST
from lib.domain.fmt import krw, kst, mask_name, number
from lib.domain.i18n import N_, _
from lib.domain.kinds import Outcome, RequestKind, RequestStatus, WriteKind, WriteState
from lib.domain.models import Payment
from lib.domain.names import PG_NAMES, request_status
from lib.domain.text import payment_path
from lib.iamport.client import IamportClient
from lib.iamport.errors import ApiError
from lib.services import webhooks

Post = Callable[[str, dict[str, Any]], int]         # (url, JSON body) -> HTTP status; raises on no reply
# (the period's virtual accounts, the stored bank statements, now) -> the payouts ahead (lib/reports/ahead.py)
AheadFn = Callable[[list[dict[str, Any]], str | None, datetime], digest.Ahead]
STATEMENT_KEY = "bank_statement"                    # the bank statements' deposits by day and sender (watch_state)
OVERLAP_S = 120
GROUP_LINES = 30                                    # deposits listed in one message; the rest counted
LOOKBACK_DAYS = 120                                 # the digest's listing: refunds of payments started this far back
DECISIONS: dict[str, str] = {RequestStatus.REJECTED: N_("Rejected by {who}: {what}"),
             RequestStatus.EXECUTED: N_("Approved by {who} and carried out: {what}"),
             RequestStatus.WITHDRAWN: N_("Withdrawn by {who}: {what}"),
             RequestStatus.EXPIRED: N_("Expired without a decision: {what}"),
             RequestStatus.FAILED: N_("Approved by {who}, but the PG did not apply it: {what}"),
             RequestStatus.UNKNOWN: N_("Approved by {who}; whether it took effect is not known yet: {what}")}


def pg_trade_name(code: str | None) -> str:
    """A PG by its Korean trade name alone (토스페이먼츠), as the team says it; an unknown code as it is."""
    return PG_NAMES.get(code or "", code or "—")


@dataclass(frozen=True)
class WatchConfig:
    targets: tuple[str, ...]                        # webhook URLs (several allowed)
    public_url: str = "http://localhost:8501"       # where links in messages point
    interval_s: float = 60.0
    digest_at: str = "09:00"                        # KST, business days only
    exception_days: int = 3                         # a reconciliation exception still open this long is told
    max_attempts: int = 20                          # for a webhook that refuses the message itself (4xx)
    post_deadline_s: float = 10.0                   # the whole POST (connect, send, every byte of the answer)
    deposits_each: bool = False                     # one message per deposit instead of one per pass listing them
    webhook_missing_min: int = webhooks.MISSING_AFTER_MIN     # paid, no PortOne webhook this long: told


@dataclass(frozen=True)
class Event:
    key: str                                        # unique per event: "deposit:<imp_uid>", …
    text: str                                       # plain text (escaped for Slack's text field when sent)
    link: str | None = None                         # a path of the app ("/payment?imp_uid=…")
    group: str | None = None                        # "deposit": told together with the pass's other deposits
    amount: int = 0


@dataclass
class RunReport:
    events: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def target_id(url: str) -> str:
    """A webhook in the sent-log: its URL's hash (webhook URLs carry their own secret)."""
    return hashlib.sha256(url.encode()).hexdigest()[:64]


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_host(url: str) -> str:
    """A webhook as a person may see it (logs, /admin): the host only — the path and query carry its secret."""
    return urlsplit(url).hostname or "?"


def gives_up(status: int | None) -> bool:
    """A refusal that trying again will not change: the hook was removed or does not take this message. A server
    error, a timeout, no answer at all, 408 and 429 are temporary: those are tried again for as long as it takes."""
    return status is not None and 400 <= status < 500 and status not in (408, 429)


def backoff(attempts: int) -> float:
    return float(min(600, 5 * 2 ** max(0, attempts - 1)))


class Watcher:
    def __init__(self, client: IamportClient, db: AppDb, cfg: WatchConfig, *, post: Post,
                 clock: Callable[[], float] = time.time, ahead: AheadFn | None = None,
                 paid_recently: Callable[[float], list[Payment]] | None = None):
        self.client, self.db, self.cfg, self.post, self.clock = client, db, cfg, post, clock
        self.ahead = ahead
        self.paid_recently = paid_recently               # given while the webhook receiver runs (watcher/__main__.py)
        self._digested: digest.Digest | None = None
        self.log = db.watch
        self._moved: dict[str, str] = {}
        self._cursor_lock, self._claimed = threading.Lock(), 0
        self._named: dict[str, str] = {}                  # a pass's payments as people name them
        if cfg.post_deadline_s >= SEND_LEASE_S:       # a claim must outlive its send, or a second watcher resends
            raise ValueError("post_deadline_s must be shorter than the send lease")

    # ------------------------------------------------------------------ one pass
    def run_once(self) -> RunReport:
        now = self.clock()
        rep = RunReport()
        since = float(self.log.set_once("since", repr(now)))
        self._moved, self._claimed = {}, 0           # cursors moved by this pass, kept once its events are claimed
        self._named = {}
        try:
            events = self.collect(now, since)
        except ApiError as e:                       # the API is down: deliver what is due, report, try next pass
            events, self._moved = [], {}            # nothing collected: every cursor stays where it was
            rep.errors.append(_("The API could not be read: {msg}").format(msg=e.message))
        rep.events = len(events)
        messages = [(ev, self.message(ev)) for ev in events]
        # Each webhook is served by its own thread: one that answers slowly (each POST ends at its deadline) never
        # holds up another. Within one webhook, the events go in order; its new events are claimed (and moved
        # cursors kept) before its earlier failures are tried again.
        urls = list(dict.fromkeys(self.cfg.targets))
        if len(urls) <= 1:
            parts = [self._serve(u, messages, now) for u in urls]
        else:
            with ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="webhook") as pool:
                futures = [pool.submit(contextvars.copy_context().run, self._serve, u, messages, now) for u in urls]
                parts = [f.result() for f in futures]          # a failure of the app database is raised here
        for part in parts:
            rep.sent, rep.failed = rep.sent + part.sent, rep.failed + part.failed
            rep.errors += part.errors
        self.log.set("last_run", repr(now))
        self.log.set("last_error", rep.errors[-1] if rep.errors else "")
        return rep

    def _serve(self, url: str, messages: list[tuple[Event, dict[str, Any]]], now: float) -> RunReport:
        """One webhook's share of a pass: its new events (claimed right before each is posted, with the lease counted
        from the claim, so a long pass never sends on an expired claim), then its earlier failures whose backoff is
        over. A webhook that did not answer (or answered 5xx) is not tried again in this pass: its other events wait
        for the next one, so a hanging chat costs one deadline per pass, not one per event."""
        rep = RunReport()
        down: dict[str, str] = {}
        tid = target_id(url)
        grouped = [(ev, payload) for ev, payload in messages if ev.group and not self.cfg.deposits_each]
        if len(grouped) > 1:                         # claimed together (their own rows keep their own message until
            mine = [ev for ev, payload in grouped    # the group's row is in: a watcher stopped between loses nothing)
                    if self.log.claim_new(ev.key, tid, payload, self.clock())]
            if len(mine) > 1:
                group = self.deposits_event(mine)
                payload = self.message(group)
                if self.log.claim_new(group.key, tid, payload, self.clock()):
                    for ev in mine:
                        self.log.sent(ev.key, tid, 0, now)     # told in the group's message (attempts 0)
                    self._deliver(url, group.key, payload, now, rep, down)
            elif mine:
                self._deliver(url, mine[0].key, next(p for e, p in grouped if e is mine[0]), now, rep, down)
            messages = [(ev, p) for ev, p in messages if not (ev.group and not self.cfg.deposits_each)]
        for ev, payload in messages:                 # each claimed right before it is posted: its lease counts
            if self.log.claim_new(ev.key, tid, payload, self.clock()):     # from then
                self._deliver(url, ev.key, payload, now, rep, down)
        with self._cursor_lock:                      # every webhook's claims are in: a stopped watcher reads again
            self._claimed += 1
            if self._claimed >= len(set(self.cfg.targets)):
                for k, v in self._moved.items():
                    self.log.set(k, v)
                self._moved, self._claimed = {}, 0
        for row in self.log.due(now):                # earlier failures whose backoff is over
            if row["target"] != tid or url in down or not self.log.claim_retry(row, self.clock()):
                continue
            self._send(url, row["event_key"], json.loads(row["payload"]), int(row["attempts"]) + 1, now, rep, down)
        return rep

    def _deliver(self, url: str, key: str, payload: dict[str, Any], now: float, rep: RunReport,
                 down: dict[str, str]) -> None:
        """A new event just claimed: posted, or kept for the next pass when this webhook is down in this one."""
        if url in down:
            self.log.failed(key, target_id(url), 0, down[url], now + backoff(1), now)
            rep.failed += 1
        else:
            self._send(url, key, payload, 1, now, rep, down)

    def _send(self, url: str, key: str, payload: dict[str, Any], attempt: int, now: float, rep: RunReport,
              down: dict[str, str]) -> None:
        status: int | None = None
        try:
            status = self.post(url, payload)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as e:  # noqa: BLE001 - any failure to deliver is retried, never fatal
            error = type(e).__name__             # never str(e): an HTTP library's message carries the URL
        if error is None:
            self.log.sent(key, target_id(url), attempt, now)
            rep.sent += 1
            return
        error = f"{webhook_host(url)}: {error}"
        if not gives_up(status):                  # no answer, 5xx, 408, 429: down for the rest of this pass
            down[url] = error
        stop = gives_up(status) and attempt >= self.cfg.max_attempts
        retry_at = None if stop else now + backoff(attempt)
        self.log.failed(key, target_id(url), attempt, error, retry_at, now)
        rep.failed += 1
        rep.errors.append(_("A webhook refused an event {n} times ({error}); it is not tried again: check the "
                            "webhook's address.").format(n=attempt, error=error) if stop else
                          _("A webhook did not take an event ({error}); it is tried again later.").format(error=error))

    # ------------------------------------------------------------------ events
    def collect(self, now: float, since: float) -> list[Event]:
        """This pass's events. Each source is read from where the last pass stopped (less two minutes of overlap for
        records committed late), so a pass costs what happened since the last one — not the whole audit log since
        the watcher started; the sent-log makes the overlap harmless."""
        out = self._deposits(now, since)
        cursor = max(since, float(self.log.get("db_to") or since) - OVERLAP_S)
        out += self._approvals(cursor)
        out += self._writes(cursor)
        out += self._open_exceptions(now, cursor)
        self._moved["db_to"] = repr(now)
        self._digested = None
        d = self._digest(now)
        if d is not None:
            out.append(d)
        out += self._late(now)
        out += self._drift()
        out += self._no_webhook(now)
        return out

    def _no_webhook(self, now: float) -> list[Event]:
        """Paid in the API but PortOne's webhook never came (the merchant's most common complaint): told once per
        payment, only while the receiver runs. Each pass looks at the payments whose time ran out since the last one
        (two minutes of overlap; the sent-log makes it harmless); a listing that fails is asked again next pass."""
        if self.paid_recently is None:
            return []
        window = self.cfg.webhook_missing_min * 60
        cursor = float(self.log.get("no_webhook_to") or 0) - OVERLAP_S
        try:
            missing = webhooks.missing_now(self.db, self.paid_recently(now), now, within_minutes=self.cfg.webhook_missing_min)
        except Exception:  # noqa: BLE001 - the API or the mirror did not answer: the next pass asks again
            return []
        self._moved["no_webhook_to"] = repr(now)
        return [Event(f"no_webhook:{webhooks.api_of(m.payment)}:{m.payment.imp_uid}"[:120],
                      _("Paid, but PortOne's webhook has not arrived for {minutes} minutes: {amount}, order {order}, "
                        "{buyer} ({pg}), paid at {at}. Check the webhook address in PortOne's console.").format(
                          minutes=number(int((now - m.paid_at) // 60)), amount=krw(m.payment.amount),
                          order=m.payment.merchant_uid or "—", buyer=mask_name(m.payment.buyer_name) or "—",
                          pg=pg_trade_name(m.payment.pg_provider),
                          at=kst(datetime.fromtimestamp(m.paid_at, KST))), payment_path(m.payment.imp_uid))
                for m in missing if m.webhook_at is None and m.paid_at + window > cursor]

    def _drift(self) -> list[Event]:
        """The payments mirror's nightly re-read found payments it had different (lib/services/mirror_sync.py): told
        once per re-read, with a few of them."""
        out = []
        for api in ("v1", "v2"):
            st = self.db.mirror_sync.get(api)
            if st.get("last_full_at") and (st.get("drift") or 0) > 0:
                some = ", ".join(str(i) for i in st.get("drift_ids", [])[:5])
                out.append(Event(key=f"mirror_drift:{api}:{int(float(st['last_full_at']))}", text=_(
                    "The nightly re-read of the payments found {n} that the desk's copy had different (changed in the "
                    "PG's or PortOne's console, or missed): {some}. The copy is corrected; no money was moved by "
                    "this.").format(n=st["drift"], some=some), link="/admin"))
        return out

    def _deposits(self, now: float, since: float) -> list[Event]:
        cursor = float(self.log.get("deposits_to") or since)
        rows = self.client.list_by_status_raw("paid", int(cursor - OVERLAP_S), int(now))
        self._moved["deposits_to"] = repr(now)
        return [Event(f"deposit:{r['imp_uid']}", _("Deposit received: {amount} from {buyer} ({pg}, order {order})")
                      .format(amount=krw(r.get("amount")), buyer=mask_name(r.get("buyer_name")) or "—",
                              pg=pg_trade_name(r.get("pg_provider")), order=r.get("merchant_uid") or "—"),
                      payment_path(r['imp_uid']), group="deposit", amount=int(r.get("amount") or 0))
                for r in rows if r.get("pay_method") == "vbank" and (r.get("paid_at") or 0) >= int(since)]   # whole seconds

    def deposits_event(self, evs: list[Event]) -> Event:
        """Several deposits of one pass as one message: the total first, then one line each (at most ``GROUP_LINES``;
        the rest counted), linking to the pending list's 새 입금."""
        key = "deposits:" + hashlib.sha256("|".join(sorted(e.key for e in evs)).encode()).hexdigest()[:32]
        head = _("{n} deposits received, {amount} in all").format(n=number(len(evs)),
                                                                  amount=krw(sum(e.amount for e in evs)))
        body = [f"· {e.text}" for e in evs[:GROUP_LINES]]
        if len(evs) > GROUP_LINES:
            body.append(_("… and {n} more").format(n=number(len(evs) - GROUP_LINES)))
        return Event(key, "\n".join([head, *body]), "/")

    def _about(self, imp_uid: str) -> str:
        """A payment as the team names it: order number, buyer masked, PG (looked up; a lookup that fails says the
        payment's id)."""
        if not imp_uid:
            return "—"
        if imp_uid not in self._named:
            try:
                p = self.client.get_payment(imp_uid) if len(self._named) < 30 else None
            except ApiError:
                p = None
            self._named[imp_uid] = (_("order {order}, {buyer}, {pg}").format(
                order=p.merchant_uid or "—", buyer=mask_name(p.buyer_name) or "—", pg=pg_trade_name(p.pg_provider))
                if p is not None else _("payment {imp_uid}").format(imp_uid=imp_uid))
        return self._named[imp_uid]

    def _approvals(self, since: float) -> list[Event]:
        out = []
        for r in self.db.approvals.changed_since(since):
            what = _("a refund of {amount}").format(amount=krw(r.amount)) if r.kind == RequestKind.REFUND else \
                _("{n} accounts").format(n=r.amount)
            if r.kind == RequestKind.REFUND and r.imp_uid:
                what = f"{what} ({self._about(r.imp_uid)})"
            if r.created_at.timestamp() >= since:
                out.append(Event(f"approval:{r.id}:requested", _("{who} asks for approval: {what}").format(
                    who=r.requester, what=what), f"/approvals?id={r.id}"))
            if r.decided_at is not None and r.decided_at.timestamp() >= since and r.status != RequestStatus.PENDING:
                said = DECISIONS.get(r.status)
                text = (_(said).format(who=r.decided_by or "—", what=what) if said else
                        _("Approval request {state} ({who}): {what}").format(
                            state=request_status(r.status), who=r.decided_by or "—", what=what))
                out.append(Event(f"approval:{r.id}:{r.status}", text, f"/approvals?id={r.id}"))
        return out

    def _writes(self, since: float) -> list[Event]:
        """Money writes that moved since ``since`` (lib/db/writes.py): an outcome found unknown, an unknown outcome
        settled, a refund that went through."""
        out = []
        for r in self.db.writes.changed_since(since):
            cid, imp = r["correlation_id"], r["imp_uid"] or ""
            link = payment_path(imp)
            if r["unknown_at"] is not None and r["unknown_at"] >= since:
                out.append(Event(f"unknown:{cid}", _("It is not known whether a change by {who} took effect ({what}): "
                                                     "check the payment; nothing more is sent for it until that is "
                                                     "settled.").format(who=r["operator"], what=self._about(imp)),
                                 link))
            if r["resolved_at"] is not None and r["resolved_at"] >= since:
                out.append(Event(f"resolved:{cid}", _("Settled by {who}: whether the change took effect is now known "
                                                      "({what}).").format(who=self._resolver(cid), what=self._about(imp)),
                                 link))
            elif (r["kind"] == WriteKind.REFUND and r["state"] == WriteState.SUCCEEDED and r["resolved_at"] is None):
                out.append(Event(f"refund:{cid}", _("Refunded {amount} by {who} ({what})").format(
                    amount=krw(r["amount"]), who=r["operator"], what=self._about(imp)), link))
        return out

    def _resolver(self, cid: str) -> str:
        """Who settled the write ``cid`` (its "resolved" audit record)."""
        df = self.db.audit.records(correlation_id=cid, outcome=Outcome.RESOLVED, limit=1)
        return str(df.iloc[0]["operator"]) if not df.empty else "—"

    def _open_exceptions(self, now: float, cursor: float) -> list[Event]:
        """Exceptions that reached ``exception_days`` since the last pass and are still open."""
        days = self.cfg.exception_days
        seen = self.db.recon_seen.first_seen_between(cursor - days * 86400, now - days * 86400)
        closed = self.db.resolutions.resolved(list(seen))
        return [Event(f"recon_open:{k}", _("A reconciliation exception is still open after {days} days: {what}").format(
                    days=days, what=label), "/reconcile") for k, (label, _first) in seen.items() if k not in closed]

    def _digest(self, now: float) -> Event | None:
        at = datetime.fromtimestamp(now, KST)
        hh, mm = (int(x) for x in self.cfg.digest_at.split(":"))
        if at.weekday() >= 5 or at.date() in holidays.KR(years=at.year) or (at.hour, at.minute) < (hh, mm):
            return None
        key = f"digest:{at.date()}"
        if self.log.get("digest_day") == str(at.date()):
            return None
        d = self.digest(now)
        self._digested = d
        self._moved["digest_day"] = str(at.date())     # kept once claimed (see run_once)
        return Event(key, "\n".join(digest.lines(d)), "/today")

    def digest(self, now: float) -> digest.Digest:
        """The numbers of the morning digest at ``now``."""
        return today_digest(self.client, self.db, now, ahead=self.ahead)

    def _late(self, now: float) -> list[Event]:
        """Expected payouts a business day late in a matched bank statement, told once each: checked once a day and
        again when a new statement is matched (nothing is claimed without a statement covering the day)."""
        if self.ahead is None:
            return []
        stmt = self.log.get(STATEMENT_KEY)
        at = datetime.fromtimestamp(now, KST)
        mark = f"{at.date()}|{hashlib.sha256((stmt or '').encode()).hexdigest()[:16]}"
        a = self._digested.ahead if self._digested is not None else None
        if a is None:
            if self.log.get("ahead_checked") == mark or not stmt:
                return []
            a = self.ahead(vbank_payments(self.client, now), stmt, at)
        self._moved["ahead_checked"] = mark
        to = digest.day_name(a.statement_to) if a.statement_to else "—"
        return [Event(f"payout_late:{r.day}:{r.sender}"[:120],
                      _("{pgs}: the payout expected on {day} came in short: {received} of {amount} in the bank "
                        "statement matched up to {to}.").format(pgs=r.pgs, day=digest.day_name(r.day),
                                                                 received=krw(r.received), amount=krw(r.expected),
                                                                 to=to) if r.received else
                      _("{pgs}: the payout of {amount} expected on {day} is not in the bank statement matched up to "
                        "{to} (a business day late or more).").format(
                          pgs=r.pgs, amount=krw(r.expected), day=digest.day_name(r.day), to=to), "/payouts")
                for r in a.late_rows]

    # ------------------------------------------------------------------ the message
    def message(self, ev: Event) -> dict[str, Any]:
        url = self.cfg.public_url.rstrip("/") + ev.link if ev.link else None
        text = slack_escape(ev.text) + (f" <{url}|{_('Open')}>" if url else "")
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "plain_text", "text": ev.text[:2900]}}]
        if url:
            blocks.append({"type": "actions", "elements": [{"type": "button", "url": url,
                                                            "text": {"type": "plain_text", "text": _("Open")}}]})
        return {"text": text, "blocks": blocks, "event": ev.key, "at": kst(datetime.now(KST))}


def vbank_payments(client: IamportClient, now: float) -> list[dict[str, Any]]:
    """Every virtual account started in the last ``LOOKBACK_DAYS`` days, whatever its status (one listing for the
    pending figures, what moved since the last business day, and the payouts ahead)."""
    t = int(now)
    a = t - LOOKBACK_DAYS * 86400
    # ``all`` lists by each payment's final-status time (the spec): every payment started since ``a`` is in
    # [a, t] by that time too; those started earlier but paid or refunded since are left out here.
    return [p for p in client.list_by_status_raw("all", a, t, pay_method="vbank") if (p.get("started_at") or 0) >= a]


def today_digest(client: IamportClient, db: AppDb, now: float, *, ahead: AheadFn | None = None) -> digest.Digest:
    """오늘의 요약 at ``now``: the pending accounts (90 days), what moved since the last business day and the same days
    a week earlier (by when the money moved: lib/domain/since.py), open approval requests, unknown outcomes and
    reconciliation exceptions not closed (the app database); with ``ahead``, the payouts ahead too."""
    return digest_from(vbank_payments(client, now), db, now, ahead=ahead)


def digest_from(payments: list[dict[str, Any]], db: AppDb, now: float, *, ahead: AheadFn | None = None
                ) -> digest.Digest:
    """The digest from the virtual accounts already read (``vbank_payments``) and the app database's counts."""
    t = int(now)
    pending = [p for p in payments if p.get("status") == "ready" and int(p.get("started_at") or 0) >= t - 90 * 86400]
    unknown = db.writes.count(WriteState.UNKNOWN)
    at = datetime.fromtimestamp(now, KST)
    return digest.build(now=at, pending=pending, payments=payments,
                        open_approvals=len(db.approvals.list(status=RequestStatus.PENDING)), unknown_outcomes=unknown,
                        open_exceptions=open_exceptions(db),
                        ahead=ahead(payments, db.watch.get(STATEMENT_KEY), at) if ahead else None)


def stored_statement(db: AppDb) -> str | None:
    """The bank statements matched so far (lib/reports/ahead.py's JSON), or None."""
    return db.watch.get(STATEMENT_KEY)


def remember_statement(db: AppDb, stored: str) -> None:
    db.watch.set(STATEMENT_KEY, stored)


def open_exceptions(db: AppDb) -> int:
    """Reconciliation exceptions a run of the page showed (kept in the app database) that nobody has closed."""
    seen = db.recon_seen.keys()
    return len(set(seen) - db.resolutions.resolved(seen).keys())


def config_from_env(env: dict[str, str]) -> WatchConfig:
    targets = tuple(u for u in env.get("VBANK_WEBHOOK_URL", "").replace(",", " ").split() if u.startswith("http"))
    return WatchConfig(targets=targets, public_url=env.get("VBANK_PUBLIC_URL", "http://localhost:8501"),
                       interval_s=max(5.0, float(env.get("VBANK_WATCH_INTERVAL", "60") or 60)),
                       digest_at=env.get("VBANK_DIGEST_AT", "09:00"),
                       exception_days=max(1, int(env.get("VBANK_EXCEPTION_DAYS", "3") or 3)),
                       deposits_each=env.get("VBANK_DEPOSITS_EACH", "").strip().lower() in ("1", "true", "yes"),
                       post_deadline_s=min(max(1.0, float(env.get("VBANK_POST_DEADLINE", "10") or 10)),
                                           SEND_LEASE_S / 2),
                       webhook_missing_min=max(1, int(env.get("VBANK_WEBHOOK_MISSING_MIN", "") or
                                                      webhooks.MISSING_AFTER_MIN)))

