"""/admin adds and changes built-in accounts (lib/db/accounts.py); accounts mode asks for a password first."""

from __future__ import annotations

from lib.db.appdb import AppDb
from lib.domain.settings import get_settings


def _db():
    return AppDb(get_settings().audit_db_url)


def test_an_admin_adds_an_account_and_sees_its_one_time_password_once(app):
    at = app("app_pages/admin.py").run()
    assert not at.exception
    at.text_input(key="admin_new_email").input("Choi@Example.com")
    at.multiselect(key="admin_new_roles").set_value(["operator", "approver"])
    at.button[[b.label for b in at.button].index("Add")].click().run()
    assert not at.exception
    pw = at.code[0].value
    db = _db()
    acc = db.accounts.get("choi@example.com")
    assert acc.roles == {"operator", "approver"} and acc.must_change and not acc.totp
    assert db.accounts.check_password("choi@example.com", pw).account.must_change
    rec = db.audit.records()
    assert list(rec[rec.action == "account"].operator) == ["tester@example.com"]
    at.run()
    assert not at.code                                     # shown once
    at.button(key="admin_disable").click().run()
    assert _db().accounts.get("choi@example.com").disabled


def test_accounts_mode_asks_for_a_password_and_refuses_a_wrong_one(app, monkeypatch):
    monkeypatch.setenv("VBANK_IDENTITY_MODE", "accounts")
    get_settings.cache_clear()
    _db().accounts.add("kim@example.com", ["operator", "viewer"], by=None, password="blue-harbour-lantern")
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "Sign in to vbank-desk" and not at.dataframe
    at.text_input(key="signin_email").input("kim@example.com")
    at.text_input(key="signin_password").input("not the password")
    at.button[0].click().run()
    assert "wrong" in at.error[0].value
    at.text_input(key="signin_email").input("kim@example.com")
    at.text_input(key="signin_password").input("blue-harbour-lantern")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert any("kim" in c.value and "Signed in as" in c.value for c in at.sidebar.caption)
