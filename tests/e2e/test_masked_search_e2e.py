"""Issue 30 §3 in a real browser: a viewer (phones and e-mails masked) cannot unmask them through 결제 찾기 — a digit
in front of the visible last four, or a growing piece of an address, finds nothing; what the viewer sees, or the
whole value typed exactly, still finds the payment."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import settle

pytestmark = pytest.mark.browser


@pytest.fixture
def viewer_app(e2e_sandbox, tmp_path):
    from tests.e2e.helpers import App
    rules = tmp_path / "rules.toml"
    rules.write_text('local_roles = ["viewer"]\n')
    app = App(e2e_sandbox, tmp_path, VBANK_RULES_FILE=str(rules))
    yield app
    app.stop()


def _search(page, app, q: str):
    page.goto(app.url + "/search?q=" + quote(q))
    settle(page)


def test_a_viewer_cannot_unmask_a_phone_or_an_email_by_searching(page, viewer_app, e2e_sandbox):
    import time
    everyone = e2e_sandbox.all_payments("all")
    recent = [x for x in everyone if x["started_at"] > time.time() - 80 * 86400]
    tels = [x.get("buyer_tel") for x in everyone]
    mails = [(x.get("buyer_email") or "").lower() for x in everyone]
    p = next(x for x in recent if x.get("buyer_tel") and tels.count(x["buyer_tel"]) == 1
             and x.get("buyer_email") and mails.count(x["buyer_email"].lower()) == 1
             and len(x["buyer_email"].split("@")[0]) > 3)
    digits = re.sub(r"\D", "", p["buyer_tel"])
    none = re.compile(r"^No payment matches")
    found = re.compile(r"^\d[\d,]* payments? found")

    _search(page, viewer_app, digits[-5:])                 # a hidden digit + the visible last four
    expect(page.get_by_text(none)).to_be_visible()
    _search(page, viewer_app, digits[-8:])                 # more hidden digits
    expect(page.get_by_text(none)).to_be_visible()
    _search(page, viewer_app, digits[-4:])                 # what the viewer sees: found
    expect(page.get_by_text(found)).to_be_visible()
    _search(page, viewer_app, p["buyer_tel"])              # the whole number: found
    expect(page.get_by_text(found)).to_be_visible()

    email = p["buyer_email"]
    _search(page, viewer_app, email[1:])                   # a growing piece of the address
    expect(page.get_by_text(none)).to_be_visible()
    _search(page, viewer_app, email.split("@")[0][-2:] + "@" + email.split("@")[1])
    expect(page.get_by_text(none)).to_be_visible()
    _search(page, viewer_app, email)                       # the whole address: found
    expect(page.get_by_text(found)).to_be_visible()
    expect(page.get_by_text(email, exact=True)).to_have_count(0)     # and shown masked
