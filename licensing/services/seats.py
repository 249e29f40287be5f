"""The admin centre's writes: seats, licences, plan and cancellation of a managed tenant."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.counts import forget_count
from core.scoping import in_tenant_scope
from licensing import gateway
from licensing.exceptions import LicensingError
from licensing.models import Licence, Subscription
from licensing.plans import ENTRY_PLANS, plan_by_key
from licensing.selectors import assigned_count_key, live_subscription
from meetings.services import set_licensed_cap
from tenancy.models import Membership, Tenant, User
from tenancy.services.audit import record_audit

MAX_SEATS = 1_000_000


def _locked_live_subscription(tenant: Tenant) -> Subscription:
    # Seat changes and licence assignments lock the same row, so "assigned <= quantity" holds
    # however many admins act at once.
    subscription = live_subscription(tenant)
    if subscription is None:
        raise LicensingError(_("Your organisation has no active subscription."))
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def _follow_stripe(subscription: Subscription, updated: gateway.StripeSubscription) -> None:
    # Stripe may hand back a new subscription item (localstripe does on every change).
    subscription.stripe_item_id = updated.item_id
    subscription.cancel_at_period_end = updated.cancel_at_period_end
    subscription.current_period_end = updated.current_period_end


@in_tenant_scope
@transaction.atomic
def change_seat_count(*, tenant: Tenant, actor: User, quantity: int) -> Subscription:
    """Buy more licences or remove free ones. More licences are paid before they can be used:
    Stripe invoices the proration and charges it at once, and the new count applies only when
    that payment succeeded.

    A declined card raises PaymentError with the card's reason and leaves the count as it was.
    A payment the bank must authenticate raises PaymentError with the `client_secret` that
    Stripe.js needs; `settle_seat_change` applies the count once it is paid. The count can
    never go below the number of licences assigned: unassign first."""
    subscription = _locked_live_subscription(tenant)
    assigned = subscription.licences.count()
    if not 1 <= quantity <= MAX_SEATS:
        raise LicensingError(_("Choose between 1 and %(max)d licences.") % {"max": MAX_SEATS})
    if quantity < assigned:
        raise LicensingError(
            _(
                "%(assigned)d licences are assigned: you cannot go below that. Unassign "
                "licences first."
            )
            % {"assigned": assigned}
        )
    if quantity == subscription.quantity:
        return subscription
    updated = gateway.change_quantity(
        subscription_id=subscription.stripe_subscription_id,
        item_id=subscription.stripe_item_id,
        quantity=quantity,
    )
    _apply_quantity(subscription, updated, actor)
    return subscription


@in_tenant_scope
@transaction.atomic
def settle_seat_change(*, tenant: Tenant, actor: User) -> Subscription:
    """After the bank's authentication of a seat payment: the count Stripe applied once it was
    paid becomes ours. Raises LicensingError while the payment is still not through."""
    subscription = _locked_live_subscription(tenant)
    current = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    if current.has_pending_update:
        raise LicensingError(
            _("The payment for the new licences is not through yet. Nothing changed so far.")
        )
    _apply_quantity(subscription, current, actor)
    return subscription


def _apply_quantity(
    subscription: Subscription, updated: gateway.StripeSubscription, actor: User
) -> None:
    before = subscription.quantity
    _follow_stripe(subscription, updated)
    subscription.quantity = updated.quantity
    subscription.save()
    if updated.quantity != before:
        record_audit(
            tenant=subscription.tenant,
            actor=actor,
            action="licences.quantity_changed",
            target=subscription.stripe_subscription_id,
            before={"quantity": before},
            after={"quantity": updated.quantity},
        )


@in_tenant_scope
@transaction.atomic
def assign_licence(*, tenant: Tenant, actor: User | None, user: User) -> Licence:
    """Give a free licence of the tenant's subscription to one of its members."""
    subscription = _locked_live_subscription(tenant)
    if not Membership.objects.filter(user=user).exists():
        raise LicensingError(
            _("%(email)s is not a member of your organisation.") % {"email": user.email}
        )
    if subscription.licences.filter(user=user).exists():
        raise LicensingError(_("%(email)s already has a licence.") % {"email": user.email})
    if subscription.licences.count() >= subscription.quantity:
        raise LicensingError(
            _("All %(quantity)d licences are assigned. Buy more licences first.")
            % {"quantity": subscription.quantity}
        )
    licence = Licence.objects.create(tenant=tenant, subscription=subscription, user=user)
    forget_count(assigned_count_key(subscription.pk))
    set_licensed_cap(user=user, cap=subscription.plan_details.meeting_cap)
    record_audit(
        tenant=tenant,
        actor=actor,
        action="licences.assigned",
        target=user.email,
        before={"licence": False},
        after={"licence": True},
    )
    return licence


@in_tenant_scope
@transaction.atomic
def unassign_licence(*, tenant: Tenant, actor: User | None, user: User) -> None:
    """Take a member's licence back; it becomes free. Their meetings fall back to free caps."""
    subscription = _locked_live_subscription(tenant)
    deleted, _detail = subscription.licences.filter(user=user).delete()
    if not deleted:
        raise LicensingError(_("%(email)s has no licence.") % {"email": user.email})
    forget_count(assigned_count_key(subscription.pk))
    set_licensed_cap(user=user, cap=None)
    record_audit(
        tenant=tenant,
        actor=actor,
        action="licences.unassigned",
        target=user.email,
        before={"licence": True},
        after={"licence": False},
    )


@in_tenant_scope
@transaction.atomic
def change_plan(*, tenant: Tenant, actor: User, plan_key: str) -> Subscription:
    """Switch between Business Essentials and Business Premium (Stripe prorates)."""
    subscription = _locked_live_subscription(tenant)
    if plan_key not in ENTRY_PLANS["meetings"]:
        raise LicensingError(_("Choose one of the plans offered."))
    if plan_key == subscription.plan:
        return subscription
    plan = plan_by_key(plan_key)
    before = subscription.plan
    updated = gateway.change_plan(
        subscription_id=subscription.stripe_subscription_id,
        item_id=subscription.stripe_item_id,
        price_lookup_key=plan.price_lookup_key,
        quantity=subscription.quantity,
    )
    _follow_stripe(subscription, updated)
    subscription.plan = plan.key
    subscription.save()
    record_audit(
        tenant=tenant,
        actor=actor,
        action="subscription.plan_changed",
        target=subscription.stripe_subscription_id,
        before={"plan": before},
        after={"plan": plan.key},
    )
    return subscription


@in_tenant_scope
@transaction.atomic
def set_cancel_at_period_end(*, tenant: Tenant, actor: User, cancel: bool) -> Subscription:
    """Cancel at the end of the paid period (cancel=True), or undo that (cancel=False).

    Nothing ends now: Stripe's `customer.subscription.deleted` event ends it later."""
    subscription = _locked_live_subscription(tenant)
    before = subscription.cancel_at_period_end
    updated = gateway.set_cancel_at_period_end(
        subscription_id=subscription.stripe_subscription_id, cancel=bool(cancel)
    )
    _follow_stripe(subscription, updated)
    subscription.save()
    record_audit(
        tenant=tenant,
        actor=actor,
        action="subscription.cancelled" if cancel else "subscription.cancellation_undone",
        target=subscription.stripe_subscription_id,
        before={"cancel_at_period_end": before},
        after={"cancel_at_period_end": subscription.cancel_at_period_end},
    )
    return subscription
