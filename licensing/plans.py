"""The plan catalogue: what can be bought, for how much, and from which wizard entry."""

from dataclasses import dataclass

from django.conf import settings
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
    def name(self):
        return NAMES[self.key]

    @property
    def stripe_plan_id(self):
        # Derived from the price, so a price change makes a new Stripe plan instead of
        # silently changing what existing subscribers pay.
        return f"quorum-{self.key}-{self.currency}-{self.amount}-month"

    def total(self, seats):
        return self.amount * seats


def all_plans():
    return [plan_by_key(key) for key in (ESSENTIALS, PREMIUM)]


def plan_by_key(key):
    config = settings.QUORUM_PLANS[key]
    return Plan(
        key=key,
        amount=config["amount"],
        currency=config["currency"],
        meeting_cap=config["meeting_cap"],
    )


def plans_for_entry(entry):
    return [plan_by_key(key) for key in ENTRY_PLANS.get(entry, ())]
