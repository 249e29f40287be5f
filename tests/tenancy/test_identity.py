"""The kept identity (tenancy.identity, IDENTITY_CACHE): read from the cache, never stale. Each
tenancy service that changes a user, a membership, a tenant or a policy is seen by the very next
request of the person it concerns."""

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.versioned import version_key
from tenancy.identity import identity_of
from tenancy.models import Membership, Tenant
from tenancy.selectors import policy_of
from tenancy.services.membership import (
    admit_member,
    decide_join_request,
    join_tenant_of_verified_email,
    remove_member,
    set_member_role,
    set_signup_mode,
)
from tenancy.services.policies import set_policy
from tenancy.services.security import set_two_factor_required
from tests.factories import PASSWORD, UserFactory, member
from tests.fixtures.cache import CacheCalls
from tests.fixtures.identity import next_request, signed_in
from tests.fixtures.two_factor import enrol_totp

# Committed (transaction=True), as production does: a change renews its versions once committed.
pytestmark = [pytest.mark.usefixtures("identity_cache"), pytest.mark.django_db(transaction=True)]
IDENTITY_TABLES = ("tenancy_user", "tenancy_membership", "tenancy_tenant", "tenancy_policy")


def test_a_kept_identity_costs_no_query_of_user_membership_tenant_or_policy(contoso):
    _rob, (sara,), _subscription = contoso
    client = signed_in(sara)
    with CaptureQueriesContext(connection) as queries:
        request = next_request(client)
    read = [q["sql"] for q in queries if any(f'"{table}"' in q["sql"] for table in IDENTITY_TABLES)]
    assert read == []
    assert request.membership.role == Membership.Role.MEMBER
    assert request.tenant.domain == "contoso.com"
    assert request.tenant.is_managed


def test_a_kept_identity_comes_with_its_versions_tokens_in_one_cache_call(contoso, monkeypatch):
    """And a version lost meanwhile (an eviction, say) has it read anew. (A spy counts the
    calls; each goes through.)"""
    _rob, (sara,), _subscription = contoso
    signed_in(sara)
    calls = CacheCalls(monkeypatch, ["get", "get_many"])
    with CaptureQueriesContext(connection) as queries:
        assert identity_of(sara.pk).membership.tenant.domain == "contoso.com"
    assert (calls.made, len(queries)) == (["get_many"], 0)

    cache.delete(version_key(f"identity:user:{sara.pk}"))

    with CaptureQueriesContext(connection) as queries:
        assert identity_of(sara.pk).membership.tenant.domain == "contoso.com"
    assert len(queries) == 2  # the user, then the membership with its tenant and policy


def test_with_the_setting_off_the_database_is_read(contoso, settings):
    settings.IDENTITY_CACHE = False
    _rob, (sara,), _subscription = contoso
    client = Client()
    client.force_login(sara)
    request = client.get("/meetings/").wsgi_request
    assert not hasattr(request, "identity")
    assert request.membership.role == Membership.Role.MEMBER


def test_a_role_change_is_seen_on_the_next_request(contoso):
    rob, (sara,), _subscription = contoso
    client = signed_in(sara)
    set_member_role(tenant=rob.membership.tenant, actor=rob, user=sara, role="admin")
    assert next_request(client).membership.role == Membership.Role.ADMIN
    set_member_role(tenant=rob.membership.tenant, actor=rob, user=sara, role="member")
    assert next_request(client).membership.role == Membership.Role.MEMBER


def test_a_change_rolled_back_leaves_the_kept_identity_and_keeps_nothing_of_its_own(contoso):
    """The changing transaction reads the identity anew (it sees its own rows) but keeps none:
    nobody else sees those rows, and after a rollback nobody ever will."""
    rob, (sara,), _subscription = contoso
    client = signed_in(sara)
    with transaction.atomic():
        set_member_role(tenant=rob.membership.tenant, actor=rob, user=sara, role="admin")
        assert identity_of(sara.pk).membership.role == Membership.Role.ADMIN
        transaction.set_rollback(True)

    assert identity_of(sara.pk).membership.role == Membership.Role.MEMBER
    assert next_request(client).membership.role == Membership.Role.MEMBER


def test_removal_and_admission_are_seen_on_the_next_request(contoso):
    rob, (sara,), _subscription = contoso
    tenant = rob.membership.tenant
    client = signed_in(sara)
    remove_member(tenant=tenant, actor=rob, user=sara)
    assert client.get("/meetings/").status_code == 302  # signed out, her sessions ended
    signed_in(sara, client)
    assert next_request(client).membership is None
    admit_member(tenant=tenant, actor=rob, email="sara@contoso.com", name="Sara")
    assert next_request(client).membership.tenant == tenant


def test_an_approved_join_request_is_seen_on_the_next_request(contoso):
    rob, _people, _subscription = contoso
    tenant = rob.membership.tenant
    set_signup_mode(tenant=tenant, actor=rob, mode=Tenant.SignupMode.APPROVAL)
    tom = member("tom@contoso.com")  # waits for an admin
    client = signed_in(tom)
    assert next_request(client).membership is None
    decide_join_request(tenant=tenant, actor=rob, user=tom, approve=True)
    assert next_request(client).membership.tenant == tenant


def test_the_sign_up_rule_and_the_two_factor_rule_are_seen_on_the_next_request(contoso):
    rob, (sara,), _subscription = contoso
    tenant = rob.membership.tenant
    client = signed_in(sara)
    set_signup_mode(tenant=tenant, actor=rob, mode=Tenant.SignupMode.REFUSED)
    assert next_request(client).tenant.signup_mode == Tenant.SignupMode.REFUSED
    set_two_factor_required(tenant=tenant, actor=rob, required=True)
    response = client.get("/meetings/")
    assert (response.status_code, response.url) == (302, "/accounts/2fa/")


def test_an_admins_second_factor_is_kept_and_its_removal_seen_on_the_next_request(contoso):
    rob, _people, _subscription = contoso
    client = signed_in(rob)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/").status_code == 200
    assert not [q for q in queries if '"mfa_authenticator"' in q["sql"]]
    # As allauth's "deactivate": the authenticator app goes, then the recovery codes left alone.
    Authenticator.objects.filter(user=rob).delete()
    response = client.get("/admin/")
    assert (response.status_code, response.url) == (302, "/accounts/2fa/")
    enrol_totp(rob)
    assert client.get("/admin/").status_code == 200


def test_a_members_second_factor_is_seen_on_the_next_request_when_the_tenant_requires_one(contoso):
    rob, (sara,), _subscription = contoso
    set_two_factor_required(tenant=rob.membership.tenant, actor=rob, required=True)
    enrol_totp(sara)
    client = signed_in(sara)
    Authenticator.objects.get(user=sara, type=Authenticator.Type.TOTP).delete()
    response = client.get("/meetings/")
    assert (response.status_code, response.url) == (302, "/accounts/2fa/")


def test_a_policy_change_is_seen_on_the_next_request(contoso):
    rob, (sara,), _subscription = contoso
    tenant = rob.membership.tenant
    client = signed_in(sara)
    assert policy_of(next_request(client).tenant) is None
    set_policy(tenant=tenant, actor=rob, max_cap=300, values={"max_meeting_size": 12})
    assert policy_of(next_request(client).tenant).max_meeting_size == 12
    set_policy(tenant=tenant, actor=rob, max_cap=300, values={"max_meeting_size": None})
    assert policy_of(next_request(client).tenant).max_meeting_size is None


def test_a_new_password_signs_the_other_browsers_out_at_once(contoso):
    _rob, (sara,), _subscription = contoso
    client = signed_in(sara)
    sara.set_password(PASSWORD + "-new")
    sara.save()
    assert client.get("/meetings/").status_code == 302


def test_a_verified_address_joins_and_is_seen_on_the_next_request(contoso):
    rob, _people, _subscription = contoso
    una = UserFactory(email="una@contoso.com", verified=False)
    client = signed_in(una)
    assert next_request(client).membership is None
    una.emailaddress_set.update(verified=True)
    join_tenant_of_verified_email(user=una, email=una.email)
    assert next_request(client).membership.tenant == rob.membership.tenant
