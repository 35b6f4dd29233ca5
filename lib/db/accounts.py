"""Built-in accounts (``VBANK_IDENTITY_MODE=accounts``): a small team without an identity provider signs in with an
e-mail and a password (argon2id, argon2-cffi), approvers and admins also with a TOTP code (pyotp). Failed sign-ins
lock an account for a while (lib/domain/identity.py: ``LOCKOUT_FAILURES`` in ``LOCKOUT_WINDOW_S``); sign-ins,
failures and every change to an account are written to the audit log — never a password, a hash or a TOTP secret.

    python -m lib.db.accounts add kim@example.com --role operator        # prints a one-time password
    python -m lib.db.accounts add park@example.com --role approver --ask-password
    python -m lib.db.accounts list | reset-password EMAIL | reset-totp EMAIL | disable EMAIL | enable EMAIL

An admin does the same on /admin.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lib.db.audit import new_correlation_id
from lib.db.schema import accounts, sign_in_failures
from lib.domain.i18n import _
from lib.domain.identity import (
    LOCKOUT_WINDOW_S,
    Actor,
    locked_until,
    needs_second_factor,
    parse_roles,
    password_problem,
    plausible_email,
)
from lib.domain.kinds import Action, Outcome

if TYPE_CHECKING:
    from lib.db.audit import AuditStore

HASHER = PasswordHasher()                 # argon2id, RFC 9106 low-memory profile (64 MiB, t=3, p=4)
HASHING = threading.BoundedSemaphore(2)   # at most two hashes at once: sign-in attempts cannot exhaust memory
TOTP_STEP = 30
COMMAND_LINE = "command line"


def hash_password(password: str) -> str:
    with HASHING:
        return HASHER.hash(password)


def _verify(stored: str, password: str) -> bool:
    with HASHING:
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


@lru_cache(maxsize=1)
def _dummy() -> str:
    """Checked in place of an unknown e-mail's hash, so it costs the same time as a known one."""
    return hash_password(secrets.token_urlsafe(16))


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def totp_step(secret: str, code: str, now: float, after: int | None) -> int | None:
    """The time step whose code this is (the current one or one either side), later than ``after``; else None."""
    code = (code or "").strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    here = int(now // TOTP_STEP)
    for step in (here - 1, here, here + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP).provisioning_uri(name=email, issuer_name="vbank-desk")


class AccountError(ValueError):
    """An account change refused, with a sentence for the person."""


@dataclass(frozen=True)
class Account:
    email: str
    roles: frozenset[str]
    must_change: bool
    totp: bool                  # a TOTP second factor is enrolled
    disabled: bool
    epoch: int
    created_at: float
    created_by: str


@dataclass(frozen=True)
class Attempt:
    """One sign-in step's answer: ``ok``, ``wrong`` (password or code), ``locked`` (until ``until``)."""
    status: str
    account: Account | None = None
    until: float | None = None


def _account(r: dict[str, Any]) -> Account:
    return Account(r["email"], frozenset(x for x in r["roles"].split(",") if x), bool(r["must_change"]),
                   bool(r["totp_secret"]), bool(r["disabled"]), int(r["epoch"]), float(r["created_at"]),
                   r["created_by"])


def _norm(email: str) -> str:
    return (email or "").strip().lower()[:200]


class AccountStore:
    """The accounts of one app database (built by ``lib/db/appdb.AppDb``)."""

    def __init__(self, engine: Engine, audit: "AuditStore"):
        self.engine = engine
        self.audit = audit

    # ------------------------------------------------------------------ reading
    def get(self, email: str) -> Account | None:
        with self.engine.connect() as c:
            r = c.execute(select(accounts).where(accounts.c.email == _norm(email))).mappings().first()
        return _account(dict(r)) if r else None

    def all(self) -> list[Account]:
        with self.engine.connect() as c:
            return [_account(dict(r)) for r in c.execute(select(accounts).order_by(accounts.c.email)).mappings()]

    # ------------------------------------------------------------------ an admin's changes
    def _log(self, by: Actor | None, what: str, email: str, **detail: object) -> None:
        self.audit.record(operator=by.email if by else COMMAND_LINE, action=Action.ACCOUNT, outcome=Outcome.SUCCEEDED,
                          correlation_id=new_correlation_id(), detail={"change": what, "account": email, **detail})

    def _change(self, email: str, by: Actor | None, what: str, values: dict[str, Any], **detail: object) -> None:
        if by is not None:
            by.require("admin")
        now = time.time()
        with self.engine.begin() as c:
            n = c.execute(update(accounts).where(accounts.c.email == _norm(email))
                          .values(updated_at=now, **values)).rowcount
        if not n:
            raise AccountError(_("There is no account {email}.").format(email=_norm(email)))
        self._log(by, what, _norm(email), **detail)

    def add(self, email: str, roles: list[str] | str, *, by: Actor | None, password: str | None = None) -> str:
        """A new account; returns its password (a one-time one, to be changed at the first sign-in, unless given)."""
        if by is not None:
            by.require("admin")
        email = _norm(email)
        if not plausible_email(email):
            raise AccountError(_("{email} is not an e-mail address.").format(email=email))
        try:
            role_set = parse_roles(roles)
        except ValueError as e:
            raise AccountError(str(e)) from None
        if not role_set:
            raise AccountError(_("Give the account at least one role."))
        if password is not None and (why := password_problem(password, email)):
            raise AccountError(why)
        pw = password if password is not None else one_time_password()
        now = time.time()
        try:
            with self.engine.begin() as c:
                c.execute(insert(accounts).values(
                    email=email, roles=",".join(sorted(role_set)), password_hash=hash_password(pw),
                    must_change=password is None, totp_secret=None, totp_last_step=None, disabled=False, epoch=0,
                    created_at=now, created_by=by.email if by else COMMAND_LINE, updated_at=now))
        except IntegrityError:
            raise AccountError(_("There is already an account {email}.").format(email=email)) from None
        self._log(by, "added", email, roles=sorted(role_set))
        return pw

    def set_roles(self, email: str, roles: list[str] | str, *, by: Actor | None) -> None:
        try:
            role_set = parse_roles(roles)
        except ValueError as e:
            raise AccountError(str(e)) from None
        self._change(email, by, "roles", {"roles": ",".join(sorted(role_set))}, roles=sorted(role_set))

    def set_disabled(self, email: str, disabled: bool, *, by: Actor | None) -> None:
        if by is not None and disabled and _norm(email) == _norm(by.email):
            raise AccountError(_("You cannot disable your own account."))
        self._change(email, by, "disabled" if disabled else "enabled",
                     {"disabled": disabled, "epoch": accounts.c.epoch + 1})

    def reset_password(self, email: str, *, by: Actor | None) -> str:
        """A new one-time password (returned); the account's sessions end."""
        pw = one_time_password()
        self._change(email, by, "password reset", {"password_hash": hash_password(pw), "must_change": True,
                                                   "epoch": accounts.c.epoch + 1})
        with self.engine.begin() as c:
            c.execute(delete(sign_in_failures).where(sign_in_failures.c.email == _norm(email)))
        return pw

    def reset_totp(self, email: str, *, by: Actor | None) -> None:
        """The person enrols a new authenticator at the next sign-in; the account's sessions end."""
        self._change(email, by, "second factor reset", {"totp_secret": None, "totp_last_step": None,
                                                        "epoch": accounts.c.epoch + 1})

    # ------------------------------------------------------------------ signing in
    def _attempt(self, email: str, now: float) -> float | None:
        """Count this attempt as a failure before checking it (so parallel tries cannot exceed the limit); None, or
        when a locked account may try again (then nothing is counted)."""
        with self.engine.begin() as c:
            c.execute(delete(sign_in_failures).where(sign_in_failures.c.at <= now - LOCKOUT_WINDOW_S))
            ats = [float(t) for t in c.execute(select(sign_in_failures.c.at)
                                               .where(sign_in_failures.c.email == email)).scalars()]
            until = locked_until(ats, now)
            if until is None:
                c.execute(insert(sign_in_failures).values(email=email, at=now))
            return until

    def _refused(self, email: str, step: str, until: float | None) -> Attempt:
        who = email if plausible_email(email) else _("(not an e-mail address)")
        if until is not None:
            self.audit.record(operator=who, action=Action.SIGN_IN, outcome=Outcome.REFUSED, correlation_id=new_correlation_id(),
                              detail={"step": step, "reason": "locked", "until": round(until)})
            return Attempt("locked", until=until)
        self.audit.record(operator=who, action=Action.SIGN_IN, outcome=Outcome.FAILED, correlation_id=new_correlation_id(),
                          detail={"step": step})
        return Attempt("wrong")

    def check_password(self, email: str, password: str, now: float | None = None) -> Attempt:
        """The first step. ``ok`` says nothing about the second factor yet: ``signed_in`` ends the sign-in."""
        now = time.time() if now is None else now
        email = _norm(email)
        until = self._attempt(email, now)
        if until is not None:
            return self._refused(email, "password", until)
        with self.engine.connect() as c:
            r = c.execute(select(accounts).where(accounts.c.email == email)).mappings().first()
        good = _verify(r["password_hash"] if r else _dummy(), password or "")
        if not (r and good) or r["disabled"]:
            return self._refused(email, "password", None)
        return Attempt("ok", _account(dict(r)))

    def check_code(self, email: str, code: str, now: float | None = None) -> Attempt:
        """The second step for an enrolled account: a code not used before."""
        now = time.time() if now is None else now
        email = _norm(email)
        until = self._attempt(email, now)
        if until is not None:
            return self._refused(email, "code", until)
        with self.engine.begin() as c:
            r = c.execute(select(accounts).where(accounts.c.email == email)).mappings().first()
            step = totp_step(r["totp_secret"], code, now, r["totp_last_step"]) if r and r["totp_secret"] else None
            if step is not None:     # used once: a second use of the same code (or an earlier one) finds no row
                done = c.execute(update(accounts).where(
                    accounts.c.email == email, or_(accounts.c.totp_last_step.is_(None),
                                                   accounts.c.totp_last_step < step))
                    .values(totp_last_step=step)).rowcount
                step = step if done else None
        if step is None or r is None or r["disabled"]:
            return self._refused(email, "code", None)
        return Attempt("ok", _account(dict(r)))

    def enrol_totp(self, email: str, secret: str, code: str, now: float | None = None) -> bool:
        """Keep ``secret`` as the account's second factor once a code from it is right (only when none is enrolled:
        a new authenticator needs an admin's reset first)."""
        now = time.time() if now is None else now
        email = _norm(email)
        step = totp_step(secret, code, now, None)
        if step is None:
            self._refused(email, "enrol", None)
            return False
        with self.engine.begin() as c:
            done = c.execute(update(accounts).where(accounts.c.email == email, accounts.c.totp_secret.is_(None))
                             .values(totp_secret=secret, totp_last_step=step, updated_at=now)).rowcount
        if done:
            self._log(Actor(email), "second factor enrolled", email)
        return bool(done)

    def choose_password(self, email: str, password: str) -> str | None:
        """The person's own password in place of a one-time one; a sentence when it is refused."""
        email = _norm(email)
        if why := password_problem(password, email):
            return why
        with self.engine.begin() as c:
            c.execute(update(accounts).where(accounts.c.email == email)
                      .values(password_hash=hash_password(password), must_change=False, updated_at=time.time()))
        self._log(Actor(email), "password chosen", email)
        return None

    def signed_in(self, account: Account, *, second_factor: bool) -> None:
        """The whole sign-in succeeded: the failures are forgotten and the sign-in is audited."""
        with self.engine.begin() as c:
            c.execute(delete(sign_in_failures).where(sign_in_failures.c.email == account.email))
        self.audit.record(operator=account.email, action=Action.SIGN_IN, outcome=Outcome.SUCCEEDED,
                          correlation_id=new_correlation_id(),
                          detail={"second_factor": second_factor,
                                  "without": sorted(account.roles & {"approver", "admin"})
                                  if needs_second_factor(account.roles) and not second_factor else []})


def main(argv: list[str] | None = None) -> int:
    """python -m lib.db.accounts (see the module's docstring)."""
    import argparse
    import getpass
    import sys

    from lib.db.accounts import AccountError as Refused  # the class the store raises (not __main__'s copy)
    from lib.db.accounts import AccountStore as Store
    from lib.db.audit import AuditStore
    from lib.db.engine import DatabaseRefused, connect, upgrade
    from lib.domain import i18n
    from lib.domain.identity import ROLES
    from lib.domain.settings import get_settings

    ap = argparse.ArgumentParser(prog="python -m lib.db.accounts", description="vbank-desk's built-in accounts")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add = sub.add_parser("add", help="add an account (prints a one-time password)")
    add.add_argument("email")
    add.add_argument("--role", action="append", required=True, choices=ROLES, help="repeat for several roles")
    add.add_argument("--ask-password", action="store_true", help="type the password instead of a one-time one")
    sub.add_parser("list", help="every account, its roles and second factor")
    for name in ("reset-password", "reset-totp", "disable", "enable"):
        sub.add_parser(name).add_argument("email")
    a = ap.parse_args(argv)
    i18n.set_lang(i18n.default_lang())
    s = get_settings()
    engine = connect(s.audit_db_url)
    try:
        upgrade(engine)
    except DatabaseRefused as e:
        engine.dispose()
        print(e, file=sys.stderr)
        return 2
    store = Store(engine, AuditStore(engine, hmac_key=s.audit_hmac_key.get_secret_value() if s.audit_hmac_key
                                     else None))
    try:
        if a.cmd == "add":
            pw = getpass.getpass("Password: ") if a.ask_password else None
            out = store.add(a.email, a.role, by=None, password=pw)
            if pw is None:
                print(f"{_norm(a.email)}: one-time password {out} (to be changed at the first sign-in)")
            else:
                print(f"{_norm(a.email)}: added")
        elif a.cmd == "list":
            for acc in store.all():
                print(f"{acc.email}\t{','.join(sorted(acc.roles))}\ttotp={'yes' if acc.totp else 'no'}"
                      f"{chr(9) + 'disabled' if acc.disabled else ''}")
        elif a.cmd == "reset-password":
            print(f"{_norm(a.email)}: one-time password {store.reset_password(a.email, by=None)}")
        elif a.cmd == "reset-totp":
            store.reset_totp(a.email, by=None)
        else:
            store.set_disabled(a.email, a.cmd == "disable", by=None)
    except Refused as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
