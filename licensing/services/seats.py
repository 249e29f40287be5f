"""The admin centre's writes: seats, licences, plan and cancellation of a managed tenant; and
the members waiting for a licence, who get the seats freed or added, the longest waiting first.

Every change to a tenant's licences, and to who waits for one, locks the tenant's live
subscription row: "assigned <= quantity" then holds and a free seat goes to one member however
many admins, identity providers and sign-ups act at once. The row keeps the number assigned.
Most changes lock it first (SELECT ... FOR UPDATE); a new account's free seat is taken by one
UPDATE that counts it only while one is free and nobody waits."""

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scoping import in_tenant_scope
from licensing import gateway
from licensing.exceptions import LicensingError
from licensing.models import Licence, LicenceWait, Subscription
from licensing.plans import ENTRY_PLANS, Plan, plan_by_key
from meetings.services import set_licensed_cap, set_licensed_caps
from tenancy.models import Membership, Tenant, User
from tenancy.services.audit import record_audit

MAX_SEATS = 1_000_000


# SQL, not the ORM: on every provisioned person's path, a column against a column, a subquery
# and RETURNING, which the ORM's update() cannot give back.
_TAKE_A_FREE_SEAT = (
    "UPDATE licensing_subscription SET assigned = assigned + 1"
    " WHERE tenant_id = %s AND status = ANY(%s) AND assigned < quantity"
    " AND NOT EXISTS (SELECT 1 FROM licensing_licencewait WHERE tenant_id = %s)"
    " RETURNING id, plan"
)


def _live_subscription_locked(tenant: Tenant) -> Subscription | None:
    # One statement: the tenant in scope's live subscription (a constraint makes it at most
    # one, so get() and no ORDER BY), locked.
    try:
        return Subscription.objects.select_for_update().get(status__in=Subscription.LIVE_STATUSES)
    except Subscription.DoesNotExist:
        return None


def _locked_live_subscription_locked(tenant: Tenant) -> Subscription:
    subscription = _live_subscription_locked(tenant)
    if subscription is None:
        raise LicensingError(_("Your organisation has no active subscription."))
    return subscription


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
    that payment succeeded; the added seats then go to the members waiting for a licence.

    A declined card raises PaymentError with the card's reason and leaves the count as it was.
    A payment the bank must authenticate raises PaymentError with the `client_secret` that
    Stripe.js needs; `settle_seat_change` applies the count once it is paid. The count can
    never go below the number of licences assigned: unassign first."""
    subscription = _locked_live_subscription_locked(tenant)
    # Counted here, where an admin waits anyway, rather than trusted: this also mends the kept
    # number should a licence ever go without its service (a user deleted in Django's admin).
    subscription.assigned = subscription.licences.count()
    if not 1 <= quantity <= MAX_SEATS:
        raise LicensingError(_("Choose between 1 and %(max)d licences.") % {"max": MAX_SEATS})
    if quantity < subscription.assigned:
        raise LicensingError(
            _(
                "%(assigned)d licences are assigned: you cannot go below that. Unassign "
                "licences first."
            )
            % {"assigned": subscription.assigned}
        )
    if quantity == subscription.quantity:
        subscription.save(update_fields=["assigned"])
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
    paid becomes ours, and the added seats go to the members waiting for a licence. Raises
    LicensingError while the payment is still not through."""
    subscription = _locked_live_subscription_locked(tenant)
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
    if updated.quantity > before:
        _give_free_seats(subscription, tenant=subscription.tenant, actor=actor)


@in_tenant_scope
@transaction.atomic
def assign_licence(*, tenant: Tenant, actor: User | None, user: User) -> Licence:
    """An admin gives a free licence of the tenant's subscription to one of its members (who
    then no longer waits for one, if they did)."""
    subscription = _locked_live_subscription_locked(tenant)
    if not Membership.objects.filter(user=user).exists():
        raise LicensingError(
            _("%(email)s is not a member of your organisation.") % {"email": user.email}
        )
    if subscription.licences.filter(user=user).exists():
        raise LicensingError(_("%(email)s already has a licence.") % {"email": user.email})
    if subscription.assigned >= subscription.quantity:
        raise LicensingError(
            _("All %(quantity)d licences are assigned. Buy more licences first.")
            % {"quantity": subscription.quantity}
        )
    LicenceWait.objects.filter(user=user).delete()
    return _grant(subscription, tenant=tenant, actor=actor, user=user)


@in_tenant_scope
@transaction.atomic
def unassign_licence(*, tenant: Tenant, actor: User | None, user: User) -> None:
    """An admin takes a member's licence back. Their meetings fall back to free caps, and they
    do not wait for another: the freed seat goes to the member waiting longest, if any."""
    subscription = _locked_live_subscription_locked(tenant)
    deleted, _detail = subscription.licences.filter(user=user).delete()
    if not deleted:
        raise LicensingError(_("%(email)s has no licence.") % {"email": user.email})
    _take_back(subscription, tenant=tenant, actor=actor, user=user)
    _give_free_seats(subscription, tenant=tenant, actor=actor)


@in_tenant_scope
# No savepoint when nested (in every join): it raises nothing its callers would go on after.
@transaction.atomic(savepoint=False)
def licence_or_wait(
    *, tenant: Tenant, actor: User | None, user: User, new_account: bool = False
) -> bool:
    """A member joined (or was reactivated): a free licence is theirs, unless others were
    waiting for one before them; with none free, they wait (`LicenceWait`), in the audit log
    too. Returns whether they hold a licence now. Without a live subscription nothing changes.
    A `new_account`, made in this transaction, holds no licence: it is not looked for."""
    if new_account and _licence_on_a_free_seat(tenant=tenant, actor=actor, user=user):
        return True
    subscription = _live_subscription_locked(tenant)
    if subscription is None:
        return False
    if not new_account and Licence.objects.filter(subscription=subscription, user=user).exists():
        return True
    # Whoever waits was there first. (A wait left behind only sends this member through the
    # queue below, which passes over it.)
    if subscription.assigned < subscription.quantity and not LicenceWait.objects.exists():
        _grant(subscription, tenant=tenant, actor=actor, user=user)
        return True
    _wait, began = LicenceWait.objects.get_or_create(user=user, defaults={"tenant": tenant})
    if began:
        record_audit(
            tenant=tenant,
            actor=actor,
            action="licences.waiting",
            target=user.email,
            after={"waiting": True},
        )
    return user in _give_free_seats(subscription, tenant=tenant, actor=actor)


@in_tenant_scope
@transaction.atomic
def free_licence(*, tenant: Tenant, actor: User | None, user: User) -> None:
    """A member leaves or is deactivated: they stop waiting for a licence, and the licence they
    held, if any, goes to the member waiting longest."""
    subscription = _live_subscription_locked(tenant)
    LicenceWait.objects.filter(user=user).delete()
    if subscription is None:
        return
    deleted, _detail = subscription.licences.filter(user=user).delete()
    if deleted:
        _take_back(subscription, tenant=tenant, actor=actor, user=user)
        _give_free_seats(subscription, tenant=tenant, actor=actor)


@in_tenant_scope
@transaction.atomic
def give_free_seats_to_waiting_members(*, tenant: Tenant, actor: User | None) -> list[User]:
    """Each free seat of the live subscription goes to a member waiting for a licence, the
    longest waiting first, in the transaction of the change that freed or added it (Stripe's
    news of more seats included). Returns the members who got one."""
    subscription = _live_subscription_locked(tenant)
    if subscription is None:
        return []
    return _give_free_seats(subscription, tenant=tenant, actor=actor)


def _waiting(tenant: Tenant, subscription: Subscription) -> QuerySet[LicenceWait]:
    """The tenant's members waiting for a licence, longest waiting first (the caller holds the
    subscription's lock). A wait left behind (an account deactivated or a member gone without
    its service, a licence given meanwhile) is passed over."""
    licensed = Licence.objects.filter(subscription=subscription, user=OuterRef("user"))
    return (
        LicenceWait.objects.filter(user__is_active=True, user__membership__tenant=tenant)
        .exclude(Exists(licensed))
        .select_related("user")
        .order_by("since", "pk")
    )


def _give_free_seats(
    subscription: Subscription, *, tenant: Tenant, actor: User | None
) -> list[User]:
    free = subscription.quantity - subscription.assigned
    if free <= 0:
        return []
    waits = list(_waiting(tenant, subscription)[:free])
    for wait in waits:
        _grant(subscription, tenant=tenant, actor=actor, user=wait.user, waited_since=wait.since)
    LicenceWait.objects.filter(pk__in=[wait.pk for wait in waits]).delete()
    return [wait.user for wait in waits]


def _grant(
    subscription: Subscription,
    *,
    tenant: Tenant,
    actor: User | None,
    user: User,
    waited_since: datetime | None = None,
) -> Licence:
    licence = Licence.objects.create(tenant=tenant, subscription=subscription, user=user)
    subscription.assigned += 1
    subscription.save(update_fields=["assigned"])
    _licensed(
        subscription.plan_details, tenant=tenant, actor=actor, user=user, waited_since=waited_since
    )
    return licence


def _licensed(
    plan: Plan,
    *,
    tenant: Tenant,
    actor: User | None,
    user: User,
    waited_since: datetime | None = None,
) -> None:
    """What follows a licence given: the cap of the member's meetings, and the audit log."""
    set_licensed_cap(user=user, cap=plan.meeting_cap)
    after: dict[str, object] = {"licence": True}
    if waited_since is not None:
        after["waited_since"] = waited_since.isoformat()
    record_audit(
        tenant=tenant,
        actor=actor,
        action="licences.assigned",
        target=user.email,
        before={"licence": False},
        after=after,
    )


def _licence_on_a_free_seat(*, tenant: Tenant, actor: User | None, user: User) -> bool:
    """A new account's licence on a free seat, with nobody waiting: one UPDATE takes the seat
    only then (it waits for a concurrent change to the row, then checks the row as that change
    left it), and locks the subscription's row for the licence, the cap and the audit INSERT
    only, with no SELECT before it. False, with nothing written, when there is no live
    subscription, no free seat or a queue; the caller then looks again under the lock.

    Only a new account: made in this transaction, nobody else can give it a licence meanwhile."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_A_FREE_SEAT, [tenant.pk, list(Subscription.LIVE_STATUSES), tenant.pk])
        taken = cursor.fetchone()
    if taken is None:
        return False
    subscription_id, plan = taken
    Licence.objects.create(tenant=tenant, subscription_id=subscription_id, user=user)
    _licensed(plan_by_key(plan), tenant=tenant, actor=actor, user=user)
    return True


@in_tenant_scope
@transaction.atomic
def licence_newcomers(*, tenant: Tenant, user_ids: QuerySet[Any, Any]) -> int:
    """The members among `user_ids` (a query: the people of a merged organisation) who hold no
    licence join the back of the queue for one, longest-standing members first, behind those
    already waiting; then the free seats go to the queue's head. Both in one statement each,
    whatever their number. Returns how many licences were given."""
    subscription = _live_subscription_locked(tenant)
    if subscription is None:
        return 0
    newcomers, params = (
        Membership.objects.filter(user_id__in=user_ids)
        .exclude(Exists(Licence.objects.filter(subscription=subscription, user=OuterRef("user"))))
        .exclude(Exists(LicenceWait.objects.filter(user=OuterRef("user"))))
        .order_by("joined_at", "user_id")
        .values("user_id")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        # Queued in their order (the ids follow it): the queue is read by (since, id).
        cursor.execute(
            f"INSERT INTO {LicenceWait._meta.db_table} (tenant_id, user_id, since) "  # noqa: S608 (table name from model metadata)
            f"SELECT %s, user_id, %s FROM ({newcomers}) AS newcomers",
            [tenant.pk, timezone.now(), *params],
        )
        queued = cursor.rowcount
    if queued:
        record_audit(
            tenant=tenant,
            actor=None,
            action="licences.newcomers_waiting",
            target=subscription.stripe_subscription_id,
            after={"waiting": queued},
        )
    return _give_free_seats_at_once(subscription, tenant=tenant)


def _give_free_seats_at_once(subscription: Subscription, *, tenant: Tenant) -> int:
    # The bulk form of _give_free_seats, for a queue that a merge may have made 100,000 long:
    # the head of the queue gets the free seats in one INSERT ... SELECT, one audit event.
    free = subscription.quantity - subscription.assigned
    if free <= 0:
        return 0
    head = list(_waiting(tenant, subscription).values_list("pk", "user_id")[:free])
    if not head:
        return 0
    Licence.objects.bulk_create(
        [
            Licence(tenant=tenant, subscription=subscription, user_id=user_id)
            for _pk, user_id in head
        ]
    )
    LicenceWait.objects.filter(pk__in=[pk for pk, _user_id in head]).delete()
    subscription.assigned += len(head)
    subscription.save(update_fields=["assigned"])
    set_licensed_caps(
        user_ids=[user_id for _pk, user_id in head], cap=subscription.plan_details.meeting_cap
    )
    record_audit(
        tenant=tenant,
        actor=None,
        action="licences.assigned_to_newcomers",
        target=subscription.stripe_subscription_id,
        after={"licences": len(head), "free_before": free},
    )
    return len(head)


def _take_back(
    subscription: Subscription, *, tenant: Tenant, actor: User | None, user: User
) -> None:
    # Never below 0: a licence made without its service is counted at the next seat change.
    subscription.assigned = max(subscription.assigned - 1, 0)
    subscription.save(update_fields=["assigned"])
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
    subscription = _locked_live_subscription_locked(tenant)
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
    subscription = _locked_live_subscription_locked(tenant)
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
