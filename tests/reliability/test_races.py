"""Races with real threads on PostgreSQL: each ends in exactly one consistent outcome."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from domains.models import DomainClaim
from domains.services import start_claim
from licensing.exceptions import LicensingError
from licensing.models import Licence, LicenceWait, Purchase, Subscription
from licensing.services.purchase import purchase_seats, start_purchase
from licensing.services.seats import assign_licence, change_seat_count, unassign_licence
from meetings.exceptions import MeetingFullError
from meetings.models import Participant
from meetings.services import join_meeting, schedule_meeting
from tenancy.models import Membership
from tests.factories import member
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.purchases import buy, verified_claim
from tests.fixtures.scim import free_seats

pytestmark = pytest.mark.django_db(transaction=True)


def test_50_members_claim_one_domain_at_once(dns, record_figure):
    members = [member(f"m{i:02d}@contoso.com") for i in range(50)]
    started = time.monotonic()
    results = run_at_once([(start_claim, {"user": user}) for user in members])
    elapsed = time.monotonic() - started
    claims = DomainClaim.objects.unscoped().all()
    assert not [r for r in results if isinstance(r, Exception)]
    assert claims.count() == 50
    assert claims.values("claimant").distinct().count() == 50
    assert claims.values("token").distinct().count() == 50
    record_figure(claims=50, distinct_tokens=50, errors=0, seconds=round(elapsed, 2))


def test_20_purchase_submits_by_two_claimants(localstripe, record_figure):
    rob, sara = member("rob@contoso.com"), member("sara@contoso.com")
    submits = []
    for buyer in (rob, sara):
        verified_claim(buyer)
        purchase, secret = start_purchase(buyer=buyer, entry="admin")
        localstripe.confirm_card(secret, "4242424242424242")
        submits.append(
            {
                "buyer": buyer,
                "purchase_id": purchase.pk,
                "plan_key": "essentials",
                "confirmed_seats": 2,
                "setup_intent_id": secret.split("_secret_")[0],
            }
        )
    started = time.monotonic()
    results = run_at_once([(purchase_seats, submits[i % 2]) for i in range(20)])
    elapsed = time.monotonic() - started
    succeeded = [r for r in results if isinstance(r, Purchase)]
    refused = [r for r in results if isinstance(r, LicensingError)]
    assert len(succeeded) + len(refused) == 20
    assert len({p.buyer_id for p in succeeded}) == 1
    assert [s.status for s in localstripe.subscriptions()] == ["active"]
    assert Subscription.objects.unscoped().count() == 1
    assert Membership.objects.unscoped().filter(role="admin").count() == 1
    assert Licence.objects.unscoped().count() == 2
    record_figure(
        submits=20,
        succeeded_same_purchase=len(succeeded),
        refused=len(refused),
        stripe_subscriptions=1,
        admins=1,
        seconds=round(elapsed, 2),
    )


def test_100_joins_of_a_10_person_meeting(record_figure):
    organiser = member("rob@contoso.com")
    # A free organiser: the cap of 10, the organiser included, is what the race must respect.
    meeting = schedule_meeting(
        organiser=organiser,
        title="Town hall",
        starts_at=timezone.now() + timedelta(hours=1),
        duration_minutes=60,
        lobby_bypass="everyone",
        anonymous_join_allowed=True,
        recording_allowed=False,
    )
    joins = [(join_meeting, {"meeting": meeting, "user": organiser})] + [
        (join_meeting, {"meeting": meeting, "display_name": f"Guest {i}"}) for i in range(99)
    ]
    started = time.monotonic()
    results = run_at_once(joins)
    elapsed = time.monotonic() - started
    full = [r for r in results if isinstance(r, MeetingFullError)]
    present = Participant.objects.unscoped().filter(meeting=meeting, left_at__isnull=True).count()
    assert present == 10
    assert len(full) == 90
    assert not [r for r in results if isinstance(r, Exception) and r not in full]
    record_figure(joins=100, admitted=present, refused_full=len(full), seconds=round(elapsed, 2))


def test_seats_removed_while_assigned_never_go_below_assigned(localstripe, record_figure):
    rob = member("rob@contoso.com")
    member("sara@contoso.com")
    verified_claim(rob)
    buy(localstripe, rob)
    tenant = rob.membership.tenant
    change_seat_count(tenant=tenant, actor=rob, quantity=12)
    newcomers = [member(f"n{i}@contoso.com") for i in range(10)]
    for person in newcomers:  # they took the free seats when they joined: free them again
        unassign_licence(tenant=tenant, actor=rob, user=person)
    calls = [(assign_licence, {"tenant": tenant, "actor": rob, "user": p}) for p in newcomers]
    calls += [
        (change_seat_count, {"tenant": tenant, "actor": rob, "quantity": q}) for q in range(2, 12)
    ]
    results = run_at_once(calls)
    subscription = Subscription.objects.unscoped().get()
    assigned = Licence.objects.unscoped().filter(subscription=subscription).count()
    stripe_quantity = (
        localstripe.client()
        .v1.subscriptions.retrieve(subscription.stripe_subscription_id)
        .to_dict()["items"]["data"][0]["quantity"]
    )
    assert subscription.quantity >= assigned
    assert stripe_quantity == subscription.quantity
    assert not [
        r for r in results if isinstance(r, Exception) and not isinstance(r, LicensingError)
    ]
    record_figure(
        assign_calls=10,
        seat_changes=10,
        final_quantity=subscription.quantity,
        assigned=assigned,
        stripe_quantity=stripe_quantity,
    )


def test_seats_freed_and_added_at_once_go_once_each_to_the_longest_waiting(
    localstripe, record_figure
):
    """Fails on the old code: nobody waiting got a seat. 5 unassignments, 3 removals, 2 seats
    added and 4 sign-ups race; the 10 seats freed or added go to the 10 members who waited
    longest, each once, and the seats are never exceeded."""
    from tenancy.services.membership import remove_member

    rob = member("rob@contoso.com")
    verified_claim(rob)
    buy(localstripe, rob)
    tenant = rob.membership.tenant
    change_seat_count(tenant=tenant, actor=rob, quantity=12)
    holders = [member(f"h{i:02d}@contoso.com") for i in range(11)]
    waiting = [member(f"w{i:02d}@contoso.com") for i in range(12)]
    calls = [
        (unassign_licence, {"tenant": tenant, "actor": rob, "user": person})
        for person in holders[:5]
    ]
    calls += [
        (remove_member, {"tenant": tenant, "actor": rob, "user": person}) for person in holders[5:8]
    ]
    calls += [(change_seat_count, {"tenant": tenant, "actor": rob, "quantity": 14})]
    calls += [(member, {"email": f"late{i}@contoso.com"}) for i in range(4)]
    started = time.monotonic()
    results = run_at_once(calls)
    elapsed = time.monotonic() - started

    assert not [r for r in results if isinstance(r, Exception)]
    subscription = Subscription.objects.unscoped().get()
    held = Licence.objects.unscoped().filter(subscription=subscription)
    assert subscription.quantity == 14
    assert subscription.assigned == held.count() == 14
    assert held.values("user").distinct().count() == 14
    licensed = set(held.values_list("user__email", flat=True))
    first_ten = {person.email for person in waiting[:10]}
    assert first_ten <= licensed
    assert not licensed & {f"late{i}@contoso.com" for i in range(4)}
    assert LicenceWait.objects.unscoped().count() == 2 + 4
    record_figure(
        freed=8,
        added=2,
        waiting=12,
        newcomers=4,
        given=len(first_ten & licensed),
        quantity=subscription.quantity,
        assigned=held.count(),
        seconds=round(elapsed, 2),
    )


def test_new_accounts_provisioned_at_once_take_the_free_seats_and_the_rest_wait(
    localstripe, record_figure
):
    """A new account's seat is counted last, by an UPDATE that takes it only while one is free
    and nobody waits, with no lock taken before: 12 people provisioned at once for 5 free seats.
    Exactly 5 get a licence, the 7 others wait in the queue, and the count matches the licences."""
    from provisioning.services.tokens import create_token
    from provisioning.services.users import Profile, provision_user

    rob = member("rob@contoso.com")
    verified_claim(rob)
    buy(localstripe, rob)
    free_seats(rob, 5)
    tenant = Subscription.objects.unscoped().get().tenant  # managed now
    token, _secret = create_token(tenant=tenant, actor=rob, name="Entra ID")
    calls = [
        (provision_user, {"token": token, "profile": Profile(f"p{i:02d}@contoso.com", f"P {i}")})
        for i in range(12)
    ]
    started = time.monotonic()
    results = run_at_once(calls)
    elapsed = time.monotonic() - started

    assert not [r for r in results if isinstance(r, Exception)]
    subscription = Subscription.objects.unscoped().get()
    provisioned = {f"p{i:02d}@contoso.com" for i in range(12)}
    licensed = set(
        Licence.objects.unscoped()
        .filter(user__email__in=provisioned)
        .values_list("user__email", flat=True)
    )
    waiting = set(
        LicenceWait.objects.unscoped()
        .filter(user__email__in=provisioned)
        .values_list("user__email", flat=True)
    )
    assert len(licensed) == 5
    assert waiting == provisioned - licensed
    held = Licence.objects.unscoped().filter(subscription=subscription).count()
    assert subscription.assigned == held == subscription.quantity
    record_figure(
        provisioned=12,
        free_seats=5,
        licensed=len(licensed),
        waiting=len(waiting),
        seconds=round(elapsed, 2),
    )


@pytest.mark.parametrize("action", ["demote", "remove"])
def test_two_admins_demoting_or_removing_each_other_at_once(localstripe, action, record_figure):
    """Locks are taken in one order: both get an answer (no deadlock, no 500) and one admin
    always remains."""
    from tenancy.exceptions import TenancyError
    from tenancy.services.membership import remove_member, set_member_role
    from tests.fixtures.purchases import managed_tenant

    rob, [sara], subscription = managed_tenant(localstripe, "contoso.com")
    tenant = subscription.tenant
    set_member_role(tenant=tenant, actor=rob, user=sara, role=Membership.Role.ADMIN)
    outcomes = []
    for _round in range(5):
        if action == "demote":
            calls = [
                (set_member_role, {"tenant": tenant, "actor": a, "user": b, "role": "member"})
                for a, b in ((rob, sara), (sara, rob))
            ]
        else:
            calls = [
                (remove_member, {"tenant": tenant, "actor": a, "user": b})
                for a, b in ((rob, sara), (sara, rob))
            ]
        results = run_at_once(calls)
        refused = [r for r in results if isinstance(r, TenancyError)]
        assert not [r for r in results if isinstance(r, Exception) and r not in refused], results
        assert len(refused) == 1
        admins = Membership.objects.unscoped().filter(tenant=tenant, role="admin")
        assert admins.count() == 1
        outcomes.append(str(refused[0].message))
        # Restore two admins for the next round.
        survivor = admins.get().user
        other = sara if survivor == rob else rob
        if action == "remove":
            from tenancy.services.membership import invite_member

            invite_member(tenant=tenant, actor=survivor, email=other.email, name="", base_url="/")
        set_member_role(tenant=tenant, actor=survivor, user=other, role=Membership.Role.ADMIN)
    record_figure(rounds=5, deadlocks=0, errors=0, one_admin_left=True)
