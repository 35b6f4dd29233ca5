"""lib/domain/pg_rules.py is the official spec's per-PG notes on POST /payments/cancel, as one table: this reads
the vendored spec and fails when the two disagree."""

from __future__ import annotations

import json
from pathlib import Path

from lib.domain import pg_rules

SPEC = json.loads((Path(__file__).parent.parent / "spec" / "portone-v1.openapi.json").read_text())


def cancel_params() -> dict[str, dict]:
    return {p["name"]: p for p in SPEC["paths"]["/payments/cancel"]["post"]["parameters"]}


def test_refund_tel_is_required_where_the_spec_says():
    per_pg = cancel_params()["refund_tel"]["x-portone-per-pg"]
    noted = {pg for pg, note in per_pg.items() if note.get("required") or "필수" in note.get("description", "")}
    assert noted == set(pg_rules.REFUND_TEL_REQUIRED) == {"smartro", "smartro_v2"}


def test_vat_amount_goes_only_to_the_pgs_the_spec_lists():
    assert set(cancel_params()["vat_amount"]["x-portone-supported-pgs"]) == set(pg_rules.VAT_AMOUNT_SUPPORTED)
    assert pg_rules.takes_vat_amount("nice_v2") and not pg_rules.takes_vat_amount("kcp")


def test_tax_free_must_be_sent_for_the_pgs_the_spec_names():
    assert set(cancel_params()["tax_free"]["x-portone-per-pg"]) == set(pg_rules.TAX_FREE_MUST_BE_SENT)


def test_refund_account_fields_noted_per_pg():
    p = cancel_params()
    for field in ("refund_holder", "refund_bank", "refund_account"):
        assert pg_rules.REFUND_ACCOUNT_REQUIRED_NOTED <= set(p[field]["x-portone-per-pg"])
