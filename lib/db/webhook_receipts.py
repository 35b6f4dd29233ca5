"""PortOne's webhooks as the desk accepted them (lib/services/webhooks.py): one row per webhook, the payment's status
as re-read after it. A V2 message delivered twice (the same ``webhook-id``) is recorded once (``record`` says
False): its second delivery is a duplicate, not a second event. Only accepted webhooks are stored (a forged one
never reaches the table), so the table grows with the payments, not with what strangers send."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lib.db.schema import webhook_receipts as t


class WebhookReceipts:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, *, api: str, imp_uid: str, kind: str, at: float, webhook_id: str | None = None,
               status: str | None = None, detail: dict[str, Any] | None = None) -> int | None:
        """The receipt's id; None when this V2 message (``webhook_id``) was recorded before."""
        try:
            with self.engine.begin() as c:
                res = c.execute(insert(t).values(api=api, webhook_id=webhook_id, imp_uid=imp_uid[:200], kind=kind[:60],
                                                 status=status, received_at=at,
                                                 detail=json.dumps(detail, ensure_ascii=False) if detail else None))
                pk = res.inserted_primary_key
                return int(pk[0]) if pk else None
        except IntegrityError:
            return None

    def set_status(self, receipt_id: int, status: str | None, detail: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"status": status}
        if detail is not None:
            values["detail"] = json.dumps(detail, ensure_ascii=False)
        with self.engine.begin() as c:
            c.execute(update(t).where(t.c.id == receipt_id).values(**values))

    def recent(self, api: str, imp_uid: str, kind: str, since: float) -> bool:
        """A receipt of this payment and kind since ``since`` (V1's unsigned webhooks: one re-read per minute)."""
        with self.engine.connect() as c:
            return c.execute(select(t.c.id).where(t.c.api == api, t.c.imp_uid == imp_uid, t.c.kind == kind,
                                                  t.c.received_at >= since).limit(1)).first() is not None

    def for_payments(self, imp_uids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Every receipt of these payments, oldest first, by imp_uid (asked in chunks of 500)."""
        out: dict[str, list[dict[str, Any]]] = {}
        ids = list(dict.fromkeys(imp_uids))
        with self.engine.connect() as c:
            for i in range(0, len(ids), 500):
                rows = c.execute(select(t).where(t.c.imp_uid.in_(ids[i:i + 500])).order_by(t.c.received_at)).mappings()
                for r in rows:
                    out.setdefault(r["imp_uid"], []).append(dict(r))
        return out

    def latest(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest receipts (for /admin)."""
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(t).order_by(t.c.received_at.desc()).limit(limit)).mappings()]

    def counts_since(self, since: float) -> dict[str, int]:
        """How many webhooks were accepted since ``since``, by API version ("v1", "v2"; /admin: today's)."""
        with self.engine.connect() as c:
            rows = c.execute(select(t.c.api, func.count()).where(t.c.received_at >= since).group_by(t.c.api)).all()
        return {str(api): int(n) for api, n in rows}
