"""Writes of licensing: Stripe plans, the purchase that makes a tenant managed, webhooks.

Becoming admin and buying are ONE step: `purchase_seats` grants admin rights only in the
transaction that records a paid Stripe subscription for a verified domain claim.
"""

from datetime import UTC, datetime

import stripe
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.counts import forget_count
from core.scoping import in_tenant_scope, tenant_scope
from domains.selectors import verified_claim
from domains.services import reconfirm_claim, use_claim
from meetings.services import migrate_personal_settings, release_licensed_caps, set_licensed_cap
from tenancy.models import Membership, Tenant
from tenancy.selectors import tenant_of
from tenancy.services.audit import record_audit

from .exceptions import LicensingError, PaymentError
from .gateway import stripe_client
from .models import Licence, Purchase, SettingsMigration, StripeEvent, Subscription
from .plans import ENTRY_PLANS, all_plans, plan_by_key
from .selectors import assigned_count_key, count_seats, live_subscription, open_purchase

PAID_STATUSES = ("active", "trialing")
ENDED_STATUSES = ("canceled", "unpaid", "incomplete_expired")


def sync_stripe_plans():
    """Create, or find, a Stripe product and per-seat monthly plan for each plan of the catalogue.

    Idempotent: plans have fixed ids derived from their price. Returns [(plan, created)]."""
    client = stripe_client()
    products = {
        _metadata(product, "quorum_plan"): product
        for product in client.v1.products.list(params={"limit": 100}).auto_paging_iter()
    }
    results = []
    for plan in all_plans():
        product = products.get(plan.key)
        if product is None:
            with translation.override("en"):
                name = str(plan.name)
            product = client.v1.products.create(
                params={"name": name, "metadata": {"quorum_plan": plan.key}}
            )
        try:
            client.v1.plans.retrieve(plan.stripe_plan_id)
            created = False
        except stripe.InvalidRequestError:
            client.v1.plans.create(
                params={
                    "id": plan.stripe_plan_id,
                    "product": product.id,
                    "amount": plan.amount,
                    "currency": plan.currency,
                    "interval": "month",
                }
            )
            created = True
        results.append((plan, created))
    return results


def _tenant_of_buyer(buyer):
    tenant = tenant_of(buyer)
    if tenant is None:
        raise LicensingError(_("Only verified members of an organisation can buy licences."))
    return tenant


def _buyable_tenant(buyer):
    """The buyer's tenant and verified claim, or a LicensingError saying what is missing."""
    tenant = Tenant.objects.get(pk=_tenant_of_buyer(buyer).pk)
    if tenant.is_managed:
        raise LicensingError(
            _("%(domain)s already has an admin: the upgrade was bought.")
            % {"domain": tenant.domain}
        )
    claim = verified_claim(tenant=tenant, claimant=buyer)
    if claim is None:
        raise LicensingError(
            _("Confirm that you own %(domain)s first.") % {"domain": tenant.domain}
        )
    return tenant, claim


def start_purchase(*, buyer, entry):
    """Open, or resume, the buyer's purchase attempt and give it a Stripe customer.

    Returns the purchase and the client secret of a fresh SetupIntent for the card form."""
    with tenant_scope(_tenant_of_buyer(buyer)):
        return _start_purchase(buyer=buyer, entry=entry)


@transaction.atomic
def _start_purchase(*, buyer, entry):
    entry = entry if entry in ENTRY_PLANS else "admin"
    tenant, claim = _buyable_tenant(buyer)
    purchase = open_purchase(tenant=tenant, buyer=buyer) or Purchase.objects.create(
        tenant=tenant, buyer=buyer, claim=claim, entry=entry, plan=ENTRY_PLANS[entry][0]
    )
    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    purchase.entry, purchase.claim, purchase.seats = entry, claim, count_seats(tenant)
    if purchase.plan not in ENTRY_PLANS[entry]:
        purchase.plan = ENTRY_PLANS[entry][0]
    client = stripe_client()
    try:
        if not purchase.stripe_customer_id:
            customer = client.v1.customers.create(
                params={
                    "email": buyer.email,
                    "name": buyer.name,
                    "metadata": {
                        "quorum_purchase": str(purchase.pk),
                        "quorum_tenant": tenant.domain,
                    },
                },
                options={"idempotency_key": f"quorum-purchase-{purchase.pk}-customer"},
            )
            purchase.stripe_customer_id = customer.id
        setup_intent = client.v1.setup_intents.create(
            params={"customer": purchase.stripe_customer_id, "usage": "off_session"}
        )
    except stripe.StripeError as error:
        raise PaymentError(_unreachable_message()) from error
    purchase.save()
    return purchase, setup_intent.client_secret


def purchase_seats(*, buyer, purchase_id, plan_key, confirmed_seats, setup_intent_id):
    """Buy one licence per verified member and make the buyer the tenant's admin.

    Under a lock on the tenant row: the buyer's claim must be verified, the tenant unmanaged and
    the plan offered from the purchase's wizard entry. If the number of members changed since
    the buyer saw `confirmed_seats`, nothing is charged and the purchase comes back in
    NEEDS_CONFIRMATION with the new count. Otherwise one Stripe subscription is made (or found,
    for a retry of the same attempt) and the tenant becomes managed in the same transaction.
    A declined card, a required bank authentication or a Stripe error raises PaymentError,
    recorded on the purchase, and changes nothing else.
    """
    with tenant_scope(_tenant_of_buyer(buyer)):
        try:
            return _purchase_seats(
                buyer=buyer,
                purchase_id=purchase_id,
                plan_key=plan_key,
                confirmed_seats=confirmed_seats,
                setup_intent_id=setup_intent_id,
            )
        except PaymentError as error:
            Purchase.objects.filter(pk=purchase_id, buyer=buyer).exclude(
                state=Purchase.State.SUCCEEDED
            ).update(state=error.state, error=error.message)
            raise


@transaction.atomic
def _purchase_seats(*, buyer, purchase_id, plan_key, confirmed_seats, setup_intent_id):
    purchase = Purchase.objects.filter(pk=purchase_id, buyer=buyer).first()
    if purchase is None:
        raise LicensingError(_("This purchase was not found. Please start again."))
    # The tenant row lock serialises purchases of one tenant. A new membership's foreign key
    # takes a KEY SHARE lock on the same row, so sign-ups wait until the seat count is final.
    Tenant.objects.select_for_update().get(pk=purchase.tenant_id)
    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    if purchase.state == Purchase.State.SUCCEEDED:
        # A double click or a retry of a purchase that went through: nothing more to do.
        return purchase
    tenant, claim = _buyable_tenant(buyer)
    reconfirm_claim(claim=claim)  # the record must still be there: raises DomainsError if not
    if plan_key not in ENTRY_PLANS.get(purchase.entry, ()):
        raise LicensingError(_("This plan is not offered from where you started the upgrade."))
    plan = plan_by_key(plan_key)
    seats = count_seats(tenant)
    purchase.plan, purchase.seats, purchase.claim = plan.key, seats, claim
    if seats != confirmed_seats:
        purchase.state = Purchase.State.NEEDS_CONFIRMATION
        purchase.save()
        return purchase
    stripe_subscription = _paid_stripe_subscription(purchase, plan, seats, setup_intent_id)
    _make_tenant_managed(purchase, tenant, claim, plan, stripe_subscription)
    return purchase


def _paid_stripe_subscription(purchase, plan, seats, setup_intent_id):
    client = stripe_client()
    try:
        # localstripe ignores idempotency keys, so our own record is what finds a subscription
        # that an earlier try of this same attempt created before it was cut off.
        for existing in client.v1.subscriptions.list(
            params={"customer": purchase.stripe_customer_id}
        ).auto_paging_iter():
            if _metadata(existing, "quorum_purchase") == str(purchase.pk) and (
                existing.status in PAID_STATUSES
            ):
                return existing
        payment_method = _confirmed_payment_method(client, purchase, setup_intent_id)
        client.v1.payment_methods.attach(
            payment_method, params={"customer": purchase.stripe_customer_id}
        )
        client.v1.customers.update(
            purchase.stripe_customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method}},
        )
        subscription = client.v1.subscriptions.create(
            params={
                "customer": purchase.stripe_customer_id,
                "items": [{"plan": plan.stripe_plan_id, "quantity": seats}],
                "payment_behavior": "error_if_incomplete",
                "metadata": {"quorum_purchase": str(purchase.pk)},
            },
            options={"idempotency_key": f"quorum-purchase-{purchase.pk}-{plan.key}-{seats}"},
        )
    except stripe.CardError as error:
        raise PaymentError(_declined_message(error.user_message)) from error
    except stripe.StripeError as error:
        raise PaymentError(_unreachable_message()) from error
    if subscription.status not in PAID_STATUSES:
        # An incomplete subscription holds no money: cancel it and say why the first invoice
        # was not paid.
        client.v1.subscriptions.cancel(subscription.id)
        raise _unpaid_first_invoice(client, subscription)
    return subscription


def _unpaid_first_invoice(client, subscription):
    invoice = client.v1.invoices.retrieve(
        subscription.latest_invoice, params={"expand": ["payment_intent"]}
    ).to_dict()
    payment_intent = invoice.get("payment_intent") or {}
    if payment_intent.get("status") == "requires_action":
        return PaymentError(_authentication_message(), state=Purchase.State.REQUIRES_ACTION)
    reason = (payment_intent.get("last_payment_error") or {}).get("message")
    return PaymentError(_declined_message(reason))


def _confirmed_payment_method(client, purchase, setup_intent_id):
    setup_intent = client.v1.setup_intents.retrieve(setup_intent_id)
    if setup_intent.customer != purchase.stripe_customer_id:
        raise PaymentError(_("This card form does not belong to your purchase. Please reload."))
    if setup_intent.status == "requires_action":
        raise PaymentError(_authentication_message(), state=Purchase.State.REQUIRES_ACTION)
    if setup_intent.status != "succeeded" or not setup_intent.payment_method:
        raise PaymentError(_("Your card was not confirmed. Please enter it again."))
    return setup_intent.payment_method


def _declined_message(reason):
    return _("Your card was declined (%(reason)s). Nothing was charged; try another card.") % {
        "reason": reason or _("no reason given")
    }


def _unreachable_message():
    return _(
        "We could not complete the payment with our payment provider. Please try again in a "
        "moment: you will never be charged twice."
    )


def _authentication_message():
    return _(
        "Your bank asks you to authenticate this payment. Nothing was charged: please confirm "
        "the card with your bank in the card form, or use another card."
    )


def _make_tenant_managed(purchase, tenant, claim, plan, stripe_subscription):
    now = timezone.now()
    details = stripe_subscription.to_dict()
    subscription = Subscription.objects.create(
        tenant=tenant,
        purchase=purchase,
        plan=plan.key,
        quantity=purchase.seats,
        status=details["status"],
        stripe_customer_id=purchase.stripe_customer_id,
        stripe_subscription_id=details["id"],
        stripe_item_id=details["items"]["data"][0]["id"],
        current_period_end=_from_timestamp(details.get("current_period_end")),
    )
    licensed = _licence_every_member(subscription, tenant, now)
    if licensed != purchase.seats:
        raise LicensingError(_("The members changed during the purchase. Please try again."))
    Membership.objects.filter(tenant=tenant, user=purchase.buyer).update(role=Membership.Role.ADMIN)
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.MANAGED)
    use_claim(claim=claim)
    migrated = migrate_personal_settings(tenant=tenant, cap=plan.meeting_cap)
    SettingsMigration.objects.create(
        tenant=tenant,
        subscription=subscription,
        performed_by=purchase.buyer,
        performed_at=now,
        members=migrated,
    )
    purchase.state = Purchase.State.SUCCEEDED
    purchase.stripe_subscription_id = subscription.stripe_subscription_id
    purchase.error = ""
    purchase.save()
    record_audit(
        tenant=tenant,
        actor=purchase.buyer,
        action="tenant.upgraded",
        target=tenant.domain,
        before={"state": Tenant.State.UNMANAGED},
        after={
            "state": Tenant.State.MANAGED,
            "plan": plan.key,
            "licences": purchase.seats,
            "admin": purchase.buyer.email,
            "settings_migrated": migrated,
        },
    )


def _licence_every_member(subscription, tenant, now):
    # One INSERT ... SELECT whatever the number of members: the upgrade of a tenant of 100,000
    # costs the same number of queries as one of 2.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Licence._meta.db_table} (subscription_id, user_id, assigned_at) "  # noqa: S608 (table names from model metadata)
            f"SELECT %s, user_id, %s FROM {Membership._meta.db_table} WHERE tenant_id = %s",
            [subscription.pk, now, tenant.pk],
        )
        return cursor.rowcount


def _metadata(stripe_object, key):
    return (stripe_object.to_dict().get("metadata") or {}).get(key)


def _from_timestamp(value):
    return datetime.fromtimestamp(value, tz=UTC) if value else None


# Stripe events that change our copy of a subscription; any other type is acknowledged only.
HANDLED_EVENTS = {
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}


@transaction.atomic
def process_stripe_event(*, event):
    """Apply one verified Stripe webhook event to the local subscription.

    Each event id is applied once, however often it is delivered; an event older than the last
    one applied to the subscription is ignored, so late deliveries cannot undo newer news.
    Returns True when the event changed something."""
    _record, is_new = StripeEvent.objects.get_or_create(
        stripe_event_id=event["id"], defaults={"type": event["type"]}
    )
    if not is_new or event["type"] not in HANDLED_EVENTS:
        return False
    obj = event["data"]["object"]
    stripe_id = obj["id"] if obj.get("object") == "subscription" else obj.get("subscription")
    # Stripe names the subscription, not the tenant: find it across tenants, then act in its
    # tenant's scope.
    subscription = (
        Subscription.objects.unscoped()
        .select_for_update()
        .filter(stripe_subscription_id=stripe_id)
        .first()
    )
    if subscription is None:
        return False
    with tenant_scope(subscription.tenant_id):
        return _apply_stripe_event(subscription, event, obj)


def _apply_stripe_event(subscription, event, obj):
    happened_at = _from_timestamp(event["created"])
    if subscription.last_event_at and happened_at < subscription.last_event_at:
        return False
    before = {"status": subscription.status, "quantity": subscription.quantity}
    subscription.last_event_at = happened_at
    if event["type"] in ("invoice.paid", "invoice.payment_succeeded"):
        if subscription.status not in ENDED_STATUSES:
            subscription.status = "active"
    elif event["type"] == "invoice.payment_failed":
        if subscription.status not in ENDED_STATUSES:
            subscription.status = "past_due"
    elif event["type"] == "customer.subscription.deleted":
        subscription.status = "canceled"
    else:
        subscription.status = obj["status"]
        subscription.quantity = obj["items"]["data"][0]["quantity"]
        subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
        subscription.current_period_end = _from_timestamp(obj.get("current_period_end"))
    subscription.save()
    if subscription.status in ENDED_STATUSES:
        _fall_back_to_free(subscription)
    record_audit(
        tenant=subscription.tenant,
        actor=None,
        action=f"billing.{event['type']}",
        target=subscription.stripe_subscription_id,
        before=before,
        after={"status": subscription.status, "quantity": subscription.quantity},
    )
    return True


def _fall_back_to_free(subscription):
    """The subscription ended: free limits again, admins become members; nothing is deleted."""
    tenant = subscription.tenant
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.UNMANAGED)
    Membership.objects.filter(tenant=tenant, role=Membership.Role.ADMIN).update(
        role=Membership.Role.MEMBER
    )
    release_licensed_caps(tenant=tenant)


# The admin centre: seats, licences, plan and cancellation of a managed tenant.

MAX_SEATS = 1_000_000


def _locked_live_subscription(tenant):
    # Seat changes and licence assignments lock the same row, so "assigned <= quantity" holds
    # however many admins act at once.
    subscription = live_subscription(tenant)
    if subscription is None:
        raise LicensingError(_("Your organisation has no active subscription."))
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def _update_stripe_subscription(subscription, params):
    try:
        updated = stripe_client().v1.subscriptions.update(
            subscription.stripe_subscription_id, params=params
        )
    except stripe.StripeError as error:
        raise PaymentError(_unreachable_message()) from error
    details = updated.to_dict()
    # Stripe may hand back a new subscription item (localstripe does on every change).
    subscription.stripe_item_id = details["items"]["data"][0]["id"]
    subscription.cancel_at_period_end = bool(details.get("cancel_at_period_end"))
    subscription.current_period_end = _from_timestamp(details.get("current_period_end"))
    return details


@in_tenant_scope
@transaction.atomic
def change_seat_count(*, tenant, actor, quantity):
    """Buy more licences or remove free ones; Stripe prorates the change.

    The count can never go below the number of licences assigned: unassign first."""
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
    before = subscription.quantity
    if quantity == before:
        return subscription
    _update_stripe_subscription(
        subscription, {"items": [{"id": subscription.stripe_item_id, "quantity": quantity}]}
    )
    subscription.quantity = quantity
    subscription.save()
    record_audit(
        tenant=tenant,
        actor=actor,
        action="licences.quantity_changed",
        target=subscription.stripe_subscription_id,
        before={"quantity": before},
        after={"quantity": quantity},
    )
    return subscription


@in_tenant_scope
@transaction.atomic
def assign_licence(*, tenant, actor, user):
    """Give a free licence of the tenant's subscription to one of its members."""
    subscription = _locked_live_subscription(tenant)
    if not Membership.objects.for_tenant(tenant).filter(user=user).exists():
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
    licence = Licence.objects.create(subscription=subscription, user=user)
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
def unassign_licence(*, tenant, actor, user):
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
def change_plan(*, tenant, actor, plan_key):
    """Switch between Business Essentials and Business Premium (Stripe prorates)."""
    subscription = _locked_live_subscription(tenant)
    if plan_key not in ENTRY_PLANS["meetings"]:
        raise LicensingError(_("Choose one of the plans offered."))
    if plan_key == subscription.plan:
        return subscription
    plan = plan_by_key(plan_key)
    before = subscription.plan
    _update_stripe_subscription(
        subscription,
        {
            "items": [
                {
                    "id": subscription.stripe_item_id,
                    "plan": plan.stripe_plan_id,
                    "quantity": subscription.quantity,
                }
            ]
        },
    )
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
def set_cancel_at_period_end(*, tenant, actor, cancel):
    """Cancel at the end of the paid period (cancel=True), or undo that (cancel=False).

    Nothing ends now: Stripe's `customer.subscription.deleted` event ends it later."""
    subscription = _locked_live_subscription(tenant)
    before = subscription.cancel_at_period_end
    _update_stripe_subscription(subscription, {"cancel_at_period_end": bool(cancel)})
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
