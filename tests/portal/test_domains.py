"""The admin centre's domains page: the list with each domain's state and last check, adding a
domain and proving it, who came with a merged organisation, removing a domain."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import DomainClaim
from tenancy.models import TenantDomain
from tests.factories import member
from tests.fixtures.two_factor import recently_signed_in

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def row(page, domain):
    return re.search(rf'<tr data-domain="{re.escape(domain)}".*?</tr>', page).group(0)


@pytest.fixture
def rob_client(client, contoso):
    """Rob, who proved who he is a moment ago: adding and removing a domain ask for that."""
    return recently_signed_in(client, contoso[0])


def test_the_nav_leads_to_the_domains_and_each_shows_its_state(rob_client):
    dashboard = text(rob_client.get(reverse("portal:dashboard")))
    assert f'<a href="{reverse("portal:domains")}">Domains</a>' in dashboard
    page = text(rob_client.get(reverse("portal:domains")))
    contoso = row(page, "contoso.com")
    assert 'data-state="verified"' in contoso
    assert "(primary)" in contoso and "Verified" in contoso and "not yet" in contoso
    assert "Remove contoso.com" not in contoso  # the primary domain stays
    assert 'aria-current="page">Domains' in page


def test_adding_a_domain_shows_its_record_then_the_people_who_came_with_it(rob_client, dns):
    fay = member("fay@fabrikam.com", name="Fay Durand")
    member("gus@fabrikam.com", name="Gus Martin")
    response = rob_client.post(reverse("portal:add_domain"), {"domain": "Fabrikam.com"})
    claim = DomainClaim.objects.unscoped().get(domain="fabrikam.com")
    assert response["Location"] == reverse("portal:domain_claim", args=[claim.pk])
    page = text(rob_client.get(response["Location"]))
    assert f'data-testid="record-value">{claim.record_value}</code>' in page
    assert "Waiting for the record" in page
    assert 'hx-trigger="every 3s"' in page
    listing = text(rob_client.get(reverse("portal:domains")))
    assert 'data-state="pending"' in row(listing, "fabrikam.com")

    dns.set_txt("fabrikam.com", claim.record_value)
    status = text(
        rob_client.post(
            reverse("portal:check_claim", args=[claim.pk]), headers={"HX-Request": "true"}
        )
    )

    assert status.startswith('<section id="claim-status"')
    assert "Domain added" in status
    assert "hx-trigger" not in status
    assert "2 people joined; 0 got a free licence." in status
    assert "2 people wait for a licence" in status
    assert f'href="{reverse("portal:licences")}">Buy more licences' in status
    fay_row = re.search(rf'<tr data-email="{fay.email}".*?</tr>', status).group(0)
    assert "Fay Durand" in fay_row and "Member, waits for a licence" in fay_row
    listing = text(rob_client.get(reverse("portal:domains")))
    assert 'data-state="verified"' in row(listing, "fabrikam.com")
    assert "People who came with fabrikam.com on" in listing


@pytest.mark.parametrize(
    ("domain", "error"),
    [
        ("", "This field is required."),
        ("gmail.com", "gmail.com is not an organisation&#x27;s domain"),
        ("contoso.com", "contoso.com is already one of your domains."),
        ("x" * 300, "Ensure this value has at most 253 characters"),
    ],
)
def test_a_domain_that_cannot_be_added_says_why_and_changes_nothing(rob_client, domain, error):
    response = rob_client.post(reverse("portal:add_domain"), {"domain": domain})
    assert response.status_code == 400
    assert error in text(response)
    assert not DomainClaim.objects.unscoped().filter(purpose="add_domain").exists()


def test_a_domain_of_another_managed_organisation_shows_its_admin_masked(rob_client, fabrikam):
    response = rob_client.post(reverse("portal:add_domain"), {"domain": "fabrikam.com"})
    assert response.status_code == 400
    assert "whose admin is f***@f***.com" in text(response)


def test_removing_a_domain_in_use_is_refused_with_why(rob_client, contoso, dns):
    rob = contoso[0]
    member("fay@fabrikam.com")
    rob_client.post(reverse("portal:add_domain"), {"domain": "fabrikam.com"})
    claim = DomainClaim.objects.unscoped().get(domain="fabrikam.com")
    dns.set_txt("fabrikam.com", claim.record_value)
    rob_client.post(reverse("portal:check_claim", args=[claim.pk]))
    added = TenantDomain.objects.unscoped().get(domain="fabrikam.com")
    assert added.tenant == rob.membership.tenant

    page = text(rob_client.post(reverse("portal:remove_domain", args=[added.pk]), follow=True))
    assert "1 member has an address at fabrikam.com: the domain stays while they do." in page
    assert TenantDomain.objects.unscoped().filter(pk=added.pk).exists()
    primary = TenantDomain.objects.unscoped().get(domain="contoso.com")
    page = text(rob_client.post(reverse("portal:remove_domain", args=[primary.pk]), follow=True))
    assert "contoso.com is your primary domain: it cannot be removed." in page


def test_a_domain_in_its_grace_period_shows_until_when_and_its_record(rob_client):
    domain = TenantDomain.objects.unscoped().get(domain="contoso.com")
    now = timezone.now()
    TenantDomain.objects.unscoped().filter(pk=domain.pk).update(
        status="in_grace",
        missing_since=now,
        grace_ends_at=now + timedelta(days=14),
        last_checked_at=now,
    )
    page = text(rob_client.get(reverse("portal:domains")))
    contoso = row(page, "contoso.com")
    assert "In grace period" in contoso and "until" in contoso
    assert f"<code>quorum-verification={domain.token}</code>" in contoso
    assert 'data-testid="domain-banner" data-domain="contoso.com"' in page
