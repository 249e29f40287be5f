"""Seats freed or added go to the members waiting for a licence, the longest waiting first, in
the transaction of the change that freed or added them (issue 14, item 12)."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from licensing.exceptions import LicensingError, PaymentError
from licensing.models import Licence, LicenceWait, Subscription
from licensing.selectors import licence_counts, waiting_member_count
from licensing.services.seats import (
    assign_licence,
    change_seat_count,
    give_free_seats_to_waiting_members,
    settle_seat_change,
    unassign_licence,
)
from meetings.models import MeetingSettings
from tenancy.models import AuditEvent, Tenant
from tenancy.services.membership import decide_join_request, remove_member, set_signup_mode
from tests.factories import member
from tests.fixtures import stripe_examples as examples
from tests.fixtures.purchases import AUTHENTICATION_CARD, buy
from tests.fixtures.stripe_examples import signature
from tests.fixtures.two_factor import enrol_totp, recently_signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(localstripe, contoso):
    """contoso.com bought 2 licences, for Rob and Sara: none is free."""
    rob, _sara = contoso
    buy(localstripe, rob)
    return Subscription.objects.unscoped().get()


def joins(address, minutes_from_now):
    """A sign-up at contoso.com at a given time, so that who waited longest is clear."""
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes_from_now), tick=False):
        return member(address)


def licensed(user):
    return Licence.objects.unscoped().filter(user=user).exists()


def waiting(user):
    return LicenceWait.objects.unscoped().filter(user=user).exists()


def assert_within_seats(subscription):
    subscription.refresh_from_db()
    held = Licence.objects.unscoped().filter(subscription=subscription).count()
    assert subscription.assigned == held <= subscription.quantity


def test_a_member_waiting_for_a_licence_gets_a_seat_the_admin_adds(contoso, subscription):
    """Fails on the old code: Tom, who joined when no licence was free, stayed without one
    after the admin bought a third licence (it stayed free)."""
    rob, _sara = contoso
    tom = member("tom@contoso.com")
    assert not licensed(tom)

    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)

    assert licensed(tom)
    assert MeetingSettings.objects.get(user=tom).licensed_cap == 300
    subscription.refresh_from_db()
    assert licence_counts(subscription) == {"bought": 3, "assigned": 3, "free": 0}


def test_added_seats_go_to_the_longest_waiting_and_no_further(contoso, subscription):
    rob, _sara = contoso
    ann, bob, cid = (joins(f"{name}@contoso.com", i) for i, name in enumerate("abc", 1))
    assert [waiting(person) for person in (ann, bob, cid)] == [True, True, True]
    assert waiting_member_count(subscription.tenant) == 3

    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=4)

    assert [licensed(person) for person in (ann, bob, cid)] == [True, True, False]
    assert [waiting(person) for person in (ann, bob, cid)] == [False, False, True]
    assert waiting_member_count(subscription.tenant) == 1
    assert_within_seats(subscription)
    given = AuditEvent.objects.unscoped().filter(
        action="licences.assigned", after__has_key="waited_since"
    )
    assert sorted((event.target, event.actor) for event in given) == [
        ("a@contoso.com", rob),
        ("b@contoso.com", rob),
    ]
    assert AuditEvent.objects.unscoped().filter(action="licences.waiting").count() == 3


def test_the_order_is_when_they_began_waiting(contoso, subscription):
    rob, _sara = contoso
    ann, bob = joins("ann@contoso.com", 1), joins("bob@contoso.com", 2)
    # Ann began waiting again later (as a reactivation does): Bob has waited longer.
    LicenceWait.objects.unscoped().filter(user=ann).update(
        since=timezone.now() + timedelta(minutes=3)
    )

    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)

    assert (licensed(ann), licensed(bob)) == (False, True)


def test_a_newcomer_does_not_overtake_those_already_waiting(contoso, subscription):
    """A seat found free when someone joins still goes to whoever waited before them (a seat
    freed by a path that left it free, such as an older version of Quorum)."""
    _rob, sara = contoso
    ann = joins("ann@contoso.com", 1)
    Licence.objects.unscoped().filter(user=sara).delete()  # freed behind the services' back
    Subscription.objects.unscoped().filter(pk=subscription.pk).update(assigned=1)

    tom = joins("tom@contoso.com", 2)

    assert (licensed(ann), licensed(tom)) == (True, False)
    assert waiting(tom)
    assert_within_seats(subscription)


def test_an_unassigned_licence_goes_to_the_longest_waiting_not_back(contoso, subscription):
    rob, sara = contoso
    ann, bob = joins("ann@contoso.com", 1), joins("bob@contoso.com", 2)

    unassign_licence(tenant=subscription.tenant, actor=rob, user=sara)

    assert (licensed(sara), licensed(ann), licensed(bob)) == (False, True, False)
    assert not waiting(sara)  # the admin took it back: she does not queue for another
    assert MeetingSettings.objects.get(user=sara).licensed_cap is None
    assert_within_seats(subscription)
    actions = list(
        AuditEvent.objects.unscoped()
        .filter(action__startswith="licences.")
        .order_by("pk")
        .values_list("action", "target")
    )
    assert actions[-2:] == [
        ("licences.unassigned", "sara@contoso.com"),
        ("licences.assigned", "ann@contoso.com"),
    ]


def test_an_admin_may_still_give_a_licence_to_someone_out_of_turn(contoso, subscription):
    rob, sara = contoso
    ann, bob = joins("ann@contoso.com", 1), joins("bob@contoso.com", 2)
    unassign_licence(tenant=subscription.tenant, actor=rob, user=sara)  # Ann gets it
    with pytest.raises(LicensingError, match="All 2 licences are assigned"):
        assign_licence(tenant=subscription.tenant, actor=rob, user=bob)
    unassign_licence(tenant=subscription.tenant, actor=rob, user=ann)  # Bob gets it

    assert (licensed(ann), licensed(bob)) == (False, True)
    assert not waiting(bob)
    assert_within_seats(subscription)


def test_removing_a_member_on_the_users_page_gives_their_seat_to_the_longest_waiting(
    client, contoso, subscription
):
    rob, sara = contoso
    enrol_totp(rob)
    ann, bob = joins("ann@contoso.com", 1), joins("bob@contoso.com", 2)
    recently_signed_in(client, rob)

    response = client.post(reverse("portal:user_action", args=[sara.pk, "remove"]))

    assert response.status_code == 302
    assert (licensed(sara), licensed(ann), licensed(bob)) == (False, True, False)
    assert_within_seats(subscription)
    event = AuditEvent.objects.unscoped().get(action="licences.assigned", target=ann.email)
    assert event.actor == rob
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="waiting-for-licence">1<' in page


def test_a_waiting_member_who_is_removed_stops_waiting(contoso, subscription):
    rob, _sara = contoso
    ann, bob = joins("ann@contoso.com", 1), joins("bob@contoso.com", 2)

    remove_member(tenant=subscription.tenant, actor=rob, user=ann)
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)

    assert (licensed(ann), licensed(bob)) == (False, True)
    assert not waiting(ann)


def test_a_sign_up_waits_for_a_licence_once_an_admin_lets_them_in(contoso, subscription):
    rob, _sara = contoso
    set_signup_mode(tenant=subscription.tenant, actor=rob, mode=Tenant.SignupMode.APPROVAL)
    tom = joins("tom@contoso.com", 1)
    assert not waiting(tom)  # not a member yet: waiting for the admin, not for a licence

    decide_join_request(tenant=subscription.tenant, actor=rob, user=tom, approve=True)
    assert waiting(tom)
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)

    assert licensed(tom)


def test_seats_paid_after_the_bank_authenticated_go_to_the_waiting(
    localstripe, contoso, subscription
):
    rob, _sara = contoso
    ann, bob = joins("ann@contoso.com", 1), joins("bob@contoso.com", 2)
    localstripe.use_card(subscription.stripe_customer_id, AUTHENTICATION_CARD)
    with pytest.raises(PaymentError) as refusal:
        change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)
    assert (licensed(ann), licensed(bob)) == (False, False)  # not paid yet

    localstripe.authenticate(refusal.value.client_secret)
    settle_seat_change(tenant=subscription.tenant, actor=rob)

    assert (licensed(ann), licensed(bob)) == (True, False)
    assert_within_seats(subscription)


def test_more_seats_in_a_stripe_event_go_to_the_waiting(client, contoso, subscription):
    """Seats added in Stripe's dashboard reach Quorum as `customer.subscription.updated`."""
    ann, bob, cid = (joins(f"{name}@contoso.com", i) for i, name in enumerate("abc", 1))
    stripe_subscription = examples.subscription(
        id=subscription.stripe_subscription_id,
        item_id=subscription.stripe_item_id,
        status="active",
        quantity=4,
        cancel_at_period_end=False,
    )
    payload = examples.event(
        "customer.subscription.updated",
        stripe_subscription,
        id="evt_more_seats",
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
    assert [licensed(person) for person in (ann, bob, cid)] == [True, True, False]
    assert_within_seats(subscription)
    given = AuditEvent.objects.unscoped().filter(action="licences.assigned", actor=None)
    assert sorted(given.values_list("target", flat=True)) == ["a@contoso.com", "b@contoso.com"]


def test_giving_is_part_of_the_change_that_freed_the_seat(contoso, subscription):
    """A change that fails after the seat went to someone undoes that too: one transaction."""
    rob, sara = contoso
    ann = joins("ann@contoso.com", 1)

    with pytest.raises(RuntimeError), transaction.atomic():
        unassign_licence(tenant=subscription.tenant, actor=rob, user=sara)
        assert licensed(ann)
        raise RuntimeError("the change failed after freeing the seat")

    assert (licensed(sara), licensed(ann)) == (True, False)
    assert waiting(ann)
    assert_within_seats(subscription)


def test_with_nobody_waiting_nothing_is_given(contoso, subscription):
    rob, _sara = contoso
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)

    assert give_free_seats_to_waiting_members(tenant=subscription.tenant, actor=rob) == []
    subscription.refresh_from_db()
    assert licence_counts(subscription) == {"bought": 3, "assigned": 2, "free": 1}


def test_the_seat_count_mends_a_kept_number_that_went_wrong(contoso, subscription):
    """The subscription keeps how many licences are assigned; a licence deleted without its
    service (a user deleted in Django's admin) is counted again at the next seat change."""
    rob, sara = contoso
    sara.delete()
    subscription.refresh_from_db()
    assert subscription.assigned == 2  # not yet known

    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=1)

    subscription.refresh_from_db()
    assert (subscription.quantity, subscription.assigned) == (1, 1)
