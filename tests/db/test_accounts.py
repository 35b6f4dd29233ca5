"""Built-in accounts (lib/db/accounts.py, lib/domain/identity.py): argon2 hashes, the lockout, TOTP codes used once,
approver and admin only with the second factor, the audit of sign-ins — and never a password or secret in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyotp
import pytest

from lib.db.accounts import AccountError, provisioning_uri, totp_step
from lib.db.appdb import AppDb
from lib.domain.identity import (
    LOCKOUT_FAILURES,
    LOCKOUT_WINDOW_S,
    Actor,
    Forbidden,
    effective_roles,
    locked_until,
    parse_roles,
    password_problem,
)
from lib.domain.settings import ROOT

T0 = 1_800_000_000.0
PW = "correct horse battery"


@pytest.fixture
def db(tmp_path):
    d = AppDb(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    yield d
    d.dispose()


def _audit_text(db) -> str:
    return db.audit.records().to_json(force_ascii=False)


def test_the_password_is_stored_as_an_argon2_hash_and_checked(db):
    db.accounts.add("Kim@Example.com", ["operator"], by=None, password=PW)
    with db.engine.connect() as c:
        stored = c.exec_driver_sql("SELECT password_hash FROM accounts").scalar()
    assert stored.startswith("$argon2id$") and PW not in stored
    assert db.accounts.check_password("kim@example.com", PW, T0).status == "ok"
    assert db.accounts.check_password("kim@example.com", PW + "x", T0 + 1).status == "wrong"
    assert db.accounts.check_password("nobody@example.com", PW, T0 + 2).status == "wrong"


def test_a_one_time_password_must_be_changed(db):
    pw = db.accounts.add("lee@example.com", "viewer", by=None)
    acc = db.accounts.check_password("lee@example.com", pw, T0).account
    assert acc and acc.must_change
    assert db.accounts.choose_password("lee@example.com", "short") is not None
    assert db.accounts.choose_password("lee@example.com", PW) is None
    assert not db.accounts.get("lee@example.com").must_change
    assert db.accounts.check_password("lee@example.com", pw, T0 + 1).status == "wrong"


def test_lockout_after_repeated_failures_even_with_the_right_password(db):
    db.accounts.add("kim@example.com", ["operator"], by=None, password=PW)
    for i in range(LOCKOUT_FAILURES):
        assert db.accounts.check_password("kim@example.com", "wrong-password", T0 + i).status == "wrong"
    locked = db.accounts.check_password("kim@example.com", PW, T0 + 10)
    assert locked.status == "locked" and locked.until == T0 + LOCKOUT_WINDOW_S
    assert db.accounts.check_password("kim@example.com", PW, T0 + LOCKOUT_WINDOW_S + 1).status == "ok"


def test_a_successful_sign_in_forgets_the_failures(db):
    db.accounts.add("kim@example.com", ["operator"], by=None, password=PW)
    for i in range(LOCKOUT_FAILURES - 1):
        db.accounts.check_password("kim@example.com", "nope-nope", T0 + i)
    ok = db.accounts.check_password("kim@example.com", PW, T0 + 5)
    db.accounts.signed_in(ok.account, second_factor=False)
    assert db.accounts.check_password("kim@example.com", "nope-nope", T0 + 6).status == "wrong"
    assert db.accounts.check_password("kim@example.com", PW, T0 + 7).status == "ok"


def test_locked_until_counts_only_the_window():
    assert locked_until([T0] * (LOCKOUT_FAILURES - 1), T0) is None
    assert locked_until([T0 - LOCKOUT_WINDOW_S] + [T0] * (LOCKOUT_FAILURES - 1), T0) is None
    assert locked_until([T0 + i for i in range(LOCKOUT_FAILURES + 2)], T0 + 9) == T0 + 2 + LOCKOUT_WINDOW_S


def test_totp_enrolment_and_codes_used_once(db):
    db.accounts.add("park@example.com", ["approver"], by=None, password=PW)
    secret = pyotp.random_base32()
    assert "vbank-desk" in provisioning_uri(secret, "park@example.com")
    totp = pyotp.TOTP(secret)
    assert not db.accounts.enrol_totp("park@example.com", secret, "000000" if totp.at(T0) != "000000" else "111111", T0)
    assert db.accounts.enrol_totp("park@example.com", secret, totp.at(T0), T0)
    assert db.accounts.get("park@example.com").totp
    assert not db.accounts.enrol_totp("park@example.com", pyotp.random_base32(), totp.at(T0), T0)   # one only
    assert db.accounts.check_code("park@example.com", totp.at(T0), T0 + 1).status == "wrong"        # replayed
    assert db.accounts.check_code("park@example.com", totp.at(T0 + 30), T0 + 30).status == "ok"
    assert db.accounts.check_code("park@example.com", totp.at(T0 + 30), T0 + 31).status == "wrong"  # once
    assert db.accounts.check_code("park@example.com", totp.at(T0 - 300), T0 + 60).status == "wrong"  # stale
    assert totp_step(secret, "12345a", T0, None) is None


def test_wrong_codes_count_towards_the_lockout(db):
    db.accounts.add("park@example.com", ["approver"], by=None, password=PW)
    secret = pyotp.random_base32()
    db.accounts.enrol_totp("park@example.com", secret, pyotp.TOTP(secret).at(T0), T0)
    good = pyotp.TOTP(secret).at(T0 + 60)
    bad = "123456" if good != "123456" else "654321"
    for i in range(LOCKOUT_FAILURES):
        db.accounts.check_code("park@example.com", bad, T0 + 60 + i)
    assert db.accounts.check_code("park@example.com", good, T0 + 66).status == "locked"


def test_approver_and_admin_need_the_second_factor():
    roles = parse_roles("approver,viewer,admin")
    assert effective_roles(roles, second_factor=False) == {"viewer"}
    assert effective_roles(roles, second_factor=True) == roles
    without = Actor("park@example.com", effective_roles(roles, second_factor=False), "accounts")
    with pytest.raises(Forbidden):
        without.require("approve_refund")
    with pytest.raises(Forbidden):
        without.require("admin")
    Actor("park@example.com", roles, "accounts").require("approve_refund")
    with pytest.raises(ValueError, match="Unknown role"):
        parse_roles(["boss"])


def test_password_rules():
    assert password_problem("short") and password_problem("aaaaaaaaaaaaaa")
    assert password_problem("kimkimkim12345!", "kim@example.com")
    assert password_problem(PW, "kim@example.com") is None


def test_admin_changes_need_the_admin_role_and_are_audited(db):
    admin = Actor("it@example.com", frozenset({"admin"}), "accounts")
    viewer = Actor("v@example.com", frozenset({"viewer"}), "accounts")
    with pytest.raises(Forbidden):
        db.accounts.add("x@example.com", ["viewer"], by=viewer)
    pw = db.accounts.add("x@example.com", ["viewer"], by=admin)
    with pytest.raises(AccountError, match="already"):
        db.accounts.add("X@example.com", ["viewer"], by=admin)
    db.accounts.set_roles("x@example.com", ["viewer", "operator"], by=admin)
    epoch = db.accounts.get("x@example.com").epoch
    pw2 = db.accounts.reset_password("x@example.com", by=admin)
    assert db.accounts.get("x@example.com").epoch == epoch + 1           # the person's sessions end
    db.accounts.set_disabled("x@example.com", True, by=admin)
    assert db.accounts.check_password("x@example.com", pw2, T0).status == "wrong"
    with pytest.raises(AccountError):
        db.accounts.set_disabled("it@example.com", True, by=admin)
    recs = db.audit.records()
    changes = [json.loads(d)["change"] for d in recs[recs.action == "account"].detail]
    assert sorted(changes) == ["added", "disabled", "password reset", "roles"]
    text = _audit_text(db)
    assert pw not in text and pw2 not in text and "$argon2" not in text


def test_sign_ins_and_failures_are_audited_without_secrets(db):
    db.accounts.add("park@example.com", ["approver"], by=None, password=PW)
    secret = pyotp.random_base32()
    db.accounts.enrol_totp("park@example.com", secret, pyotp.TOTP(secret).at(T0), T0)
    db.accounts.check_password("park@example.com", "wrong password", T0 + 1)
    db.accounts.check_password("my password typed here", "x", T0 + 2)
    ok = db.accounts.check_code("park@example.com", pyotp.TOTP(secret).at(T0 + 30), T0 + 30)
    db.accounts.signed_in(ok.account, second_factor=True)
    recs = db.audit.records()
    signs = recs[recs.action == "sign_in"]
    assert sorted(signs.outcome) == ["failed", "failed", "succeeded"]
    text = _audit_text(db)
    assert secret not in text and PW not in text and "wrong password" not in text
    assert "my password typed here" not in text                 # a password typed as the e-mail is not kept


def test_the_command_line_adds_an_account_with_a_one_time_password(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = dict(os.environ, AUDIT_DB_URL=url, VBANK_SECRETS_FILE=str(tmp_path / "none.toml"), VBANK_LANG="en")
    r = subprocess.run([sys.executable, "-m", "lib.db.accounts", "add", "Kim@Example.com", "--role", "operator",
                        "--role", "approver"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pw = r.stdout.split("one-time password ")[1].split()[0]
    db = AppDb(url)
    assert db.accounts.get("kim@example.com").roles == {"operator", "approver"}
    assert db.accounts.check_password("kim@example.com", pw, T0).account.must_change
    again = subprocess.run([sys.executable, "-m", "lib.db.accounts", "add", "kim@example.com", "--role", "viewer"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "already" in again.stderr and "Traceback" not in again.stderr


def test_the_audit_log_says_sign_ins_and_account_changes_in_sentences(db):
    from lib.ui.present import audit_sentence
    db.accounts.add("kim@example.com", ["operator"], by=None, password=PW)
    for i in range(LOCKOUT_FAILURES + 1):
        db.accounts.check_password("kim@example.com", "nope-nope-nope", T0 + i)
    said = [audit_sentence(r) for r in db.audit.records().to_dict("records")]
    assert "Account kim@example.com: added" in said
    assert "Sign-in failed: wrong e-mail address or password" in said
    assert "Sign-in refused: the account is locked after repeated failures" in said
    assert not any("Not applied" in s for s in said)
