"""The wizard's steps 1 to 3 through Django's test client, with the real test DNS server."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from domains import services
from domains.models import DomainClaim
from tenancy.models import Membership
from tests.factories import PASSWORD, member

DOMAIN = "contoso.com"
POSTS = ["wizard:claim", "wizard:record_added", "wizard:check_now"]
GETS = ["wizard:start", "wizard:domain", "wizard:domain_status", "wizard:licences"]


@pytest.fixture
def rob(db):
    return member("rob@contoso.com", name="Rob Martin")


@pytest.fixture
def rob_client(client, rob):
    client.force_login(rob)
    return client


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_admin_entry_shows_the_four_steps_and_is_remembered(rob_client):
    response = rob_client.get(reverse("wizard:start") + "?entry=admin")
    assert response.status_code == 200
    page = text(response)
    for label in ["Sign up", "Run the wizard", "Confirm domain ownership", "Buy licences"]:
        assert label in page
    assert re.search(r'<li class="done">\s*<span class="step-number">1</span> Sign up', page)
    assert 'class="current" aria-current="step"> <span class="step-number">2' in page
    assert rob_client.session["wizard_entry"] == "admin"
    rob_client.post(reverse("wizard:claim"))
    assert "Back to my apps" in text(rob_client.get(reverse("wizard:domain")))


def test_meetings_entry_leads_back_to_meetings_for_the_whole_run(rob_client):
    rob_client.get(reverse("wizard:start") + "?entry=meetings")
    rob_client.get(reverse("wizard:start"))  # no entry: the remembered one stays
    assert rob_client.session["wizard_entry"] == "meetings"
    rob_client.post(reverse("wizard:claim"))
    page = text(rob_client.get(reverse("wizard:domain")))
    assert f'href="{reverse("meetings:list")}">Back to my meetings' in page


def test_the_launcher_admin_tile_opens_the_wizard(rob_client):
    page = text(rob_client.get(reverse("tenancy:home")))
    assert f'href="{reverse("wizard:start")}?entry=admin"' in page


def test_start_then_step_3_shows_the_record_to_publish(rob_client, rob, settings):
    settings.DEBUG = False
    response = rob_client.post(reverse("wizard:claim"))
    assert response.status_code == 302
    assert response.url == reverse("wizard:domain")
    claim = DomainClaim.objects.unscoped().get(claimant=rob)
    page = text(rob_client.get(response.url))
    assert f'id="record-value" data-testid="record-value">{claim.record_value}</code>' in page
    assert 'data-copy="record-value"' in page
    assert f"<code>{DOMAIN}</code>" in page
    assert "Add a TXT record at the domain itself" in page
    assert "dev_dns add" not in page
    assert 'hx-trigger="every 3s"' in page  # live status while pending
    assert "I've added the record" in page and "Check now" in page
    hours = services.CLAIM_WINDOW // timedelta(hours=1)
    assert f"We keep checking by ourselves for {hours} hours" in page


def test_the_local_dns_command_is_shown_in_debug_only(rob_client, rob, settings):
    rob_client.post(reverse("wizard:claim"))
    claim = DomainClaim.objects.unscoped().get(claimant=rob)
    settings.DEBUG = True
    page = text(rob_client.get(reverse("wizard:domain")))
    # The checkout's own Python, from the project folder (the system's has no Django).
    command = f".venv/bin/python manage.py dev_dns add {DOMAIN} {claim.record_value}"
    assert f'<code id="dev-dns-command">{command}</code>' in page
    assert f"in the project folder ({settings.BASE_DIR})" in page


def test_starting_again_keeps_the_token(rob_client, rob):
    rob_client.post(reverse("wizard:claim"))
    token = DomainClaim.objects.unscoped().get(claimant=rob).token
    page = text(rob_client.get(reverse("wizard:start")))
    assert "Continue where you left off" in page
    rob_client.post(reverse("wizard:claim"))
    assert list(DomainClaim.objects.unscoped().values_list("token", flat=True)) == [token]


def test_status_shows_the_records_seen_and_why_they_do_not_match(rob_client, rob, dns):
    dns.set_txt(DOMAIN, "v=spf1 -all", "quorum-verification=old-code")
    rob_client.post(reverse("wizard:claim"))
    rob_client.post(reverse("wizard:check_now"))
    page = text(rob_client.get(reverse("wizard:domain_status")))
    assert page.startswith('<section id="claim-status"')
    assert "There are TXT records at contoso.com, but none is yours yet." in page
    assert "<code>v=spf1 -all</code>" in page
    assert "Not a Quorum record" in page
    assert "<code>quorum-verification=old-code</code>" in page
    assert "A Quorum record with another code" in page
    assert 'data-testid="attempts">1<' in page
    assert "Last check" in page and "Next check" in page


def test_status_shows_each_server_asked_and_its_answer_next_to_the_strings(
    rob_client, rob, dns_hierarchy
):
    rob_client.post(reverse("wizard:claim"))
    claim = DomainClaim.objects.unscoped().get(claimant=rob)
    dns_hierarchy.set_txt(DOMAIN, "v=spf1 -all", on=("ns1", "ns2"))
    rob_client.post(reverse("wizard:check_now"))
    page = text(rob_client.get(reverse("wizard:domain_status")))
    assert "Waiting for the record" in page
    assert "Servers asked" in page
    for name, answer in [
        ("ns1.contoso.com", "Not there"),
        ("ns2.contoso.com", "Not there"),
        ("ns3.contoso.com", "No answer"),
    ]:
        row = re.search(rf'<tr data-server="{name}".*?</tr>', page).group(0)
        assert answer in row
    assert "<code>v=spf1 -all</code>" in page
    assert 'data-testid="fell-back"' not in page

    # ns1 has it, ns2 lags behind: confirmed, and the page shows who had it.
    dns_hierarchy.set_txt(DOMAIN, "v=spf1 -all", claim.record_value, on=("ns1",))
    with time_machine.travel(timezone.now() + timedelta(seconds=11), tick=False):
        page = text(rob_client.post(reverse("wizard:check_now"), headers={"HX-Request": "true"}))
    assert "Domain confirmed" in page
    ns1 = re.search(r'<tr data-server="ns1.contoso.com".*?</tr>', page).group(0)
    assert "Found" in ns1 and f"<code>{claim.record_value}</code>" in ns1
    ns2 = re.search(r'<tr data-server="ns2.contoso.com".*?</tr>', page).group(0)
    assert "Not there" in ns2


def test_status_says_when_the_resolver_was_asked_instead(rob_client, rob, dns):
    rob_client.post(reverse("wizard:claim"))
    rob_client.post(reverse("wizard:check_now"))
    page = text(rob_client.get(reverse("wizard:domain_status")))
    assert "We could not find the domain's own DNS servers" in page
    assert f'<tr data-server="{dns.address}" data-answer="not_there">' in page
    assert "Our DNS resolver" in page


def test_record_added_confirms_the_domain(rob_client, rob, dns, localstripe):
    rob_client.post(reverse("wizard:claim"))
    claim = DomainClaim.objects.unscoped().get(claimant=rob)
    dns.set_txt(DOMAIN, claim.record_value)
    response = rob_client.post(reverse("wizard:record_added"), headers={"HX-Request": "true"})
    page = text(response)
    assert page.startswith('<section id="claim-status"')
    assert "Domain confirmed" in page
    assert "hx-trigger" not in page  # polling stops
    assert f'href="{reverse("wizard:licences")}">Continue to licences' in page
    licences = text(rob_client.get(reverse("wizard:licences")))
    assert "<h1>Buy licences</h1>" in licences


def test_check_now_twice_within_10_seconds_says_to_wait(rob_client, rob, dns):
    rob_client.post(reverse("wizard:claim"))
    rob_client.post(reverse("wizard:check_now"))
    response = rob_client.post(reverse("wizard:check_now"), follow=True)
    assert "The domain was checked a moment ago. Try again in" in text(response)
    assert DomainClaim.objects.unscoped().get(claimant=rob).attempts == 1
    htmx = rob_client.post(reverse("wizard:check_now"), headers={"HX-Request": "true"})
    assert 'role="alert">The domain was checked a moment ago' in text(htmx)


def test_licences_needs_a_confirmed_domain(rob_client):
    rob_client.post(reverse("wizard:claim"))
    response = rob_client.get(reverse("wizard:licences"))
    assert response.status_code == 302
    assert response.url == reverse("wizard:domain")


def test_expired_claim_offers_to_start_over(rob_client, rob):
    rob_client.post(reverse("wizard:claim"))
    old = DomainClaim.objects.unscoped().get(claimant=rob)
    DomainClaim.objects.unscoped().filter(pk=old.pk).update(status="expired", attempts=87)
    page = text(rob_client.get(reverse("wizard:domain")))
    assert "We did not find your record within 72 hours (87 checks)" in page
    assert "Start over" in page
    rob_client.post(reverse("wizard:claim"))
    new = DomainClaim.objects.unscoped().get(claimant=rob, status="pending")
    assert new.token != old.token


def test_two_members_see_each_others_claims(rob_client, rob):
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    services.start_claim(user=sara)
    rob_client.post(reverse("wizard:claim"))
    page = text(rob_client.get(reverse("wizard:domain")))
    assert "Others are confirming this domain too" in page
    assert "Sara Lefèvre, since" in page
    sara_client = Client()
    sara_client.force_login(sara)
    page = text(sara_client.get(reverse("wizard:domain")))
    assert "Rob Martin, since" in page


def test_consumer_domain_user_is_refused(client, db):
    user = member("someone@gmail.com")
    client.force_login(user)
    page = text(client.get(reverse("wizard:start") + "?entry=admin"))
    assert "gmail.com is a personal e-mail provider" in page
    assert "sign up again with your work address" in page
    assert reverse("wizard:claim") not in page
    response = client.post(reverse("wizard:claim"), follow=True)
    assert "Only members of an organisation can become its admin." in text(response)
    assert not DomainClaim.objects.unscoped().exists()
    assert client.get(reverse("wizard:domain")).url == reverse("wizard:start")


def test_member_of_a_managed_tenant_is_told_who_the_admin_is(rob_client, rob):
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    tenant = rob.membership.tenant
    tenant.state = "managed"
    tenant.save()
    Membership.objects.unscoped().filter(user=sara).update(role="admin")
    page = text(rob_client.get(reverse("wizard:start")))
    assert "Your organisation already has an admin" in page
    assert 'href="mailto:sara@contoso.com"' in page
    assert reverse("wizard:claim") not in page
    rob_client.post(reverse("wizard:claim"))
    assert not DomainClaim.objects.unscoped().exists()


@pytest.mark.parametrize("name", GETS + POSTS)
def test_login_required_everywhere(client, db, name):
    method = client.post if name in POSTS else client.get
    response = method(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("name", POSTS)
def test_csrf_required_on_every_post(rob, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rob)
    services.start_claim(user=rob)
    attempts = DomainClaim.objects.unscoped().get(claimant=rob).attempts
    assert client.post(reverse(name)).status_code == 403
    assert DomainClaim.objects.unscoped().get(claimant=rob).attempts == attempts
    assert DomainClaim.objects.unscoped().count() == 1


def test_csrf_protected_post_works_with_its_token(rob, dns):
    client = Client(enforce_csrf_checks=True)
    client.login(email=rob.email, password=PASSWORD)
    page = client.get(reverse("wizard:start")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(reverse("wizard:claim"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert DomainClaim.objects.unscoped().filter(claimant=rob).exists()


@pytest.mark.parametrize("name", POSTS)
def test_posts_only(rob_client, name):
    assert rob_client.get(reverse(name)).status_code == 405


def test_step_3_in_french(rob_client, dns):
    rob_client.cookies["django_language"] = "fr"
    rob_client.post(reverse("wizard:claim"))
    page = text(rob_client.get(reverse("wizard:domain")))
    assert "Confirmer la propriété du domaine" in page
    assert "Copier" in page
    assert "Vérifier maintenant" in page
