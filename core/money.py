"""Amounts are kept in the currency's smallest unit (cents), as Stripe sends them."""

from decimal import Decimal

CENTS_PER_UNIT = 100


def from_cents(amount: int | None) -> Decimal:
    """An amount in cents as a decimal of the currency's unit: 1250 -> Decimal("12.50")."""
    return Decimal(amount or 0) / CENTS_PER_UNIT
