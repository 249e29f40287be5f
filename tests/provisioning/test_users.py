"""The product rules of provisioning: verified members at the verified domains, licences when a
seat is free, linking never duplicating, deactivation and reactivation, audit by token name."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from licensing.models import Licence
from meetings.models import Meeting, MeetingSettings
from meetings.services import schedule_meeting, update_personal_settings
from provisioning.models import ProvisionedUser
from tenancy.models import AuditEvent, Membership, TenantDomain, User
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.scim import ENTERPRISE, error_of, free_seats, new_user
from tests.fixtures.two_factor import recently_signed_in


def user(address):
    return User.objects.get(email=address)


def licensed(address):
    return Licence.objects.unscoped().filter(user__email=address).exists()


def test_a_provisioned_person_is_a_verified_member_with_a_licence_when_one_is_free(contoso, entra):
    rob, _people, _subscription = contoso
    free_seats(rob, 1)
    _token, scim = entra

    response = scim.post(
        "/Users", new_user("ann@contoso.com", name={"givenName": "Ann", "familyName": "Lee"})
    )

    assert response.status_code == 201
    assert response["Content-Type"] == "application/scim+json"
    ann = user("ann@contoso.com")
    assert ann.name == "Ann Lee"
    assert Membership.objects.unscoped().get(user=ann).tenant.domain == "contoso.com"
    assert EmailAddress.objects.get(user=ann).verified
    assert not ann.has_usable_password()  # they choose their own through a reset link
    assert licensed("ann@contoso.com")
    events = AuditEvent.objects.unscoped().filter(target="ann@contoso.com")
    assert {(event.action, event.actor_label, event.actor) for event in events} == {
        ("provisioning.user_provisioned", "Entra ID", None),
        ("licences.assigned", "Entra ID", None),
    }


def test_without_a_free_seat_they_wait_for_a_licence_and_the_dashboard_counts_them(contoso, entra):
    rob, _people, _subscription = contoso
    _token, scim = entra

    assert scim.post("/Users", new_user("ann@contoso.com")).status_code == 201

    assert not licensed("ann@contoso.com")
    admin = Client()
    recently_signed_in(admin, rob)
    page = admin.get("/admin/").content.decode()
    assert 'data-testid="waiting-for-licence">1<' in page
    free_seats(rob, 1)  # the added seat goes to Ann, who waited for it
    assert licensed("ann@contoso.com")
    assert 'data-testid="waiting-for-licence">0<' in admin.get("/admin/").content.decode()


def test_only_addresses_at_a_verified_domain_are_provisioned(contoso, entra):
    _token, scim = entra
    users_before = User.objects.count()

    for address in ("ann@fabrikam.com", "ann@contoso.com.evil.test", "not-an-address"):
        response = scim.post("/Users", new_user(address))
        status, scim_type, detail = error_of(response)
        assert (status, scim_type) == (400, "invalidValue")
        assert "contoso.com" in detail

    assert User.objects.count() == users_before
    assert not ProvisionedUser.objects.unscoped().exists()


def test_a_subdomain_of_a_verified_domain_is_provisioned_without_another_proof(contoso, entra):
    rob, _people, _subscription = contoso
    _token, scim = entra

    response = scim.post("/Users", new_user("ann@eu.contoso.com"))

    assert response.status_code == 201
    ann = user("ann@eu.contoso.com")
    assert Membership.objects.unscoped().get(user=ann).tenant == rob.membership.tenant


def test_nobody_is_provisioned_at_a_suspended_domain_until_its_record_is_back(contoso, entra):
    _token, scim = entra
    contoso_domain = TenantDomain.objects.unscoped().filter(domain="contoso.com")
    contoso_domain.update(status=TenantDomain.Status.SUSPENDED)

    for address in ("ann@contoso.com", "ann@eu.contoso.com"):
        status, scim_type, _detail = error_of(scim.post("/Users", new_user(address)))
        assert (status, scim_type) == (400, "invalidValue")
    assert not User.objects.filter(email__in=["ann@contoso.com", "ann@eu.contoso.com"]).exists()

    contoso_domain.update(status=TenantDomain.Status.IN_GRACE)  # still proven, being re-checked
    assert scim.post("/Users", new_user("ann@contoso.com")).status_code == 201


def test_an_existing_member_is_linked_never_duplicated_and_keeps_their_password(contoso, entra):
    _rob, (sara,), _subscription = contoso
    _token, scim = entra
    users_before = User.objects.count()

    response = scim.post("/Users", new_user("Sara@Contoso.com", displayName="Sara Lefèvre"))

    assert response.status_code == 201
    assert User.objects.count() == users_before
    assert ProvisionedUser.objects.unscoped().get().user == sara
    sara.refresh_from_db()
    assert sara.check_password(PASSWORD)
    status, scim_type, _detail = error_of(scim.post("/Users", new_user("sara@contoso.com")))
    assert (status, scim_type) == (409, "uniqueness")


def test_an_account_whose_owner_never_proved_the_address_gets_no_password_from_it(contoso, entra):
    squatter = UserFactory(email="ann@contoso.com", name="Not Ann", verified=False)
    _token, scim = entra

    response = scim.post("/Users", new_user("ann@contoso.com", displayName="Ann Lee"))

    assert response.status_code == 201
    squatter.refresh_from_db()
    assert ProvisionedUser.objects.unscoped().get().user == squatter  # linked, not duplicated
    assert not squatter.has_usable_password()
    assert squatter.name == "Ann Lee"
    assert EmailAddress.objects.get(user=squatter).verified


def test_deactivation_frees_the_licence_and_ends_sessions_and_reactivation_restores(contoso, entra):
    rob, _people, _subscription = contoso
    free_seats(rob, 1)
    _token, scim = entra
    resource = scim.post("/Users", new_user("ann@contoso.com")).json()
    ann = user("ann@contoso.com")
    update_personal_settings(user=ann, values={"default_duration_minutes": 45})
    meeting = schedule_meeting(
        organiser=ann,
        title="Weekly",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass="organisation",
        anonymous_join_allowed=False,
        recording_allowed=False,
    )
    browser = Client()
    browser.force_login(ann)
    assert browser.get("/meetings/").status_code == 200  # a browser in use

    response = scim.patch(
        f"/Users/{resource['id']}", [{"op": "replace", "path": "active", "value": False}]
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    ann.refresh_from_db()
    assert not ann.is_active
    assert not licensed("ann@contoso.com")
    sessions = [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]
    assert str(ann.pk) not in sessions
    assert browser.get("/meetings/").status_code == 302  # signed out
    assert Meeting.objects.unscoped().filter(pk=meeting.pk).exists()
    assert MeetingSettings.objects.get(user=ann).default_duration_minutes == 45
    assert (
        AuditEvent.objects.unscoped()
        .filter(action="provisioning.user_deactivated", actor_label="Entra ID")
        .exists()
    )

    response = scim.patch(
        f"/Users/{resource['id']}", [{"op": "replace", "path": "active", "value": True}]
    )

    assert response.json()["active"] is True
    ann.refresh_from_db()
    assert ann.is_active
    assert licensed("ann@contoso.com")
    assert MeetingSettings.objects.get(user=ann).default_duration_minutes == 45


def test_delete_deactivates_and_provisioning_the_address_again_links_the_same_account(
    contoso, entra
):
    _token, scim = entra
    resource = scim.post("/Users", new_user("ann@contoso.com")).json()
    ann = user("ann@contoso.com")

    assert scim.delete(f"/Users/{resource['id']}").status_code == 204

    assert scim.get(f"/Users/{resource['id']}").status_code == 404
    ann.refresh_from_db()
    assert not ann.is_active
    assert Membership.objects.unscoped().filter(user=ann).exists()
    again = scim.post("/Users", new_user("ann@contoso.com"))
    assert again.status_code == 201
    assert again.json()["id"] != resource["id"]
    assert ProvisionedUser.objects.unscoped().get().user == ann
    ann.refresh_from_db()
    assert ann.is_active


def test_the_last_admin_is_not_deactivated(contoso, entra):
    _token, scim = entra
    resource = scim.post("/Users", new_user("rob@contoso.com")).json()

    response = scim.patch(
        f"/Users/{resource['id']}", [{"op": "replace", "value": {"active": False}}]
    )

    status, scim_type, detail = error_of(response)
    assert (status, scim_type) == (400, "invalidValue")
    assert "last admin" in detail
    assert user("rob@contoso.com").is_active


def test_put_replaces_the_resource_and_a_new_userName_moves_the_sign_in_address(contoso, entra):
    _token, scim = entra
    resource = scim.post("/Users", new_user("ann@contoso.com", title="Engineer")).json()

    response = scim.put(
        f"/Users/{resource['id']}",
        new_user(
            "ann.lee@contoso.com",
            name={"givenName": "Ann", "familyName": "Lee"},
            externalId="e-1",
            **{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]},
            **{ENTERPRISE: {"department": "Sales"}},
        ),
    )

    assert response.status_code == 200
    body = response.json()
    assert body["userName"] == "ann.lee@contoso.com"
    assert "title" not in body  # replaced, not merged
    assert body[ENTERPRISE] == {"department": "Sales"}
    ann = User.objects.get(email="ann.lee@contoso.com")
    assert ann.name == "Ann Lee"
    assert list(EmailAddress.objects.filter(user=ann).values_list("email", "verified")) == [
        ("ann.lee@contoso.com", True)
    ]
    event = AuditEvent.objects.unscoped().get(action="provisioning.user_updated")
    assert event.before["address"] == "ann@contoso.com"
    assert event.after["address"] == "ann.lee@contoso.com"
    taken = scim.put(f"/Users/{resource['id']}", new_user("sara@contoso.com"))
    assert error_of(taken)[:2] == (409, "uniqueness")
    assert User.objects.filter(email="ann.lee@contoso.com").exists()


def test_a_managers_reference_is_answered_as_its_url_and_groups_are_not_kept(contoso, entra):
    _token, scim = entra
    manager = scim.post("/Users", new_user("rob.boss@contoso.com")).json()
    reference = f"Users/{manager['id']}"

    body = scim.post(
        "/Users",
        new_user(
            "ann@contoso.com",
            groups=[{"value": "g-1", "$ref": "Groups/g-1"}],
            **{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]},
            **{ENTERPRISE: {"manager": {"value": manager["id"], "$ref": reference}}},
        ),
    ).json()

    url = f"http://testserver/scim/v2/{reference}"
    assert body[ENTERPRISE]["manager"] == {"value": manager["id"], "$ref": url}
    assert "groups" not in body
    assert scim.get(f"/Users/{body['id']}").json()[ENTERPRISE]["manager"]["$ref"] == url
    assert "manager" not in scim.get(f"/Users/{manager['id']}").json().get(ENTERPRISE, {})


def test_filters_and_pages(contoso, entra):
    _token, scim = entra
    for index, address in enumerate(["ann@contoso.com", "anna@contoso.com", "bob@contoso.com"]):
        scim.post(
            "/Users",
            new_user(
                address,
                externalId=f"ext-{index}",
                emails=[{"value": address.replace("@", ".work@"), "type": "work"}],
            ),
        )

    def names(query):
        response = scim.get(f"/Users?{query}")
        assert response.status_code == 200, response.content
        return sorted(resource["userName"] for resource in response.json()["Resources"])

    assert names('filter=userName eq "ANN@contoso.com"') == ["ann@contoso.com"]
    assert names('filter=userName sw "ann"') == ["ann@contoso.com", "anna@contoso.com"]
    assert names('filter=userName co "b@"') == ["bob@contoso.com"]
    assert names('filter=externalId eq "ext-2"') == ["bob@contoso.com"]
    assert names('filter=externalId eq "EXT-2"') == []  # externalId is case-exact
    assert names('filter=emails.value eq "bob.work@contoso.com"') == ["bob@contoso.com"]
    assert names('filter=emails[type eq "work"].value eq "ann.work@contoso.com"') == [
        "ann@contoso.com"
    ]
    assert names('filter=emails[type eq "home"]') == []
    assert names('filter=externalId pr and userName sw "b"') == ["bob@contoso.com"]
    assert names('filter=userName eq "ann@contoso.com" or externalId eq "ext-1"') == [
        "ann@contoso.com",
        "anna@contoso.com",
    ]
    assert names('filter=not (userName sw "ann")') == ["bob@contoso.com"]
    page = scim.get("/Users?startIndex=2&count=1").json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert page["Resources"][0]["userName"] == "anna@contoso.com"
    for unsupported in ('title eq "x"', 'userName gt "a"', 'nope eq "x"', "userName eq"):
        status, scim_type, _detail = error_of(scim.get(f"/Users?filter={unsupported}"))
        assert (status, scim_type) == (400, "invalidFilter"), unsupported


def test_a_person_an_admin_removed_is_deactivated_and_reactivated_as_a_member_again(contoso, entra):
    rob, _people, _subscription = contoso
    _token, scim = entra
    resource = scim.post("/Users", new_user("ann@contoso.com")).json()
    admin = Client()
    recently_signed_in(admin, rob)
    admin.post(f"/admin/users/{user('ann@contoso.com').pk}/remove/")
    assert not Membership.objects.unscoped().filter(user__email="ann@contoso.com").exists()

    deactivated = scim.patch(
        f"/Users/{resource['id']}", [{"op": "replace", "path": "active", "value": False}]
    )
    reactivated = scim.patch(
        f"/Users/{resource['id']}", [{"op": "replace", "path": "active", "value": True}]
    )

    assert (deactivated.status_code, reactivated.status_code) == (200, 200)
    assert user("ann@contoso.com").is_active
    assert Membership.objects.unscoped().get(user__email="ann@contoso.com").tenant.domain == (
        "contoso.com"
    )


def test_deactivation_ends_a_session_signed_in_but_never_used_and_leaves_others(contoso, entra):
    """Signed in through the sign-in form and not used since: still ended, so that a
    reactivation does not bring it back; a colleague's session is untouched."""
    rob, (sara,), _subscription = contoso
    free_seats(rob, 1)
    _token, scim = entra
    resource = scim.post("/Users", new_user("ann@contoso.com")).json()
    ann = user("ann@contoso.com")
    ann.set_password(PASSWORD)
    ann.save()
    browser = Client()
    signed_in = browser.post(reverse("account_login"), {"login": ann.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    colleague = Client()
    colleague.force_login(sara)
    assert colleague.get("/meetings/").status_code == 200

    path = f"/Users/{resource['id']}"
    scim.patch(path, [{"op": "replace", "path": "active", "value": False}])
    scim.patch(path, [{"op": "replace", "path": "active", "value": True}])

    assert browser.get("/meetings/").status_code == 302  # signed out, even now reactivated
    assert colleague.get("/meetings/").status_code == 200


def test_the_licence_is_looked_for_last_so_the_subscription_stays_locked_briefly(contoso, entra):
    """The subscription's row lock, taken to count its seats, is held until the transaction
    ends: everything an identity provider's request writes of its own comes before it, so
    that concurrent creations wait on that lock as little as possible."""
    rob, _people, _subscription = contoso
    free_seats(rob, 1)
    _token, scim = entra

    with CaptureQueriesContext(connection) as captured:
        assert scim.post("/Users", new_user("ann@contoso.com")).status_code == 201

    statements = [query["sql"] for query in captured]
    # A new account's seat is taken by the UPDATE that counts it and locks the row.
    locked = next(
        index
        for index, sql in enumerate(statements)
        if "licensing_subscription" in sql and (sql.startswith("UPDATE") or "FOR UPDATE" in sql)
    )
    # (The test's own transaction makes the request's a savepoint.)
    under_lock = [sql for sql in statements[locked + 1 :] if "SAVEPOINT" not in sql]
    assert [sql.split('"')[1] for sql in under_lock] == [
        "licensing_licence",
        "meetings_meetingsettings",  # the licensed cap of their meetings
        "tenancy_auditevent",  # the audit log's one INSERT
    ]
    assert licensed("ann@contoso.com")
    assert ProvisionedUser.objects.unscoped().filter(user__email="ann@contoso.com").exists()
