import re
import threading

import pytest
from django.db import connection
from django.urls import reverse

from licensing.exceptions import LicensingError
from licensing.models import Licence, Subscription
from licensing.services.seats import assign_licence, change_seat_count, unassign_licence
from meetings.models import MeetingSettings
from tenancy.models import AuditEvent
from tenancy.services.membership import remove_member
from tests.factories import member
from tests.fixtures.purchases import buy, verified_claim
from tests.fixtures.two_factor import enrol_totp, recently_signed_in


@pytest.fixture
def managed(localstripe, db):
    """contoso.com after Rob bought 2 licences for Rob and Sara."""
    rob = member("rob@contoso.com", name="Rob Martin")
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    verified_claim(rob)
    buy(localstripe, rob)
    enrol_totp(rob)
    return rob, sara, Subscription.objects.unscoped().get()


def stripe_item(localstripe, subscription):
    details = (
        localstripe.client()
        .v1.subscriptions.retrieve(subscription.stripe_subscription_id)
        .to_dict()
    )
    return details["items"]["data"][0], details


def test_admin_buys_more_licences_and_stripe_follows(client, localstripe, managed):
    rob, _sara, subscription = managed
    recently_signed_in(client, rob)
    response = client.post(reverse("portal:licences"), {"quantity": "5"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.quantity == 5
    item, _ = stripe_item(localstripe, subscription)
    assert item["quantity"] == 5
    event = AuditEvent.objects.unscoped().get(action="licences.quantity_changed")
    assert (event.before, event.after, event.actor) == ({"quantity": 2}, {"quantity": 5}, rob)
    page = client.get(reverse("portal:licences")).content.decode()
    assert 'data-testid="free">3<' in page


@pytest.mark.parametrize("quantity", ["1", "0", "-3", "abc", "", "10000001", "2.5"])
def test_seat_count_below_assigned_or_invalid_is_refused(client, localstripe, managed, quantity):
    rob, _sara, subscription = managed
    recently_signed_in(client, rob)
    response = client.post(reverse("portal:licences"), {"quantity": quantity})
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.quantity == 2
    assert stripe_item(localstripe, subscription)[0]["quantity"] == 2
    assert not AuditEvent.objects.unscoped().filter(action="licences.quantity_changed").exists()
    if quantity == "1":
        assert "2 licences are assigned" in response.content.decode()


def test_assign_and_unassign_a_licence(localstripe, managed):
    rob, _sara, subscription = managed
    tom = member("tom@contoso.com")
    # No free licence when tom joined.
    assert not Licence.objects.unscoped().filter(user=tom).exists()
    with pytest.raises(LicensingError, match="All 2 licences are assigned"):
        assign_licence(tenant=subscription.tenant, actor=rob, user=tom)
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)  # tom waited for it
    assert Licence.objects.unscoped().filter(user=tom).exists()
    assert MeetingSettings.objects.get(user=tom).licensed_cap == 300

    unassign_licence(tenant=subscription.tenant, actor=rob, user=tom)
    assert not Licence.objects.unscoped().filter(user=tom).exists()
    assert MeetingSettings.objects.get(user=tom).licensed_cap is None
    assign_licence(tenant=subscription.tenant, actor=rob, user=tom)
    assert Licence.objects.unscoped().filter(user=tom).exists()
    actions = list(AuditEvent.objects.unscoped().values_list("action", flat=True))
    assert "licences.assigned" in actions
    assert "licences.unassigned" in actions


def test_a_licence_cannot_go_to_another_tenant(localstripe, managed):
    rob, _sara, subscription = managed
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)
    outsider = member("eve@fabrikam.com")
    with pytest.raises(LicensingError, match="not a member"):
        assign_licence(tenant=subscription.tenant, actor=rob, user=outsider)
    assert Licence.objects.unscoped().count() == 2


@pytest.mark.django_db(transaction=True)
def test_removing_a_seat_while_another_admin_assigns_it_keeps_quantity_above_assigned(
    localstripe,
):
    rob = member("rob@contoso.com")
    member("sara@contoso.com")
    verified_claim(rob)
    buy(localstripe, rob)
    subscription = Subscription.objects.unscoped().get()
    tenant = subscription.tenant
    change_seat_count(tenant=tenant, actor=rob, quantity=3)
    tom = member("tom@contoso.com")
    # A sign-up at a managed domain takes the free licence by default; free it for the race.
    unassign_licence(tenant=tenant, actor=rob, user=tom)
    outcomes = {}

    def run(name, function, **kwargs):
        try:
            function(tenant=tenant, actor=rob, **kwargs)
            outcomes[name] = "done"
        except LicensingError as error:
            outcomes[name] = error.message
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("remove", change_seat_count), kwargs={"quantity": 2}),
        threading.Thread(target=run, args=("assign", assign_licence), kwargs={"user": tom}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    subscription.refresh_from_db()
    assigned = Licence.objects.unscoped().filter(subscription=subscription).count()
    assert subscription.quantity >= assigned
    assert list(outcomes.values()).count("done") == 1
    assert (subscription.quantity, assigned) in {(2, 2), (3, 3)}
    assert stripe_item(localstripe, subscription)[0]["quantity"] == subscription.quantity


def test_plan_change_is_reflected_in_stripe(client, localstripe, managed):
    rob, _sara, subscription = managed
    recently_signed_in(client, rob)
    response = client.post(
        reverse("portal:subscription"), {"action": "change_plan", "plan": "premium"}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.plan == "premium"
    item, _ = stripe_item(localstripe, subscription)
    assert item["plan"]["id"] == "quorum-premium-eur-1250-month"
    assert item["quantity"] == 2


def test_unknown_plan_is_refused(client, localstripe, managed):
    rob, _sara, subscription = managed
    recently_signed_in(client, rob)
    response = client.post(
        reverse("portal:subscription"), {"action": "change_plan", "plan": "platinum"}
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.plan == "essentials"
    assert stripe_item(localstripe, subscription)[0]["plan"]["id"].startswith("quorum-essentials")


def test_cancel_at_period_end_and_undo(client, localstripe, managed):
    rob, _sara, subscription = managed
    recently_signed_in(client, rob)
    client.post(reverse("portal:subscription"), {"action": "cancel"})
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end
    assert stripe_item(localstripe, subscription)[1]["cancel_at_period_end"] is True
    assert subscription.tenant.state == "managed"
    page = client.get(reverse("portal:subscription")).content.decode()
    assert "Keep my subscription" in page

    client.post(reverse("portal:subscription"), {"action": "undo_cancel"})
    subscription.refresh_from_db()
    assert not subscription.cancel_at_period_end
    assert stripe_item(localstripe, subscription)[1]["cancel_at_period_end"] is False
    actions = set(AuditEvent.objects.unscoped().values_list("action", flat=True))
    assert {"subscription.cancelled", "subscription.cancellation_undone"} <= actions


def test_subscription_page_lists_stripe_invoices(client, localstripe, managed):
    rob, _sara, _subscription = managed
    recently_signed_in(client, rob)
    page = client.get(reverse("portal:subscription")).content.decode()
    assert "12.00 EUR" in page
    assert "<td>Paid</td>" in page


def test_dashboard_shows_the_numbers(client, localstripe, managed):
    rob, _sara, _subscription = managed
    recently_signed_in(client, rob)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="bought">2<' in page
    assert 'data-testid="assigned">2<' in page
    assert 'data-testid="members">2<' in page
    assert "Business Essentials" in page
    assert "Rob Martin upgraded contoso.com to Business Essentials" in page
    assert "tenant.upgraded" not in page
    assert "12.00 EUR" in page
    assert re.search(r"contoso\.com, confirmed on .+ by Rob Martin\.", page)


def test_the_dashboard_counts_follow_each_change_at_once(client, localstripe, managed):
    """The dashboard keeps the member count a minute (core/counts.py) and reads the assigned
    count off the subscription: a join, a removal, an assignment or an unassignment must show
    on the next view all the same."""
    rob, sara, subscription = managed
    recently_signed_in(client, rob)

    def figures():
        page = client.get(reverse("portal:dashboard")).content.decode()
        return {
            name: int(re.search(rf'data-testid="{name}">(\d+)<', page).group(1))
            for name in ("bought", "assigned", "free", "members")
        }

    assert figures() == {"bought": 2, "assigned": 2, "free": 0, "members": 2}
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)
    tom = member("tom@contoso.com")  # joins with the free licence
    assert figures() == {"bought": 3, "assigned": 3, "free": 0, "members": 3}
    unassign_licence(tenant=subscription.tenant, actor=rob, user=sara)
    assert figures() == {"bought": 3, "assigned": 2, "free": 1, "members": 3}
    remove_member(tenant=subscription.tenant, actor=rob, user=tom)
    assert figures() == {"bought": 3, "assigned": 1, "free": 2, "members": 2}


def test_a_member_is_refused_the_admin_centre(client, localstripe, managed):
    _rob, sara, _subscription = managed
    client.force_login(sara)
    for name in ("portal:dashboard", "portal:licences", "portal:subscription"):
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("portal:licences"), {"quantity": "9"}).status_code == 403
    assert Subscription.objects.unscoped().get().quantity == 2


def test_added_licences_the_bank_must_authenticate_apply_once_it_did(client, localstripe, managed):
    rob, _sara, subscription = managed
    localstripe.use_card(subscription.stripe_customer_id, "4000002760003184")
    recently_signed_in(client, rob)
    response = client.post(reverse("portal:licences"), {"quantity": "5"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Authenticate the payment with your bank" in html
    assert localstripe.url in response["Content-Security-Policy"]
    secret = re.search(r'data-payment-secret="([^"]+)"', html).group(1)
    subscription.refresh_from_db()
    assert subscription.quantity == 2

    localstripe.authenticate(secret)
    response = client.post(reverse("portal:licences"), {"action": "settle"}, follow=True)
    assert "The payment went through" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.quantity == 5 == stripe_item(localstripe, subscription)[0]["quantity"]


def test_a_declined_card_leaves_the_licences_and_says_why(client, localstripe, managed):
    rob, _sara, subscription = managed
    localstripe.use_card(subscription.stripe_customer_id, "4000000000000341")
    recently_signed_in(client, rob)
    response = client.post(reverse("portal:licences"), {"quantity": "5"})
    assert response.status_code == 400
    assert "Your card was declined" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.quantity == 2 == stripe_item(localstripe, subscription)[0]["quantity"]


def test_a_failed_renewal_shows_the_admin_what_to_do_and_how_long_is_left(
    client, localstripe, managed
):
    from datetime import timedelta

    from django.utils import timezone

    rob, _sara, subscription = managed
    recently_signed_in(client, rob)
    assert 'data-testid="past-due"' not in client.get(reverse("portal:dashboard")).content.decode()
    Subscription.objects.unscoped().filter(pk=subscription.pk).update(
        status=Subscription.Status.PAST_DUE,
        past_due_since=timezone.now() - timedelta(days=4, hours=1),
        unpaid_invoice_url="https://invoice.stripe.com/i/quorum",
    )
    for page in ("portal:dashboard", "portal:licences", "portal:subscription"):
        html = client.get(reverse(page)).content.decode()
        assert 'data-testid="past-due"' in html
        assert "(9 days left)" in html
        assert "contoso.com falls back to the free plan" in html
        assert 'href="https://invoice.stripe.com/i/quorum"' in html
