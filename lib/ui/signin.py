"""Signing in with a built-in account (``VBANK_IDENTITY_MODE=accounts``, lib/db/accounts.py): e-mail and password;
then, when needed, a new password in place of a one-time one, the authenticator's code (approvers and admins with one
enrolled), or enrolling an authenticator from a QR code (approvers and admins without one, who may also go on without
their approver / admin role). The signed-in account lives in this browser session's state on the server (a new tab or
a reload signs in again) and is read again on every run: a disabled account, a reset or a change of roles counts at
once."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime
from urllib.parse import urlparse

import pyotp
import segno
import streamlit as st

from lib.db.accounts import Account, Attempt, provisioning_uri
from lib.db.appdb import AppDb
from lib.domain.clock import KST
from lib.domain.fmt import kst
from lib.domain.i18n import _
from lib.domain.identity import LOCKOUT_FAILURES, SESSION_HOURS, Actor, effective_roles, needs_second_factor
from lib.ui.inert import say
from lib.ui.language import language_switch

ACCOUNT = "shared:account"          # the signed-in account: email, epoch, second_factor, at
PENDING = "signin:pending"          # after a right password: email, epoch, stage (password | code | enrol), secret
PENDING_FOR_S = 300                 # the next step must come within five minutes of the password

T = {
    "title": _("Sign in to vbank-desk"),
    "intro": _("vbank-desk moves money: sign in with the account an administrator gave you."),
    "email": _("E-mail address"), "password": _("Password"), "sign_in": _("Sign in"),
    "wrong": _("The e-mail address or the password is wrong. After {n} failed tries the account is locked for a "
               "while."),
    "locked": _("Too many failed sign-ins: this account is locked until {time}. If you forgot your password, ask an "
                "administrator to reset it."),
    "new_pw_intro": _("You signed in with a one-time password: choose your own now."),
    "new_pw": _("New password"), "new_pw_again": _("The new password again"), "save_pw": _("Save the password"),
    "pw_differ": _("The two passwords are not the same."),
    "code_intro": _("Type the 6-digit code your authenticator app shows for vbank-desk."),
    "code": _("Code"), "check_code": _("Sign in"), "wrong_code": _("That code is wrong or was already used. Wait for "
                                                                   "the next one and try again."),
    "enrol_intro": _("Approving and administering need a second factor: scan this QR code with an authenticator app "
                     "(Google Authenticator, Microsoft Authenticator, 1Password…), then type the code it shows."),
    "enrol_key": _("Or type this key into the app:"), "enrol": _("Turn on the second factor"),
    "skip": _("Continue without approving"),
    "skip_help": _("You can use vbank-desk without your approver and admin roles until you turn on the second "
                   "factor at your next sign-in."),
    "start_over": _("Start over"),
}


def _db() -> AppDb:
    from lib.ui.resources import db
    return db()


def current() -> Actor | None:
    """The signed-in account as an Actor, read again from the database; None: nobody (or the sign-in ended)."""
    held = st.session_state.get(ACCOUNT)
    if not held:
        return None
    acc = _db().accounts.get(held["email"])
    if (acc is None or acc.disabled or acc.epoch != held["epoch"]
            or time.time() - held["at"] > SESSION_HOURS * 3600):
        st.session_state.pop(ACCOUNT, None)
        return None
    return Actor(acc.email, effective_roles(acc.roles, second_factor=held["second_factor"] and acc.totp), "accounts")


def lacks_second_factor() -> bool:
    """Signed in without the code while the account has an approver or admin role (the banner says so)."""
    held = st.session_state.get(ACCOUNT) or {}
    acc = _db().accounts.get(held.get("email", "")) if held else None
    return bool(acc and needs_second_factor(acc.roles) and not held.get("second_factor"))


def sign_out() -> None:
    st.session_state.pop(ACCOUNT, None)
    st.session_state.pop(PENDING, None)


def _finish(acc: Account, *, second_factor: bool) -> None:
    _db().accounts.signed_in(acc, second_factor=second_factor)
    st.session_state[ACCOUNT] = {"email": acc.email, "epoch": acc.epoch, "second_factor": second_factor,
                                 "at": time.time()}
    st.session_state.pop(PENDING, None)


def _next(acc: Account) -> None:
    """After the password (or a new one): the code, an enrolment, or done."""
    if acc.must_change:
        stage = "password"
    elif acc.totp:
        stage = "code"
    elif needs_second_factor(acc.roles):
        stage = "enrol"
    else:
        _finish(acc, second_factor=False)
        return
    st.session_state[PENDING] = {"email": acc.email, "epoch": acc.epoch, "stage": stage, "at": time.time(),
                                 "secret": pyotp.random_base32() if stage == "enrol" else None}


def _said(a: Attempt) -> None:
    if a.status == "locked" and a.until:
        st.error(say(T["locked"], time=kst(datetime.fromtimestamp(a.until, KST))))
    else:
        st.error(T["wrong"].format(n=LOCKOUT_FAILURES))


def _qr_png(uri: str) -> bytes:
    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="png", scale=6, border=4)
    return buf.getvalue()


def _asked_path() -> str:
    """The page the browser asked for (``payment`` of ``…/payment?imp_uid=…``), when it can name a page."""
    path = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    return path if re.fullmatch(r"[a-z0-9_-]{1,60}", path) else ""


def page() -> None:
    """The sign-in screens (app.py draws this instead of the navigation while nobody is signed in). They stand in
    for the page the link asked for (a hidden navigation with its url path: a page's identity is its url path), so
    once signed in that page opens, with its query."""
    path = _asked_path()
    stand_ins = [st.Page(_screens, title="vbank-desk", url_path="", default=True)]
    if path:
        stand_ins.append(st.Page(_screens, title="vbank-desk", url_path=path))
    st.navigation(stand_ins, position="hidden").run()


def _screens() -> None:
    language_switch()
    st.title(T["title"])
    pending = st.session_state.get(PENDING)
    if pending and time.time() - pending["at"] > PENDING_FOR_S:
        st.session_state.pop(PENDING, None)
        pending = None
    if not pending:
        st.write(T["intro"])
        with st.form("signin", clear_on_submit=True):
            email = st.text_input(T["email"], max_chars=200, key="signin_email")
            password = st.text_input(T["password"], type="password", max_chars=200, key="signin_password")
            go = st.form_submit_button(T["sign_in"], type="primary")
        if go:
            a = _db().accounts.check_password(email, password)
            if a.status == "ok" and a.account:
                _next(a.account)
                st.rerun()
            _said(a)
        return
    email = pending["email"]
    st.caption(say("{email}", email=email))
    if pending["stage"] == "password":
        st.write(T["new_pw_intro"])
        with st.form("signin_new_pw", clear_on_submit=True):
            pw1 = st.text_input(T["new_pw"], type="password", max_chars=200, key="signin_pw1")
            pw2 = st.text_input(T["new_pw_again"], type="password", max_chars=200, key="signin_pw2")
            go = st.form_submit_button(T["save_pw"], type="primary")
        if go:
            why = T["pw_differ"] if pw1 != pw2 else _db().accounts.choose_password(email, pw1)
            if why is None:
                acc = _db().accounts.get(email)
                if acc is not None:
                    _next(acc)
                st.rerun()
            st.error(why)
    elif pending["stage"] == "code":
        st.write(T["code_intro"])
        with st.form("signin_code", clear_on_submit=True):
            code = st.text_input(T["code"], max_chars=8, key="signin_code_input")
            go = st.form_submit_button(T["check_code"], type="primary")
        if go:
            a = _db().accounts.check_code(email, code)
            if a.status == "ok" and a.account:
                _finish(a.account, second_factor=True)
                st.rerun()
            if a.status == "locked":
                _said(a)
            else:
                st.error(T["wrong_code"])
    else:
        secret = pending["secret"]
        st.write(T["enrol_intro"])
        st.image(_qr_png(provisioning_uri(secret, email)), width=240)
        st.caption(T["enrol_key"])
        st.code(" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), language=None)
        with st.form("signin_enrol", clear_on_submit=True):
            code = st.text_input(T["code"], max_chars=8, key="signin_enrol_code")
            go = st.form_submit_button(T["enrol"], type="primary")
        if go:
            acc = _db().accounts.get(email)
            if acc and _db().accounts.enrol_totp(email, secret, code):
                _finish(_db().accounts.get(email) or acc, second_factor=True)
                st.rerun()
            st.error(T["wrong_code"])
        if st.button(T["skip"], help=T["skip_help"], key="signin_skip"):
            acc = _db().accounts.get(email)
            if acc is not None:
                _finish(acc, second_factor=False)
            st.rerun()
    st.button(T["start_over"], on_click=sign_out, key="signin_restart")
