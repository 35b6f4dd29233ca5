"""Who is acting, and what their roles let them do. Checked inside lib on every write, not only in the UI.

Identity modes (``VBANK_IDENTITY_MODE``):
* ``local``  – one named operator from configuration (``VBANK_OPERATOR``), with a visible banner; the
  default for ``make run``. Its roles are ``local_roles`` in vbank-desk.toml (all four by default).
* ``header`` – a trusted header set by an SSO reverse proxy (``VBANK_IDENTITY_HEADER``, default
  ``X-Forwarded-Email``). Only enable it behind a proxy that strips the header from client requests.
* ``oidc``   – Streamlit's ``st.login`` / ``st.user`` with an OpenID Connect provider configured in
  ``.streamlit/secrets.toml`` (``[auth]``).
Without an identity in ``header`` or ``oidc`` mode nobody may write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("viewer", "operator", "approver", "admin")

# What each permission needs (any one of the roles).
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "export": frozenset(ROLES),
    "update_vbank": frozenset({"operator"}),
    "refund": frozenset({"operator"}),           # send a refund, or request approval for a large one
    "approve_refund": frozenset({"approver"}),
    "admin": frozenset({"admin"}),
}


class Forbidden(Exception):
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
            raise Forbidden("Sign in first: anonymous users cannot do this.")
        if not self.can(permission):
            need = " or ".join(sorted(PERMISSIONS[permission]))
            have = ", ".join(sorted(self.roles)) or "no role"
            raise Forbidden(f"{self.email} ({have}) may not {permission.replace('_', ' ')}: it needs the "
                            f"{need} role.")

    def __str__(self) -> str:
        return self.email


def roles_for(email: str, role_map: dict[str, list[str]], default: list[str] | None = None) -> frozenset[str]:
    """Roles by email from configuration: ``{role: [emails]}``; ``"*"`` matches everyone; case-insensitive."""
    e = (email or "").strip().lower()
    out = {role for role, emails in role_map.items()
           if role in ROLES and any(x.strip().lower() in (e, "*") for x in emails)}
    return frozenset(out or (default or []))
