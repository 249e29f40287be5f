"""A signed-in person who is not a member reads why, and what to do next: on the home page and
at the wizard's start, each state in its own sentence, in English and French."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tenancy.models import Membership, Tenant, TenantDomain
from tenancy.selectors import Standing, standing_of
from tenancy.services.membership import remove_member, set_signup_mode
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso():
    """contoso.com, managed, with Rob as its admin."""
    rob = member("rob@contoso.com", name="Rob Martin")
    tenant = rob.membership.tenant
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.MANAGED)
    Membership.objects.unscoped().filter(user=rob).update(role=Membership.Role.ADMIN)
    tenant.refresh_from_db()
    rob.refresh_from_db()
    return tenant, rob


def pages(user, language="en"):
    client = Client()
    client.cookies["django_language"] = language
    client.force_login(user)
    return [
        re.sub(r"\s+", " ", client.get(url).content.decode())
        for url in (reverse("tenancy:home"), reverse("wizard:start") + "?entry=admin")
    ]


def signs_up_under(contoso, mode, email="sara@contoso.com"):
    tenant, rob = contoso
    set_signup_mode(tenant=tenant, actor=rob, mode=mode)
    return member(email, name="Sara Lefèvre")


def test_a_sign_up_waiting_for_approval_is_told_so_and_whom_to_ask(contoso):
    sara = signs_up_under(contoso, Tenant.SignupMode.APPROVAL)
    assert standing_of(sara).kind == Standing.AWAITING_APPROVAL
    for page in pages(sara):
        assert "Waiting for an admin's approval" in page
        assert "Your request is waiting for one of them." in page
        assert 'href="mailto:rob@contoso.com"' in page
        assert "personal e-mail provider" not in page
        assert reverse("wizard:claim") not in page


def test_a_sign_up_refused_by_the_rule_is_told_to_ask_an_admin(contoso):
    sara = signs_up_under(contoso, Tenant.SignupMode.REFUSED)
    assert standing_of(sara).kind == Standing.REFUSED_BY_RULE
    for page in pages(sara):
        assert "does not let people join by signing up: only its admins add people." in page
        assert "Next step: ask an admin to add you." in page
        assert "Rob Martin &lt;" in page
        assert "personal e-mail provider" not in page


def test_someone_removed_is_told_so(contoso):
    tenant, rob = contoso
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    remove_member(tenant=tenant, actor=rob, user=sara)
    assert standing_of(sara).kind == Standing.REMOVED
    for page in pages(sara):
        assert "An admin of contoso.com removed you from the organisation" in page


def test_a_personal_address_is_told_to_use_the_work_one():
    someone = member("someone@gmail.com")
    assert standing_of(someone) == Standing(Standing.PERSONAL_ADDRESS, "gmail.com")
    for page in pages(someone):
        assert "gmail.com is a personal e-mail provider" in page
        assert "sign up again with your work address" in page


def test_a_member_sees_no_standing(contoso):
    _tenant, rob = contoso
    assert standing_of(rob).kind == Standing.MEMBER
    home, _start = pages(rob)
    assert 'data-testid="standing"' not in home


def test_each_state_in_french(contoso):
    sara = signs_up_under(contoso, Tenant.SignupMode.APPROVAL)
    home, start = pages(sara, "fr")
    assert "En attente de l’approbation d’un administrateur" in home
    assert "En attente de l’approbation d’un administrateur" in start
    tom = signs_up_under(contoso, Tenant.SignupMode.REFUSED, email="tom@contoso.com")
    home, _start = pages(tom, "fr")
    assert "Seuls les administrateurs ajoutent des personnes" in home


def test_at_another_domain_of_the_tenant_or_a_subdomain_the_same_organisation_answers(contoso):
    """Which organisation an address belongs to is tenancy.selectors.covering_domain's answer:
    a domain the tenant added, or a subdomain of a verified one, is the tenant's too."""
    tenant, rob = contoso
    TenantDomain.objects.unscoped().filter(tenant=tenant).update(status="verified")
    TenantDomain.objects.unscoped().create(tenant=tenant, domain="fabrikam.com", status="verified")
    set_signup_mode(tenant=tenant, actor=rob, mode=Tenant.SignupMode.REFUSED)
    for email in ("fay@fabrikam.com", "nina@eu.contoso.com"):
        person = member(email)
        assert standing_of(person) == Standing(
            Standing.REFUSED_BY_RULE, email.partition("@")[2], (rob,)
        )
    assert Tenant.objects.count() == 1
