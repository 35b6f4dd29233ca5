"""Who is acting, and what their roles let them do. Checked inside lib on every write, not only in the UI.

Identity modes (``VBANK_IDENTITY_MODE``):
* ``local``  – one named operator from configuration (``VBANK_OPERATOR``), with a visible banner; the
  default for ``make run``. Its roles are ``local_roles`` in vbank-desk.toml (all four by default).
* ``header`` – a trusted header set by an SSO reverse proxy (``VBANK_IDENTITY_HEADER``, default
  ``X-Forwarded-Email``), honoured only when the request also carries the proxy's shared secret
  (``VBANK_PROXY_SECRET`` in the header ``VBANK_PROXY_SECRET_HEADER``, default ``X-Vbank-Proxy-Secret``),
  compared in constant time, and exactly one identity header (a client that adds a second one is refused).
  Without a configured secret nobody is identified.
* ``oidc``   – Streamlit's ``st.login`` / ``st.user`` with an OpenID Connect provider configured in
  ``.streamlit/secrets.toml`` (``[auth]``). Only a provider-verified e-mail (``email_verified``) counts.
* ``accounts`` – built-in accounts in the app database (lib/db/accounts.py): e-mail and password (argon2), a TOTP
  code for approvers and admins (``SECOND_FACTOR_ROLES``), a lockout after repeated failures. For a small team
  without an identity provider.
Without an identity in ``header``, ``oidc`` or ``accounts`` mode nobody may write.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lib.domain.i18n import _
from lib.domain.names import permission_name, role_name
from lib.domain.refusals import Refusal

ROLES = ("viewer", "operator", "approver", "admin")


# What each permission needs (any one of the roles).
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "export": frozenset(ROLES),
    "update_vbank": frozenset({"operator"}),
    "revoke_vbank": frozenset({"operator"}),     # close a pending virtual account (가상계좌 발급취소)
    "refund": frozenset({"operator"}),           # send a refund, or request approval for a large one
    "approve_refund": frozenset({"approver"}),
    "admin": frozenset({"admin"}),
    # See full account and phone numbers and e-mail addresses (each reveal is audited). Viewers see them masked.
    "reveal_personal": frozenset({"operator", "approver", "admin"}),
    # Write to the app database outside the money writes (reconciliation presets, saved views).
    "save_settings": frozenset({"operator", "admin"}),
}


class Forbidden(Refusal):
    """The acting person's roles do not allow this."""


@dataclass(frozen=True)
class Actor:
    email: str
    roles: frozenset[str] = field(default_factory=frozenset)
    mode: str = "local"

    def can(self, permission: str) -> bool:
        return bool(self.roles & PERMISSIONS[permission])

    def require(self, permission: str) -> None:
        if not self.email:
            raise Forbidden(_("Sign in first: anonymous users cannot do this."))
        if not self.can(permission):
            need = _(" or ").join(role_name(r) for r in sorted(PERMISSIONS[permission]))
            have = ", ".join(role_name(r) for r in sorted(self.roles)) or _("no role")
            raise Forbidden(_("{email} ({have}) may not {what}: it needs the {need} role.").format(
                email=self.email, have=have, what=permission_name(permission), need=need))

    def __str__(self) -> str:
        return self.email


def roles_for(email: str, role_map: dict[str, list[str]], default: list[str] | None = None) -> frozenset[str]:
    """Roles by email from configuration: ``{role: [emails]}``; ``"*"`` matches everyone; case-insensitive."""
    e = (email or "").strip().lower()
    out = {role for role, emails in role_map.items()
           if role in ROLES and any(x.strip().lower() in (e, "*") for x in emails)}
    return frozenset(out or (default or []))


_EMAIL = re.compile(r"[^@\s<>()\[\]\\,;:\"]{1,100}@[A-Za-z0-9.-]{1,100}\.[A-Za-z]{2,24}")


def plausible_email(value: str) -> bool:
    return bool(_EMAIL.fullmatch(value or ""))


def header_identity(get_all: Callable[[str], list[str]], *, header: str, proxy_secret: str | None,
                    secret_header: str) -> tuple[str | None, str | None]:
    """(e-mail, None) when the request provably came through the sign-in proxy; else (None, why)."""
    if not proxy_secret:
        return None, (_("Header sign-in is switched on but no proxy secret is configured (VBANK_PROXY_SECRET): "
                      "nobody can be identified. Ask an administrator."))
    given = get_all(secret_header)
    if len(given) != 1 or not hmac.compare_digest(given[0].encode(), proxy_secret.encode()):
        return None, _("This request did not come through the company sign-in proxy.")
    values = get_all(header)
    if len(values) > 1:
        return None, _("The request names more than one person; it is refused.")
    email = (values[0] if values else "").strip()
    if not email:
        return None, None
    if not plausible_email(email):
        return None, _("The sign-in proxy sent something that is not an e-mail address.")
    return email, None


def oidc_identity(user: dict[str, Any]) -> tuple[str | None, str | None]:
    """(e-mail, None) for a provider-verified e-mail; else (None, why)."""
    email = str(user.get("email") or "").strip()
    if not email:
        return None, None
    if user.get("email_verified") is not True:
        return None, _("Your sign-in provider has not verified your e-mail address, so vbank-desk cannot trust it.")
    if not plausible_email(email):
        return None, _("Your sign-in provider sent something that is not an e-mail address.")
    return email, None


# ------------------------------------------------------------------ built-in accounts (VBANK_IDENTITY_MODE=accounts)
# Roles that count only after a TOTP code in this sign-in: approving is the second pair of eyes, and an admin can
# make accounts (so could make an approver). Without the code such a person keeps only their other roles.
SECOND_FACTOR_ROLES = frozenset({"approver", "admin"})
LOCKOUT_FAILURES = 5                  # this many failed sign-ins (password or code) of one account …
LOCKOUT_WINDOW_S = 15 * 60            # … within this window lock it until the oldest of them leaves the window
SESSION_HOURS = 12                    # a sign-in lasts at most this long (a browser session ends it sooner)
MIN_PASSWORD = 12


def parse_roles(values: list[str] | str) -> frozenset[str]:
    """Roles from a list or a comma-separated text; an unknown role is refused with a sentence."""
    items = values.split(",") if isinstance(values, str) else values
    roles = frozenset(r.strip().lower() for r in items if r.strip())
    unknown = sorted(roles - set(ROLES))
    if unknown:
        raise ValueError(_("Unknown role: {role}. The roles are {roles}.").format(
            role=", ".join(unknown), roles=", ".join(ROLES)))
    return roles


def needs_second_factor(roles: frozenset[str]) -> bool:
    return bool(roles & SECOND_FACTOR_ROLES)


def effective_roles(roles: frozenset[str], *, second_factor: bool) -> frozenset[str]:
    """What a signed-in account may do now: approver and admin only after a TOTP code in this sign-in."""
    return frozenset(roles) if second_factor else frozenset(roles) - SECOND_FACTOR_ROLES


def locked_until(failures_at: list[float], now: float) -> float | None:
    """When an account with these failed sign-ins (UNIX times) may try again; None: it may try now."""
    recent = sorted(t for t in failures_at if now - LOCKOUT_WINDOW_S < t <= now)
    if len(recent) < LOCKOUT_FAILURES:
        return None
    return recent[-LOCKOUT_FAILURES] + LOCKOUT_WINDOW_S


def password_problem(password: str, email: str = "") -> str | None:
    """Why a chosen password is refused (None: it is fine)."""
    if len(password) < MIN_PASSWORD:
        return _("Choose a password of at least {n} characters.").format(n=MIN_PASSWORD)
    if len(set(password)) < 5:
        return _("Choose a password with more different characters.")
    if email and email.strip().lower().split("@")[0] in password.lower():
        return _("Choose a password that does not contain your e-mail name.")
    return None
