"""The plan catalogue: what can be bought, for how much, and from which wizard entry."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ESSENTIALS = "essentials"
PREMIUM = "premium"

# The Admin tile offers only Essentials; Upgrade inside meetings offers both.
ENTRY_PLANS = {"admin": (ESSENTIALS,), "meetings": (ESSENTIALS, PREMIUM)}
NAMES = {ESSENTIALS: _("Business Essentials"), PREMIUM: _("Business Premium")}


@dataclass(frozen=True)
class Plan:
    key: str
    amount: int  # per seat and month, in the currency's smallest unit
    currency: str
    meeting_cap: int

    @property
    def name(self) -> Promise:
        return NAMES[self.key]

    @property
    def price_lookup_key(self) -> str:
        # Derived from the amount, so a price change makes a new Stripe price instead of
        # silently changing what existing subscribers pay. (The id of the legacy Stripe plans
        # Quorum made before it used Prices, too.)
        return f"quorum-{self.key}-{self.currency}-{self.amount}-month"

    def total(self, seats: int) -> int:
        return self.amount * seats


def all_plans() -> list[Plan]:
    return [plan_by_key(key) for key in (ESSENTIALS, PREMIUM)]


def plan_by_key(key: str) -> Plan:
    config = settings.QUORUM_PLANS[key]
    return Plan(
        key=key,
        amount=config["amount"],
        currency=config["currency"],
        meeting_cap=config["meeting_cap"],
    )


def plan_by_price(*, lookup_key: str | None, price_id: str | None) -> Plan | None:
    """The plan of the catalogue a Stripe price stands for (by its lookup key, or by its id for
    a legacy plan), if any."""
    keys = {lookup_key, price_id} - {None}
    return next((plan for plan in all_plans() if plan.price_lookup_key in keys), None)


def plans_for_entry(entry: str) -> list[Plan]:
    return [plan_by_key(key) for key in ENTRY_PLANS.get(entry, ())]
