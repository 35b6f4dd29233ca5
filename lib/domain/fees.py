"""The PG fee impact of a virtual-account refund (003 product document, docs-ko fee facts).

The product document's example quotes fees without their VAT: for a 10,000 won payment with 300 / 300 won fees the
merchant was settled 9,700 (issuance fee kept) and a full refund costs it 10,300 (refund + remittance fee), a net of
-600. vbank-desk's default schedule quotes fees "VAT 별도" (``vat_on_fees``), as KG Inicis' 300 won is, so by default
the same payment was settled 9,670, the refund costs 10,330 and the net is -660; a PG whose schedule sets
``vat_on_fees = false`` gives the document's figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.domain.settings import FeeRule

VAT_RATE_PERCENT = 10


def with_vat(fee: int, rule: FeeRule) -> int:
    """Fee plus 10% VAT when the schedule says so (rounded half up to the won)."""
    return fee + (fee * VAT_RATE_PERCENT + 50) // 100 if rule.vat_on_fees else fee


@dataclass(frozen=True)
class FeeImpact:
    amount: int                 # payment amount
    already_refunded: int       # cancel_amount before this refund
    refund: int                 # this refund
    issuance_fee: int           # kept by the PG when the account was issued (incl. VAT if any)
    remittance_fee: int         # charged for this refund (incl. VAT if any)
    previous_remittance_fees: int

    @property
    def settled(self) -> int:
        """What the PG settled to the merchant for the payment."""
        return self.amount - self.issuance_fee

    @property
    def refund_cost(self) -> int:
        """What this refund costs the merchant: the refund plus the remittance fee."""
        return self.refund + self.remittance_fee

    @property
    def balance_after(self) -> int:
        """What stays paid (and refundable) after this refund."""
        return self.amount - self.already_refunded - self.refund

    @property
    def net_after(self) -> int:
        """Merchant's net result for the whole payment after this refund."""
        return (self.settled - self.already_refunded - self.previous_remittance_fees - self.refund_cost)

    @property
    def fees_total(self) -> int:
        return self.issuance_fee + self.previous_remittance_fees + self.remittance_fee


def fee_impact(amount: int, already_refunded: int, refund: int, rule: FeeRule, previous_refunds: int = 0) -> FeeImpact:
    if refund <= 0 or refund > amount - already_refunded:
        raise ValueError("refund must be > 0 and at most the refundable balance")
    return FeeImpact(amount=amount, already_refunded=already_refunded, refund=refund,
                     issuance_fee=with_vat(rule.issuance_fee, rule),
                     remittance_fee=with_vat(rule.remittance_fee, rule),
                     previous_remittance_fees=previous_refunds * with_vat(rule.remittance_fee, rule))
