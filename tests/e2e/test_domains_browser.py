"""An admin adds a second domain in the admin centre, proves it with its DNS record, and sees
the people of the merged organisation; in English and in French."""

import re
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Meeting
from meetings.services import schedule_meeting
from tenancy.models import Membership, Tenant, TenantDomain
from tests.factories import member
from tests.fixtures.purchases import managed_tenant

from .journeys import (
    assert_accessible,
    assert_french,
    english_strings,
    reauthenticate,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "locale": "en-GB",
        "apps": "Apps",
        "domains": "Domains",
        "add": "Add and prove it",
        "record_added": "I've added the record",
        "added": "Domain added",
        "waits": "Member, waits for a licence",
        "back": "Back to the domains",
        "verified": "Verified",
    },
    "fr": {
        "locale": "fr-FR",
        "apps": "Applications",
        "domains": "Domaines",
        "add": "L'ajouter et le prouver",
        "record_added": "J'ai ajouté l'enregistrement",
        "added": "Domaine ajouté",
        "waits": "Membre, attend une licence",
        "back": "Retour aux domaines",
        "verified": "Vérifié",
    },
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_admin_adds_a_second_domain_proves_it_and_sees_the_merged_members(
    new_page, live_server, localstripe, dns, language
):
    texts = TEXTS[language]
    english = english_strings() if language == "fr" else None
    secret = generate_totp_secret()
    rob_user, _people, _subscription = managed_tenant(
        localstripe, "contoso.test", totp_secret=secret
    )
    fay = member("fay@fabrikam.test", name="Fay Durand")
    member("gus@fabrikam.test", name="Gus Martin")
    schedule_meeting(
        organiser=fay,
        title="Fabrikam weekly",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass="organisation",
        anonymous_join_allowed=False,
        recording_allowed=True,
    )
    fabrikam = fay.membership.tenant

    rob = new_page(locale=texts["locale"])
    sign_in(rob, "rob@contoso.test", totp_secret=secret)
    rob.get_by_text(texts["apps"], exact=True).click()
    rob.locator(".launcher .tile-admin").click()
    rob.wait_for_url(re.compile(r"/admin/$"))
    rob.locator(".portal-nav").get_by_role("link", name=texts["domains"]).click()
    rob.wait_for_url(re.compile(r"/admin/domains/$"))
    assert_accessible(rob)
    if english:
        assert_french(rob, english)
    rob.locator("input[name=domain]").fill("fabrikam.test")
    rob.get_by_role("button", name=texts["add"]).click()
    reauthenticate(rob)  # adding a domain is a sensitive change: the kept POST then runs
    rob.wait_for_url(re.compile(r"/admin/domains/proofs/\d+/$"))
    assert_accessible(rob)
    if english:
        assert_french(rob, english)
    record = rob.get_by_test_id("record-value").text_content().strip()
    rob.evaluate("document.body.dataset.sameDocument = 'yes'")

    dns.set_txt("fabrikam.test", "v=spf1 -all", record)
    rob.get_by_role("button", name=texts["record_added"]).click()

    status = rob.get_by_test_id("claim-status")
    expect(status).to_contain_text(texts["added"])
    assert rob.evaluate("document.body.dataset.sameDocument") == "yes"  # no reload
    people = rob.get_by_test_id("merged-people")
    expect(people.locator("tr[data-email='fay@fabrikam.test']")).to_contain_text("Fay Durand")
    expect(people.locator("tr[data-email='gus@fabrikam.test']")).to_contain_text(texts["waits"])
    expect(rob.get_by_test_id("waiting-for-licence")).to_be_visible()
    if english:
        assert_french(rob, english)
    screenshot(rob, f"domains-{language}-merged")
    rob.get_by_role("link", name=texts["back"]).click()
    added = rob.locator("tr[data-domain='fabrikam.test']")
    expect(added).to_contain_text(texts["verified"])
    expect(rob.get_by_test_id("merge")).to_contain_text("Fay Durand")
    assert_accessible(rob)

    contoso = rob_user.membership.tenant
    assert TenantDomain.objects.unscoped().get(domain="fabrikam.test").tenant == contoso
    assert set(
        Membership.objects.unscoped()
        .filter(user__email__endswith="@fabrikam.test")
        .values_list("tenant", flat=True)
    ) == {contoso.pk}
    assert Meeting.objects.unscoped().get(title="Fabrikam weekly").tenant == contoso
    assert Tenant.objects.get(pk=fabrikam.pk).state == Tenant.State.CLOSED
