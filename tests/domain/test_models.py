"""lib/domain/models.py: the payment model."""

from __future__ import annotations

import pytest

from lib.domain.models import Payment


def test_payment_model_tolerates_unknown_fields_and_converts():
    p = Payment.model_validate({"imp_uid": "imp_1", "merchant_uid": "m", "amount": 1000.0, "cancel_amount": 0,
                                "currency": "KRW", "status": "ready", "vbank_date": 1700000000, "paid_at": 0,
                                "brand_new_field": {"x": 1}})
    assert p.amount == 1000 and p.paid_at is None and p.vbank_date.tzinfo is not None
    with pytest.raises(ValueError):
        Payment.model_validate({"imp_uid": "i", "merchant_uid": "m", "amount": 10.5, "status": "paid"})
