"""The catalogue in Stripe: one product and one per-seat monthly price per Quorum plan."""

from django.utils import translation

from licensing import gateway
from licensing.plans import Plan, all_plans


def sync_stripe_plans() -> list[tuple[Plan, bool]]:
    """Create, or find, a Stripe product and per-seat monthly price for each plan of the
    catalogue.

    Idempotent: prices are found by a lookup key derived from their amount.
    Returns [(plan, created)]."""
    products = gateway.quorum_products()
    results = []
    for plan in all_plans():
        product_id = products.get(plan.key)
        if product_id is None:
            with translation.override("en"):
                name = str(plan.name)
            product_id = gateway.create_product(name=name, plan_key=plan.key)
        created = gateway.price_id(plan.price_lookup_key) is None
        if created:
            gateway.create_price(
                lookup_key=plan.price_lookup_key,
                product_id=product_id,
                amount=plan.amount,
                currency=plan.currency,
            )
        results.append((plan, created))
    return results
