import hashlib
import hmac
import json
import time

import pytest
from django.urls import reverse

from licensing.models import Licence, StripeEvent, Subscription
from tenancy.models import AuditEvent, Membership, Tenant
from tests.fixtures.stripe import WEBHOOK_SECRET

from .conftest import buy

URL = "/stripe/webhook/"


def signature(payload, secret=WEBHOOK_SECRET, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event(event_id, event_type, obj, created):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created,
            "data": {"object": obj},
        }
    )


def subscription_object(subscription, *, status="active", quantity=2, cancel=False):
    return {
        "id": subscription.stripe_subscription_id,
        "object": "subscription",
        "status": status,
        "cancel_at_period_end": cancel,
        "current_period_end": 1_900_000_000,
        "items": {"data": [{"id": subscription.stripe_item_id, "quantity": quantity}]},
    }


def post(client, payload, header=None):
    headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    return client.post(URL, payload, content_type="application/json", **headers)


@pytest.fixture
def subscription(localstripe, contoso):
    rob, _sara = contoso
    buy(localstripe, rob)
    return Subscription.objects.unscoped().get()


def test_the_webhook_url_is_the_documented_one():
    assert reverse("licensing:stripe_webhook") == URL


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "", "t=1,v1=deadbeef", "garbage"])
def test_unsigned_or_badly_signed_events_are_refused(client, subscription, header):
    payload = event("evt_1", "customer.subscription.deleted", subscription_object(subscription), 2)
    response = post(client, payload, header)
    assert response.status_code == 400
    assert "signature" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_an_event_signed_with_another_secret_is_refused(client, subscription):
    payload = event("evt_1", "customer.subscription.deleted", subscription_object(subscription), 2)
    response = post(client, payload, signature(payload, secret="whsec_attacker"))
    assert response.status_code == 400
    assert Tenant.objects.get().state == Tenant.State.MANAGED


@pytest.mark.django_db
def test_malformed_payload_is_refused(client, subscription):
    payload = "{not json"
    assert post(client, payload, signature(payload)).status_code == 400


@pytest.mark.django_db
def test_an_old_signature_is_refused_as_a_replay(client, subscription):
    payload = event("evt_1", "customer.subscription.deleted", subscription_object(subscription), 2)
    response = post(client, payload, signature(payload, timestamp=int(time.time()) - 3600))
    assert response.status_code == 400
    assert Tenant.objects.get().state == Tenant.State.MANAGED


@pytest.mark.django_db
def test_quantity_update_is_applied_once_even_when_delivered_twice(client, subscription):
    now = int(time.time())
    obj = subscription_object(subscription, quantity=5)
    payload = event("evt_q", "customer.subscription.updated", obj, now)
    for _ in range(2):
        assert post(client, payload, signature(payload)).status_code == 200
    subscription.refresh_from_db()
    assert subscription.quantity == 5
    assert (
        AuditEvent.objects.unscoped().filter(action="billing.customer.subscription.updated").count()
        == 1
    )
    assert StripeEvent.objects.filter(stripe_event_id="evt_q").count() == 1


@pytest.mark.django_db
def test_an_older_event_delivered_late_does_not_undo_a_newer_one(client, subscription):
    now = int(time.time())
    newer = event(
        "evt_new",
        "customer.subscription.updated",
        subscription_object(subscription, quantity=5),
        now,
    )
    older = event(
        "evt_old",
        "customer.subscription.updated",
        subscription_object(subscription, quantity=3),
        now - 60,
    )
    post(client, newer, signature(newer))
    assert post(client, older, signature(older)).status_code == 200
    subscription.refresh_from_db()
    assert subscription.quantity == 5


@pytest.mark.django_db
def test_payment_failed_then_paid(client, subscription):
    now = int(time.time())
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "subscription": subscription.stripe_subscription_id,
    }
    failed = event("evt_f", "invoice.payment_failed", invoice, now)
    post(client, failed, signature(failed))
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    assert Tenant.objects.get().state == Tenant.State.MANAGED
    paid = event("evt_p", "invoice.paid", invoice, now + 1)
    post(client, paid, signature(paid))
    subscription.refresh_from_db()
    assert subscription.status == "active"


@pytest.mark.django_db
def test_subscription_deleted_falls_back_to_free_and_keeps_the_data(client, subscription):
    payload = event(
        "evt_d",
        "customer.subscription.deleted",
        subscription_object(subscription, status="canceled"),
        int(time.time()),
    )
    assert post(client, payload, signature(payload)).status_code == 200
    tenant = Tenant.objects.get()
    assert tenant.state == Tenant.State.UNMANAGED
    assert not Membership.objects.unscoped().filter(role=Membership.Role.ADMIN).exists()
    assert Membership.objects.unscoped().count() == 2
    assert Licence.objects.count() == 2
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    from meetings.models import MeetingSettings

    assert set(MeetingSettings.objects.values_list("licensed_cap", flat=True)) == {None}


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_a_real_cancellation(live_server, localstripe, contoso):
    rob, _sara = contoso
    buy(localstripe, rob)
    localstripe.register_webhook(f"{live_server.url}/stripe/webhook/")
    subscription = Subscription.objects.unscoped().get()
    localstripe.client().v1.subscriptions.cancel(subscription.stripe_subscription_id)
    deadline = time.monotonic() + 15
    while Subscription.objects.unscoped().get().status != "canceled":
        assert time.monotonic() < deadline, "localstripe's event never arrived"
        time.sleep(0.2)
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
