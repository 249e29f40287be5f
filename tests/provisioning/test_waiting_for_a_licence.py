"""People an identity provider provisions when no seat is free wait for a licence; seats its
deactivations free go to whoever waited longest, in the same transaction (issue 14, item 12)."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from licensing.models import Licence, LicenceWait, Subscription
from tenancy.models import AuditEvent, User
from tests.fixtures.scim import free_seats, new_user


def provision_at(scim, address, minutes_from_now):
    """POST one person, at a given time, so that who waited longest is clear."""
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes_from_now), tick=False):
        response = scim.post("/Users", new_user(address))
    assert response.status_code == 201, response.content
    return response.json()["id"]


def licensed(address):
    return Licence.objects.unscoped().filter(user__email=address).exists()


def waiting(address):
    return LicenceWait.objects.unscoped().filter(user__email=address).exists()


def assert_within_seats():
    subscription = Subscription.objects.unscoped().get()
    held = Licence.objects.unscoped().filter(subscription=subscription).count()
    assert subscription.assigned == held <= subscription.quantity


def test_provisioned_without_a_free_seat_they_wait_and_get_the_next_added(contoso, entra):
    """Fails on the old code: the person provisioned "waiting for a licence" stayed without
    one after the admin bought more."""
    rob, _people, _subscription = contoso
    _token, scim = entra
    provision_at(scim, "ann@contoso.com", 1)
    provision_at(scim, "bob@contoso.com", 2)
    assert (waiting("ann@contoso.com"), waiting("bob@contoso.com")) == (True, True)
    event = AuditEvent.objects.unscoped().get(action="licences.waiting", target="ann@contoso.com")
    assert (event.actor, event.actor_label) == (None, "Entra ID")

    free_seats(rob, 1)

    assert (licensed("ann@contoso.com"), licensed("bob@contoso.com")) == (True, False)
    assert_within_seats()


def test_a_deactivated_person_s_seat_goes_to_the_longest_waiting(contoso, entra):
    rob, _people, _subscription = contoso
    free_seats(rob, 1)
    _token, scim = entra
    ann = provision_at(scim, "ann@contoso.com", 1)  # takes the free seat
    provision_at(scim, "bob@contoso.com", 2)
    provision_at(scim, "cid@contoso.com", 3)

    response = scim.patch(f"/Users/{ann}", [{"op": "replace", "path": "active", "value": False}])

    assert response.status_code == 200
    assert [licensed(f"{name}@contoso.com") for name in ("ann", "bob", "cid")] == [
        False,
        True,
        False,
    ]
    assert not waiting("ann@contoso.com")  # deactivated people do not wait
    assert_within_seats()
    given = AuditEvent.objects.unscoped().get(action="licences.assigned", target="bob@contoso.com")
    assert (given.actor_label, "waited_since" in given.after) == ("Entra ID", True)


def test_a_deleted_person_s_seat_goes_to_the_longest_waiting(contoso, entra):
    rob, _people, _subscription = contoso
    free_seats(rob, 1)
    _token, scim = entra
    ann = provision_at(scim, "ann@contoso.com", 1)
    provision_at(scim, "bob@contoso.com", 2)

    assert scim.delete(f"/Users/{ann}").status_code == 204

    assert (licensed("ann@contoso.com"), licensed("bob@contoso.com")) == (False, True)
    assert_within_seats()


def test_a_reactivated_person_waits_behind_those_already_waiting(contoso, entra):
    rob, _people, _subscription = contoso
    _token, scim = entra
    ann = provision_at(scim, "ann@contoso.com", 1)
    provision_at(scim, "bob@contoso.com", 2)
    with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=False):
        scim.patch(f"/Users/{ann}", [{"op": "replace", "path": "active", "value": False}])
        scim.patch(f"/Users/{ann}", [{"op": "replace", "path": "active", "value": True}])
    assert waiting("ann@contoso.com")  # again, since the reactivation

    free_seats(rob, 1)

    assert (licensed("ann@contoso.com"), licensed("bob@contoso.com")) == (False, True)


def test_created_inactive_they_do_not_wait(contoso, entra):
    rob, _people, _subscription = contoso
    _token, scim = entra
    response = scim.post("/Users", new_user("ann@contoso.com", active=False))
    assert response.status_code == 201
    provision_at(scim, "bob@contoso.com", 1)

    free_seats(rob, 2)

    assert not User.objects.get(email="ann@contoso.com").is_active
    assert (licensed("ann@contoso.com"), licensed("bob@contoso.com")) == (False, True)
    assert not waiting("ann@contoso.com")
    assert_within_seats()
