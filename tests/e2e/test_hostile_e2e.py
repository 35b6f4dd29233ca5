"""Issue 14 in the browser: hostile values from the API, the URL, a file and another operator render as text on
every page — no link, image, heading, emphasis or coloured span appears but the app's own, and no script runs."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from lib.db.appdb import AppDb
from lib.domain import banks, rules
from lib.domain.identity import Actor
from lib.domain.settings import load_settings
from lib.iamport.client import IamportClient
from lib.services import approval_flow
from tests.e2e.helpers import drop, open_app, settle

pytestmark = pytest.mark.browser

PHISH = "Your session expired: [sign in again](http://evil.example/login) **call 02-000-0000**"
BUYER = ":red[pre-approved by CFO] ## Approve here"
NOTE = "URGENT **Approve here** [pay now](http://evil.example/pay) <img src=x onerror=\"window.__pwned=1\">"
HOLDER = "홍길동 :green-badge[verified]"
OVERRIDE = "고객 확인 완료 [계좌 변경](http://evil.example) **즉시 승인**"     # shown to the approver, as text


def assert_inert(page, *literals: str) -> None:
    """Nothing from the corpus became markup; the given values are shown as the literal text they are."""
    settle(page)
    assert page.evaluate("() => window.__pwned === undefined"), "a script from the data ran"
    origin = page.evaluate("() => location.origin")
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    foreign = [h for h in hrefs if not h.startswith(origin + "/") and not h.startswith("https://docs.streamlit.io")
               and not h.startswith("https://sandbox.receipt.local/")]
    assert not foreign, foreign          # only the app's own links and the PG receipt the API names (https only)
    assert page.locator("img[src*=evil], img[src='x']").count() == 0
    bad = page.evaluate("""() => {
        const out = [];
        for (const el of document.querySelectorAll('h1,h2,h3,h4,h5,h6,strong,em,del,code,blockquote,li,span')) {
            const t = el.textContent || '';
            const own = el.tagName === 'SPAN' ? (el.getAttribute('style') || '').includes('color') : true;
            if (own && /URGENT|Approve here|call 02-000|pre-approved|verified|sign in again|pay now/.test(t)
                    && !/[\\[\\]*:]/.test(t)) out.push(el.tagName + ': ' + t.slice(0, 60));
        }
        return out;
    }""")
    assert not bad, bad
    body = page.locator("[data-testid=stMain]").inner_text().replace("\u2060", "")
    for lit in literals:
        assert lit in body, f"{lit!r} is not shown as text"


@pytest.fixture
def hostile(e2e_sandbox, e2e_app):
    """A pending virtual account and a paid one whose buyer and product carry markup, and an approval request
    whose note and holder name do, made by another operator in the app's own database."""
    s = e2e_sandbox
    due = int(time.time()) + 5 * 86400
    made = []
    for merchant in ("ORD-hostile-1", "ORD-hostile-2"):
        r = s.api("POST", "/vbanks", json={"merchant_uid": merchant, "amount": 54_000, "vbank_code": "088",
                                           "vbank_due": due, "pg": "kcp", "name": PHISH, "buyer_name": BUYER,
                                           "buyer_email": "call@evil.example", "buyer_tel": "010-1234-5678"})
        made.append(r.json()["response"]["imp_uid"])
    s.deposit(made[1])
    settings = load_settings(env={"IAMPORT_API_URL": s.url, "VBANK_SECRETS_FILE": "/nonexistent",
                                  "VBANK_RULES_FILE": "/nonexistent"})
    c = IamportClient(settings)
    p = c.get_payment(made[1])
    req = approval_flow.request_refund_approval(
        c, AppDb(e2e_app.audit_url), requester=Actor("mallory@example.com", frozenset({"operator"})),
        seen=rules.Seen.of(p), rules=settings.rules, note=NOTE,
        request=rules.RefundRequest(imp_uid=p.imp_uid, amount=12_000, reason_code="OTHER", note=PHISH,
                                       refund_holder=HOLDER, refund_bank=banks.refund_banks("kcp")[0].code,
                                       refund_account="110123456789", holder_override=OVERRIDE))
    yield {"ready": made[0], "paid": made[1], "request": req.id}
    approval_flow.withdraw(AppDb(e2e_app.audit_url), requester=Actor("mallory@example.com", frozenset({"operator"})),
                      request_id=req.id)


def test_every_page_shows_hostile_values_as_text(page, e2e_app, hostile):
    page.add_init_script("window.__pwned = undefined")
    open_app(page, e2e_app, f"/payment?imp_uid={hostile['ready']}")
    assert_inert(page, "[sign in again](http://evil.example/login)")
    open_app(page, e2e_app, f"/update?imp_uid={hostile['ready']}")
    assert_inert(page, ":red[pre-approved by CFO]")
    open_app(page, e2e_app, f"/refund?imp_uid={hostile['paid']}")
    assert_inert(page)
    open_app(page, e2e_app, "/approvals")
    assert_inert(page, "URGENT **Approve here** [pay now](http://evil.example/pay)", ":green-badge[verified]")
    open_app(page, e2e_app, "/")
    assert_inert(page)
    open_app(page, e2e_app, "/audit")
    assert_inert(page)


def test_a_crafted_deep_link_is_not_found_as_plain_text(page, e2e_app):
    page.add_init_script("window.__pwned = undefined")
    crafted = "ORDER-1”. " + PHISH
    open_app(page, e2e_app, "/payment?merchant_uid=" + quote(crafted))
    expect(page.get_by_text("No payment found")).to_be_visible()
    assert_inert(page, "[sign in again](http://evil")
    for path in ("/payment?imp_uid=..", "/payment?imp_uid=" + quote("imp_../../x"), "/update?imp_uid=" + "x" * 5000,
                 "/refund?imp_uid=" + quote("imp_\u202e123")):
        open_app(page, e2e_app, path)
        expect(page.get_by_text("No payment found")).to_be_visible()
        assert_inert(page)
    open_app(page, e2e_app, "/search?q=" + quote(crafted))               # the search says the query as text
    expect(page.get_by_text(re.compile(r"^No payment matches"))).to_be_visible()
    assert_inert(page, "[sign in again](http://evil")


def test_a_hostile_upload_ends_in_one_sentence(page, e2e_app, tmp_path):
    page.add_init_script("window.__pwned = undefined")
    f = tmp_path / "[x](http:evil.example) **bold**.csv"
    f.write_bytes("거래일자,금액,금액\n2026-11-20,1,2\n".encode("cp949"))
    open_app(page, e2e_app, "/reconcile")
    drop(page, 0, f)
    expect(page.get_by_text("twice (columns 2 and 3)")).to_be_visible()
    assert_inert(page, "[x](http:evil.example) **bold**.csv")
