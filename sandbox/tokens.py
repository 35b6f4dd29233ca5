"""Access tokens as the V1 API hands them out: 30 minutes; asking again before expiry returns the same token,
extended by 5 minutes when asked in its last minute; an expired token is refused with HTTP 401."""

from __future__ import annotations

import secrets
import threading


class TokenRegistry:
    def __init__(self, ttl: int):
        self.ttl = ttl
        self._exp: dict[str, int] = {}          # access_token -> expired_at
        self._current: dict[str, str] = {}      # imp_key -> access_token
        self._lock = threading.Lock()

    def issue(self, imp_key: str, now: int) -> tuple[str, int]:
        with self._lock:
            tok = self._current.get(imp_key)
            exp = self._exp.get(tok) if tok else None
            if tok and exp and exp > now:
                if exp - now <= 60:             # reused in its last minute: extended by 5 minutes
                    exp += 300
                    self._exp[tok] = exp
                return tok, exp
            tok, exp = secrets.token_hex(20), now + self.ttl
            self._exp[tok] = exp
            self._current[imp_key] = tok
            return tok, exp

    def check(self, token: str, now: int) -> str | None:
        """None when the token may be used; else the API's words for the 401."""
        exp = self._exp.get(token) if token else None
        if exp is None:
            return "Unauthorized"
        if exp <= now:
            return "Unauthorized (access_token이 만료되었습니다)"
        return None

    def expire_all(self, now: int) -> int:
        with self._lock:
            for k in self._exp:
                self._exp[k] = now - 1
            return len(self._exp)

    def clear(self) -> None:
        with self._lock:
            self._exp.clear()
            self._current.clear()
