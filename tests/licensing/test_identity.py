"""The purchase makes its buyer an admin of a managed tenant, and the end of the subscription
makes them a member of a free one again, by bulk updates: the next request sees each, the kept
identity (tenancy.identity) on."""

import time

import pytest

from licensing.models import Subscription
from tenancy.models import Membership, Tenant
from tests.fixtures import stripe_examples as examples
from tests.fixtures.identity import next_request, signed_in
from tests.fixtures.purchases import buy
from tests.fixtures.stripe_examples import signature

pytestmark = pytest.mark.usefixtures("identity_cache")


def test_the_purchase_and_the_end_of_the_subscription_are_seen_on_the_next_request(
    client, localstripe, contoso
):
    rob, _sara = contoso
    browser = signed_in(rob)
    before = next_request(browser)
    assert (before.membership.role, before.tenant.state) == ("member", Tenant.State.UNMANAGED)

    buy(localstripe, rob)
    after = next_request(browser)
    assert (after.membership.role, after.tenant.state) == (
        Membership.Role.ADMIN,
        Tenant.State.MANAGED,
    )

    subscription = Subscription.objects.unscoped().get()
    ended = examples.subscription(
        id=subscription.stripe_subscription_id,
        item_id=subscription.stripe_item_id,
        status="canceled",
        quantity=2,
        cancel_at_period_end=False,
    )
    payload = examples.event(
        "customer.subscription.deleted",
        ended,
        id="evt_ended",
        created=int(time.time()),
        api_version="2026-10-28.endive",
    )
    response = client.post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature(payload),
    )
    assert response.status_code == 200
    fallen = next_request(browser)
    assert (fallen.membership.role, fallen.tenant.state) == (
        Membership.Role.MEMBER,
        Tenant.State.UNMANAGED,
    )
