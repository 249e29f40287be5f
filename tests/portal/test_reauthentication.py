"""Sensitive changes ask for a recent password or second factor (allauth's re-authentication):
after the window, the change waits for the proof and then goes through, typed once."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from domains.models import DomainClaim
from licensing.models import Subscription
from tenancy.models import Membership, Policy, Tenant, TenantDomain
from tenancy.services.membership import set_member_role
from tests.factories import PASSWORD
from tests.fixtures.two_factor import enrol_totp, recently_signed_in, totp_code

WINDOW = timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)


def sara_of(contoso):
    return contoso[1][0]


def role_of(user):
    return Membership.objects.unscoped().get(user=user).role


def tenant_of_contoso():
    return Tenant.objects.get(domain="contoso.com")


def second_domain():
    return TenantDomain.objects.unscoped().get(domain="contoso.org")


# Each sensitive change: (where it is posted, what is posted, the state it changes).
SENSITIVE = {
    "make an admin": (
        lambda c: reverse("portal:user_action", args=[sara_of(c).pk, "make_admin"]),
        {},
        lambda c: role_of(sara_of(c)),
    ),
    "revoke an admin": (
        lambda c: reverse("portal:user_action", args=[sara_of(c).pk, "revoke_admin"]),
        {},
        lambda c: role_of(sara_of(c)),
    ),
    "remove a user": (
        lambda c: reverse("portal:user_action", args=[sara_of(c).pk, "remove"]),
        {},
        lambda c: Membership.objects.unscoped().filter(user=sara_of(c)).exists(),
    ),
    "change the seats": (
        lambda c: reverse("portal:licences"),
        {"quantity": "3"},
        lambda c: Subscription.objects.unscoped().get().quantity,
    ),
    "change the plan": (
        lambda c: reverse("portal:subscription"),
        {"action": "change_plan", "plan": "premium"},
        lambda c: Subscription.objects.unscoped().get().plan,
    ),
    "cancel": (
        lambda c: reverse("portal:subscription"),
        {"action": "cancel"},
        lambda c: Subscription.objects.unscoped().get().cancel_at_period_end,
    ),
    "change the sign-up rule": (
        lambda c: reverse("portal:policies"),
        {"form": "signup", "signup_mode": "approval"},
        lambda c: tenant_of_contoso().signup_mode,
    ),
    "change the policies": (
        lambda c: reverse("portal:policies"),
        {"form": "policy", "max_meeting_size": "50", "lobby_bypass": ""},
        lambda c: Policy.objects.unscoped().filter(max_meeting_size=50).exists(),
    ),
    "add a domain": (
        lambda c: reverse("portal:add_domain"),
        {"domain": "fabrikam.com"},
        lambda c: DomainClaim.objects.unscoped().filter(domain="fabrikam.com").exists(),
    ),
    "remove a domain": (
        lambda c: reverse("portal:remove_domain", args=[second_domain().pk]),
        {},
        lambda c: TenantDomain.objects.unscoped().filter(domain="contoso.org").exists(),
    ),
    "change the two-factor rule": (
        lambda c: reverse("portal:policies"),
        {"form": "two_factor", "two_factor_required": "on"},
        lambda c: tenant_of_contoso().two_factor_required,
    ),
}


@pytest.fixture
def contoso_ready(contoso):
    """contoso, with Sara an admin for the change that revokes it."""
    rob, (sara,), _subscription = contoso
    return contoso, rob, sara


@pytest.mark.parametrize("change", SENSITIVE, ids=str)
def test_a_sensitive_change_asks_again_after_the_window_then_goes_through(change, contoso_ready):
    contoso, rob, sara = contoso_ready
    if change == "revoke an admin":
        set_member_role(tenant=tenant_of_contoso(), actor=rob, user=sara, role="admin")
    if change == "remove a domain":  # a domain nobody's address is at
        TenantDomain.objects.unscoped().create(
            tenant=tenant_of_contoso(), domain="contoso.org", status="verified"
        )
    url_of, data, state_of = SENSITIVE[change]
    url = url_of(contoso)
    before = state_of(contoso)
    client = recently_signed_in(Client(), rob)

    with time_machine.travel(timezone.now() + WINDOW + timedelta(seconds=1), tick=False):
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"] == (
            reverse("account_reauthenticate") + "?" + urlencode({"next": url})
        )
        assert state_of(contoso) == before
        assert client.get(url).status_code in (200, 405)  # looking needs no proof

        proved = client.post(
            reverse("account_reauthenticate") + "?" + urlencode({"next": url}),
            {"password": PASSWORD},
        )
        assert proved.status_code == 302
        assert state_of(contoso) != before


def test_within_the_window_a_change_goes_through_at_once(contoso_ready):
    _contoso, rob, sara = contoso_ready
    client = recently_signed_in(Client(), rob)
    with time_machine.travel(timezone.now() + WINDOW - timedelta(seconds=5), tick=False):
        url = reverse("portal:user_action", args=[sara.pk, "make_admin"])
        assert client.post(url)["Location"] == reverse("portal:users")
    assert role_of(sara) == "admin"


def test_an_authenticator_code_proves_it_too(contoso_ready):
    _contoso, rob, sara = contoso_ready
    Authenticator.objects.filter(user=rob).delete()
    secret = enrol_totp(rob)
    client = Client()
    client.force_login(rob)
    url = reverse("portal:user_action", args=[sara.pk, "make_admin"])
    assert client.post(url)["Location"].startswith(reverse("account_reauthenticate"))
    code_page = reverse("mfa_reauthenticate") + "?" + urlencode({"next": url})
    wrong = client.post(code_page, {"code": "000000" if totp_code(secret) != "000000" else "1"})
    assert "This code is wrong or was already used." in wrong.content.decode()
    assert role_of(sara) == "member"
    assert client.post(code_page, {"code": totp_code(secret)}).status_code == 302
    assert role_of(sara) == "admin"


def test_licence_assignment_is_not_a_sensitive_change(contoso_ready):
    _contoso, rob, sara = contoso_ready
    client = Client()
    client.force_login(rob)  # signed in, never re-authenticated
    url = reverse("portal:user_action", args=[sara.pk, "unassign"])
    assert client.post(url)["Location"] == reverse("portal:users")


def test_a_code_mailed_to_the_address_is_not_offered_as_proof(contoso_ready):
    _contoso, rob, _sara = contoso_ready
    client = Client()
    client.force_login(rob)
    page = client.get(reverse("account_reauthenticate")).content.decode()
    assert reverse("mfa_reauthenticate") in page  # the authenticator app is offered
    assert reverse("account_request_reauthentication_code") not in page
