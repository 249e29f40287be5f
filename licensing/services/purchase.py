"""The purchase that makes a tenant managed.

Becoming admin and buying are ONE step: `purchase_seats` grants admin rights only in the
transaction that records a paid Stripe subscription for a verified domain claim.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from domains.models import DomainClaim
from domains.selectors import verified_claim
from domains.services import reconfirm_claim, use_claim
from licensing import gateway
from licensing.exceptions import LicensingError, NotAMemberError, PaymentError
from licensing.models import Licence, LicenceWait, Purchase, SettingsMigration, Subscription
from licensing.plans import ENTRY_PLANS, Plan, plan_by_key
from licensing.selectors import count_seats, open_purchase
from meetings.services import migrate_personal_settings
from tenancy.identity import identity_changed
from tenancy.models import Membership, Tenant, User
from tenancy.scoping import in_tenant_of
from tenancy.services.audit import record_audit


def _buyable_tenant(buyer: User) -> tuple[Tenant, DomainClaim]:
    """The buyer's tenant and verified claim, or a LicensingError saying what is missing."""
    membership = Membership.objects.filter(user=buyer).first()
    if membership is None:
        raise NotAMemberError
    tenant = Tenant.objects.get(pk=membership.tenant_id)
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


@in_tenant_of("buyer", refusal=NotAMemberError)
@transaction.atomic
def start_purchase(*, buyer: User, entry: str) -> tuple[Purchase, str]:
    """Open, or resume, the buyer's purchase attempt and give it a Stripe customer.

    Returns the purchase and the client secret of a fresh SetupIntent for the card form."""
    entry = entry if entry in ENTRY_PLANS else "admin"
    tenant, claim = _buyable_tenant(buyer)
    purchase = open_purchase(tenant=tenant, buyer=buyer) or Purchase.objects.create(
        tenant=tenant, buyer=buyer, claim=claim, entry=entry, plan=ENTRY_PLANS[entry][0]
    )
    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    purchase.entry, purchase.claim, purchase.seats = entry, claim, count_seats(tenant)
    if purchase.plan not in ENTRY_PLANS[entry]:
        purchase.plan = ENTRY_PLANS[entry][0]
    if not purchase.stripe_customer_id:
        purchase.stripe_customer_id = gateway.create_customer(
            email=buyer.email,
            name=buyer.name,
            metadata={gateway.PURCHASE_KEY: str(purchase.pk), "quorum_tenant": tenant.domain},
            idempotency_key=f"quorum-purchase-{purchase.pk}-customer",
        )
    client_secret = gateway.create_setup_intent(customer_id=purchase.stripe_customer_id)
    purchase.save()
    return purchase, client_secret


@in_tenant_of("buyer", refusal=NotAMemberError)
def purchase_seats(
    *,
    buyer: User,
    purchase_id: int,
    plan_key: str,
    confirmed_seats: int,
    setup_intent_id: str,
    on_managed: Callable[..., object] | None = None,
) -> Purchase:
    """Buy one licence per verified member and make the buyer the tenant's admin.

    Under a lock on the tenant row: the buyer's claim must be verified, the tenant unmanaged and
    the plan offered from the purchase's wizard entry. If the number of members changed since
    the buyer saw `confirmed_seats`, nothing is charged and the purchase comes back in
    NEEDS_CONFIRMATION with the new count. Otherwise one Stripe subscription is made (or found,
    for a retry of the same attempt) and the tenant becomes managed in the same transaction.
    A declined card, a required bank authentication or a Stripe error raises PaymentError,
    recorded on the purchase, and changes nothing else. `on_managed(tenant=...)` runs in that
    transaction once the tenant is managed (the wizard's welcomes): committed with the purchase,
    or not at all.
    """
    try:
        return _purchase_seats(
            buyer=buyer,
            purchase_id=purchase_id,
            plan_key=plan_key,
            confirmed_seats=confirmed_seats,
            setup_intent_id=setup_intent_id,
            on_managed=on_managed,
        )
    except PaymentError as error:
        state = (
            Purchase.State.REQUIRES_ACTION if error.needs_authentication else Purchase.State.FAILED
        )
        Purchase.objects.filter(pk=purchase_id, buyer=buyer).exclude(
            state=Purchase.State.SUCCEEDED
        ).update(state=state, error=error.message)
        raise


@transaction.atomic
def _purchase_seats(
    *,
    buyer: User,
    purchase_id: int,
    plan_key: str,
    confirmed_seats: int,
    setup_intent_id: str,
    on_managed: Callable[..., object] | None,
) -> Purchase:
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
    if on_managed is not None:
        on_managed(tenant=tenant)
    return purchase


def _paid_stripe_subscription(
    purchase: Purchase, plan: Plan, seats: int, setup_intent_id: str
) -> gateway.StripeSubscription:
    # localstripe ignores idempotency keys, so our own record is what finds a subscription
    # that an earlier try of this same attempt created before it was cut off, or whose first
    # payment waited for the bank's authentication.
    for existing in gateway.subscriptions_of(purchase.stripe_customer_id):
        if existing.purchase_id != str(purchase.pk):
            continue
        if existing.status in Subscription.PAID:
            return existing
        if existing.status == Subscription.Status.INCOMPLETE:
            paid, _payment = _after_first_payment(existing)
            if paid is not None:
                return paid
    payment_method_id = _confirmed_payment_method(purchase, setup_intent_id)
    gateway.use_payment_method(
        customer_id=purchase.stripe_customer_id, payment_method_id=payment_method_id
    )
    subscription = gateway.create_subscription(
        customer_id=purchase.stripe_customer_id,
        price_lookup_key=plan.price_lookup_key,
        quantity=seats,
        purchase_id=str(purchase.pk),
        # One key per card confirmation: a double submit finds the same subscription, a retry
        # with another card (after a decline) makes a new one.
        idempotency_key=f"quorum-purchase-{purchase.pk}-{plan.key}-{seats}-{setup_intent_id}",
    )
    if subscription.status in Subscription.PAID:
        return subscription
    paid, payment = _after_first_payment(subscription)
    if paid is None:
        raise PaymentError.declined(payment.decline_reason)
    return paid


def _after_first_payment(
    subscription: gateway.StripeSubscription,
) -> tuple[gateway.StripeSubscription | None, gateway.PaymentOutcome]:
    """An incomplete subscription and how its first payment went: paid meanwhile (the
    subscription is returned, now active), waiting for the bank's authentication (PaymentError
    with what Stripe.js needs; the subscription is kept for the buyer's next submit), or
    declined (the subscription holds no money: it is cancelled, None is returned)."""
    payment = (
        gateway.payment_of_invoice(subscription.latest_invoice_id)
        if subscription.latest_invoice_id
        else gateway.PaymentOutcome(status="declined")
    )
    if payment.status == "paid":
        current = gateway.retrieve_subscription(subscription.id)
        if current.status in Subscription.PAID:
            return current, payment
    if payment.status == "requires_action":
        raise PaymentError.authentication_needed(client_secret=payment.client_secret)
    if payment.status == "processing":
        raise PaymentError.processing()
    gateway.cancel_subscription(subscription.id)
    return None, payment


def _confirmed_payment_method(purchase: Purchase, setup_intent_id: str) -> str:
    setup_intent = gateway.retrieve_setup_intent(setup_intent_id)
    if setup_intent.customer_id != purchase.stripe_customer_id:
        raise PaymentError(_("This card form does not belong to your purchase. Please reload."))
    if setup_intent.status == "requires_action":
        raise PaymentError.authentication_needed()
    if setup_intent.status != "succeeded" or not setup_intent.payment_method_id:
        raise PaymentError(_("Your card was not confirmed. Please enter it again."))
    return setup_intent.payment_method_id


def _make_tenant_managed(
    purchase: Purchase,
    tenant: Tenant,
    claim: DomainClaim,
    plan: Plan,
    stripe_subscription: gateway.StripeSubscription,
) -> None:
    now = timezone.now()
    subscription = Subscription.objects.create(
        tenant=tenant,
        purchase=purchase,
        plan=plan.key,
        quantity=purchase.seats,
        status=stripe_subscription.status,
        stripe_customer_id=purchase.stripe_customer_id,
        stripe_subscription_id=stripe_subscription.id,
        stripe_item_id=stripe_subscription.item_id,
        current_period_end=stripe_subscription.current_period_end,
    )
    licensed = _licence_every_member(subscription, tenant, now)
    if licensed != purchase.seats:
        raise LicensingError(_("The members changed during the purchase. Please try again."))
    subscription.assigned = licensed
    subscription.save(update_fields=["assigned"])
    # Everybody holds a licence now, those who waited under an earlier subscription too.
    LicenceWait.objects.filter(tenant=tenant).delete()
    Membership.objects.filter(tenant=tenant, user=purchase.buyer).update(role=Membership.Role.ADMIN)
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.MANAGED)
    identity_changed(tenant_id=tenant.pk)  # the buyer's admin role and the state: bulk updates
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


def _licence_every_member(subscription: Subscription, tenant: Tenant, now: datetime) -> int:
    # One INSERT ... SELECT whatever the number of members: the upgrade of a tenant of 100,000
    # costs the same number of queries as one of 2.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Licence._meta.db_table} "  # noqa: S608 (table names from model metadata)
            "(tenant_id, subscription_id, user_id, assigned_at) "
            f"SELECT tenant_id, %s, user_id, %s FROM {Membership._meta.db_table} "
            "WHERE tenant_id = %s",
            [subscription.pk, now, tenant.pk],
        )
        return int(cursor.rowcount)
