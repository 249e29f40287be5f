"""Seats are paid before they are used; 3-D Secure; a failed renewal and its grace period.

Against localstripe through the gateway's adapter (localstripe has no pending updates: the
adapter charges the added seats first; Stripe's own objects are in test_stripe_contract.py)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from licensing.exceptions import LicensingError, PaymentError
from licensing.models import Licence, Purchase, Subscription
from licensing.services.purchase import purchase_seats, start_purchase
from licensing.services.seats import change_seat_count, settle_seat_change
from licensing.services.webhooks import end_overdue_subscriptions
from meetings.models import MeetingSettings
from tenancy.models import AuditEvent, Membership, Tenant
from tests.fixtures.purchases import AUTHENTICATION_CARD, DECLINED_AT_CHARGE, buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(localstripe, contoso):
    rob, _sara = contoso
    buy(localstripe, rob)
    return Subscription.objects.unscoped().get()


def stripe_quantity(localstripe, subscription):
    details = localstripe.client().v1.subscriptions.retrieve(subscription.stripe_subscription_id)
    return details["items"]["data"][0]["quantity"]


def test_added_seats_are_charged_then_applied(localstripe, contoso, subscription):
    rob, _sara = contoso
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=4)
    subscription.refresh_from_db()
    assert subscription.quantity == 4 == stripe_quantity(localstripe, subscription)
    charges = localstripe.client().v1.payment_intents.list(params={"limit": 10}).data
    assert sorted(c.amount for c in charges if c.status == "succeeded") == [1200, 1200]


def test_a_declined_card_leaves_the_seats_as_they_were(localstripe, contoso, subscription):
    rob, _sara = contoso
    localstripe.use_card(subscription.stripe_customer_id, DECLINED_AT_CHARGE)
    with pytest.raises(PaymentError, match=r"declined \(Your card was declined\.\)"):
        change_seat_count(tenant=subscription.tenant, actor=rob, quantity=4)
    subscription.refresh_from_db()
    assert subscription.quantity == 2 == stripe_quantity(localstripe, subscription)
    assert not AuditEvent.objects.unscoped().filter(action="licences.quantity_changed").exists()


def test_seats_needing_3d_secure_apply_once_the_bank_said_yes(localstripe, contoso, subscription):
    rob, _sara = contoso
    localstripe.use_card(subscription.stripe_customer_id, AUTHENTICATION_CARD)
    with pytest.raises(PaymentError, match="authenticate") as refusal:
        change_seat_count(tenant=subscription.tenant, actor=rob, quantity=4)
    assert refusal.value.needs_authentication
    with pytest.raises(LicensingError, match="not through yet"):
        settle_seat_change(tenant=subscription.tenant, actor=rob)
    subscription.refresh_from_db()
    assert subscription.quantity == 2 == stripe_quantity(localstripe, subscription)

    localstripe.authenticate(refusal.value.client_secret)
    settle_seat_change(tenant=subscription.tenant, actor=rob)
    subscription.refresh_from_db()
    assert subscription.quantity == 4 == stripe_quantity(localstripe, subscription)
    assert AuditEvent.objects.unscoped().get(action="licences.quantity_changed").after == {
        "quantity": 4
    }


def test_seats_whose_3d_secure_failed_stay_as_they_were(localstripe, contoso, subscription):
    rob, _sara = contoso
    localstripe.use_card(subscription.stripe_customer_id, AUTHENTICATION_CARD)
    with pytest.raises(PaymentError) as refusal:
        change_seat_count(tenant=subscription.tenant, actor=rob, quantity=4)
    localstripe.authenticate(refusal.value.client_secret, success=False)
    settle_seat_change(tenant=subscription.tenant, actor=rob)
    subscription.refresh_from_db()
    assert subscription.quantity == 2 == stripe_quantity(localstripe, subscription)


def test_a_first_payment_needing_3d_secure_completes_after_authentication(localstripe, contoso):
    rob, _sara = contoso
    purchase, client_secret = start_purchase(buyer=rob, entry="admin")
    setup_intent = client_secret.split("_secret_")[0]
    assert localstripe.confirm_card(client_secret, AUTHENTICATION_CARD)["status"] == (
        "requires_action"
    )
    # The card form's own 3-D Secure step (localstripe's dialog, "Complete authentication").
    localstripe.request(
        "POST",
        f"/v1/setup_intents/{setup_intent}/confirm",
        {"key": "pk_test_quorum", "client_secret": client_secret},
    )
    submit = {
        "buyer": rob,
        "purchase_id": purchase.pk,
        "plan_key": "essentials",
        "confirmed_seats": 2,
        "setup_intent_id": setup_intent,
    }
    with pytest.raises(PaymentError, match="authenticate") as refusal:
        purchase_seats(**submit)
    assert Purchase.objects.unscoped().get().state == Purchase.State.REQUIRES_ACTION
    assert [s.status for s in localstripe.subscriptions()] == ["incomplete"]
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED

    localstripe.authenticate(refusal.value.client_secret)
    assert purchase_seats(**submit).state == Purchase.State.SUCCEEDED
    assert [s.status for s in localstripe.subscriptions()] == ["active"]
    assert Tenant.objects.get().state == Tenant.State.MANAGED
    assert Licence.objects.unscoped().count() == 2


def test_the_grace_period_of_a_failed_renewal_then_free(localstripe, contoso, subscription):
    rob, _sara = contoso
    failed_at = timezone.now()
    Subscription.objects.unscoped().filter(pk=subscription.pk).update(
        status=Subscription.Status.PAST_DUE, past_due_since=failed_at
    )
    with time_machine.travel(failed_at + timedelta(days=13, hours=23)):
        assert end_overdue_subscriptions() == 0
        subscription.refresh_from_db()
        assert subscription.grace_ends_at == failed_at + timedelta(days=14)
    assert Tenant.objects.get().state == Tenant.State.MANAGED

    with time_machine.travel(failed_at + timedelta(days=14, minutes=1)):
        assert end_overdue_subscriptions() == 1
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    assert [
        s.status
        for s in localstripe.client()
        .v1.subscriptions.list(
            params={"customer": subscription.stripe_customer_id, "status": "all"}
        )
        .data
    ] == ["canceled"]
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
    assert not Membership.objects.unscoped().filter(role=Membership.Role.ADMIN).exists()
    assert Licence.objects.unscoped().count() == 2  # kept, like every setting
    assert set(MeetingSettings.objects.values_list("licensed_cap", flat=True)) == {None}
    assert AuditEvent.objects.unscoped().filter(action="billing.grace_period_ended").count() == 1
    assert rob.membership.tenant.domain == "contoso.com"


def test_the_grace_period_is_a_setting(localstripe, contoso, subscription, settings):
    settings.PAST_DUE_GRACE_DAYS = 3
    failed_at = timezone.now()
    Subscription.objects.unscoped().filter(pk=subscription.pk).update(
        status=Subscription.Status.PAST_DUE, past_due_since=failed_at
    )
    with time_machine.travel(failed_at + timedelta(days=3, minutes=1)):
        assert end_overdue_subscriptions() == 1


def test_a_renewal_paid_in_time_keeps_the_subscription(localstripe, contoso, subscription):
    failed_at = timezone.now()
    Subscription.objects.unscoped().filter(pk=subscription.pk).update(
        status=Subscription.Status.ACTIVE, past_due_since=None
    )
    with time_machine.travel(failed_at + timedelta(days=30)):
        assert end_overdue_subscriptions() == 0
    assert Tenant.objects.get().state == Tenant.State.MANAGED
