"""The product as people walk it, in Debian's Chromium, against the live server with the real
PostgreSQL, DNS server, localstripe (and its Stripe.js) and, where a task runs, Celery."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from licensing.models import Licence, Subscription
from meetings.models import Meeting, MeetingSettings, Participant
from meetings.selectors import participant_cap
from meetings.services import join_meeting, update_personal_settings
from tenancy.models import Membership, Tenant
from tests.factories import member

from .journeys import (
    assert_accessible,
    assert_french,
    english_strings,
    enrol_authenticator_app,
    fill_card,
    run_wizard_to_the_end,
    screenshot,
    sign_in,
    sign_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENGLISH = {"step2": "Run the wizard", "confirmed": "Domain confirmed"}
FRENCH = {"step2": "Lancer l'assistant", "confirmed": "Domaine confirmé"}


def schedule(page, title):
    page.goto("/meetings/new/")
    page.locator("input[name=title]").fill(title)
    page.locator("input[name=starts_at]").fill("2031-01-15T10:00")
    page.locator("input[name=ends_at]").fill("2031-01-15T11:00")
    page.locator("main form button[type=submit]").last.click()
    return page.get_by_test_id("join-link").text_content().strip()


def join(page, link):
    page.goto(link)
    page.get_by_role("button", name=re.compile(r"^Join as ")).click()


def test_journey_1_sign_up_meet_and_the_free_cap_after_60_days(new_page, live_server):
    rob, sara = new_page(), new_page()
    sign_up(rob, name="Rob Martin", email="rob@contoso.test")
    screenshot(rob, "1-signed-up")
    sign_up(sara, name="Sara Lefèvre", email="sara@contoso.test")
    tenant = Tenant.objects.get(domain="contoso.test")
    assert Membership.objects.unscoped().filter(tenant=tenant).count() == 2

    link = schedule(rob, "Weekly sync")
    join(sara, link)
    expect(sara.get_by_text("You are in the meeting as")).to_be_visible()
    meeting = Meeting.objects.unscoped().get(title="Weekly sync")

    for name in ("tom", "eve"):
        member(f"{name}@contoso.test", name=name.title())
    # 61 days later on the server: the free plan now allows 3 people in Rob's meetings.
    with time_machine.travel(timezone.now() + timedelta(days=61), tick=True):
        tom, eve = new_page(), new_page()
        sign_in(rob, "rob@contoso.test")
        join(rob, link)
        sign_in(tom, "tom@contoso.test")
        join(tom, link)
        expect(tom.get_by_text("You are in the meeting as")).to_be_visible()
        sign_in(eve, "eve@contoso.test")
        eve.goto(link)
        eve.get_by_role("button", name=re.compile(r"^Join as ")).click()
        expect(eve.get_by_test_id("meeting-full")).to_contain_text(
            "the free plan allows 3 people after 60 days"
        )
    present = Participant.objects.unscoped().filter(meeting=meeting, left_at__isnull=True)
    assert sorted(present.values_list("display_name", flat=True)) == [
        "Rob Martin",
        "Sara Lefèvre",
        "Tom",
    ]


def contoso_with_customised_settings():
    rob = member("rob@contoso.test", name="Rob Martin")
    sara = member("sara@contoso.test", name="Sara Lefèvre")
    update_personal_settings(
        user=sara,
        values={"default_duration_minutes": 50, "time_zone": "Europe/Paris", "language": "fr"},
    )
    before = {
        settings_row.user_id: {f: getattr(settings_row, f) for f in MeetingSettings.PERSONAL_FIELDS}
        for settings_row in MeetingSettings.objects.filter(user__in=(rob, sara))
    }
    return rob, sara, before


def assert_upgraded(rob, sara, before, *, plan):
    subscription = Subscription.objects.unscoped().get(tenant__domain="contoso.test")
    assert (subscription.plan, subscription.quantity, subscription.status) == (plan, 2, "active")
    assert set(Licence.objects.unscoped().values_list("user__email", flat=True)) == {
        "rob@contoso.test",
        "sara@contoso.test",
    }
    assert Membership.objects.unscoped().get(user=rob).role == Membership.Role.ADMIN
    for user in (rob, sara):
        settings_row = MeetingSettings.objects.get(user=user)
        after = {f: getattr(settings_row, f) for f in MeetingSettings.PERSONAL_FIELDS}
        assert after == before[user.pk]
    assert participant_cap(sara) > 10


def test_journey_2_admin_tile_wizard_to_admin_with_two_licences(
    new_page, live_server, dns, localstripe
):
    rob_user, sara_user, before = contoso_with_customised_settings()
    rob = new_page()
    sign_in(rob, "rob@contoso.test")
    rob.get_by_text("Apps", exact=True).click()
    rob.locator(".launcher .tile-admin").click()
    rob.wait_for_url(re.compile(r"/upgrade/\?entry=admin$"))
    assert_accessible(rob)
    run_wizard_to_the_end(rob, dns=dns, domain="contoso.test", texts=ENGLISH, shots="step-")
    rob.wait_for_url(re.compile(r"/upgrade/done/$"))
    expect(rob.locator("h1")).to_have_text("You are now the admin of contoso.test")
    expect(rob.get_by_test_id("next-two-factor")).to_contain_text(
        "Next: set up two-factor authentication"
    )
    screenshot(rob, "step-5-admin")
    assert_accessible(rob)
    assert_upgraded(rob_user, sara_user, before, plan="essentials")
    # The admin centre waits for a second factor.
    rob.goto("/admin/")
    rob.wait_for_url(re.compile(r"/accounts/2fa/$"))
    expect(rob.locator(".messages")).to_contain_text("Admins sign in with a second factor.")
    assert_accessible(rob)
    enrol_authenticator_app(rob, check=assert_accessible)

    # Sara's next meeting takes more than 10 people.
    sara = new_page()
    sign_in(sara, "sara@contoso.test")
    link = schedule(sara, "All hands")
    meeting = Meeting.objects.unscoped().get(title="All hands")
    for index in range(11):
        join_meeting(meeting=meeting, user=member(f"guest{index}@contoso.test"))
    join(rob, link)
    expect(rob.get_by_text("You are in the meeting as")).to_be_visible()
    assert (
        Participant.objects.unscoped().filter(meeting=meeting, left_at__isnull=True).count() == 12
    )

    for path in ("/admin/", "/admin/licences/", "/admin/subscription/"):
        rob.goto(path)
        assert_accessible(rob)


def test_journey_3_upgrade_from_meetings_buys_premium_after_a_declined_card(
    new_page, live_server, dns, localstripe
):
    rob_user, sara_user, before = contoso_with_customised_settings()
    rob = new_page()
    sign_in(rob, "rob@contoso.test")
    rob.goto("/meetings/")
    rob.get_by_role("link", name="Upgrade").first.click()
    rob.wait_for_url(re.compile(r"/upgrade/\?entry=meetings$"))
    run_wizard_to_the_end(
        rob,
        dns=dns,
        domain="contoso.test",
        texts=ENGLISH,
        card="4000000000000002",
        plan_label="Business Premium",
    )
    expect(rob.locator("#card-errors")).to_contain_text("declined")
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED

    rob.reload()
    expect(rob.locator("#purchase-total")).to_have_text("12.00 EUR")
    rob.get_by_label(re.compile("Business Premium")).check()
    expect(rob.locator("#purchase-total")).to_have_text("25.00 EUR")
    fill_card(rob, "4242424242424242")
    rob.locator("#purchase-form button[type=submit]").click()
    rob.wait_for_url(re.compile(r"/upgrade/done/$"))
    assert_upgraded(rob_user, sara_user, before, plan="premium")
    assert [s.status for s in localstripe.subscriptions()] == ["active"]


def test_journey_5_the_wizard_in_french(new_page, live_server, dns, localstripe):
    rob_user, sara_user, before = contoso_with_customised_settings()
    english = english_strings()
    assert "Buy and become the admin" in english  # the detector knows our English
    rob = new_page(locale="fr-FR")
    sign_in(rob, "rob@contoso.test")
    assert_french(rob, english)
    rob.get_by_text("Applications", exact=True).click()
    rob.locator(".launcher .tile-admin").click()
    rob.wait_for_url(re.compile(r"/upgrade/\?entry=admin$"))
    assert_french(rob, english)
    rob.locator("form[action$='/upgrade/domain/claim/'] button[type=submit]").click()
    rob.wait_for_url(re.compile(r"/upgrade/domain/$"))
    assert_french(rob, english)
    rob.go_back()
    run_wizard_to_the_end(rob, dns=dns, domain="contoso.test", texts=FRENCH)
    rob.wait_for_url(re.compile(r"/upgrade/done/$"))
    expect(rob.locator("h1")).to_have_text("Vous êtes maintenant l’administrateur de contoso.test")
    assert_french(rob, english)
    rob.get_by_test_id("next-two-factor").get_by_role("link").click()
    french = english_strings(with_allauth=True)
    enrol_authenticator_app(rob, check=lambda page: assert_french(page, french))
    for path in (
        "/accounts/2fa/",
        "/accounts/2fa/webauthn/add/",
        "/accounts/sessions/",
        "/accounts/2fa/recovery-codes/",
    ):
        rob.goto(path)
        assert_french(rob, french)
    rob.goto("/accounts/2fa/webauthn/add/")
    expect(rob.get_by_label("Nom de la clé")).to_be_visible()  # one word escapes assert_french
    for path in (
        "/admin/",
        "/admin/users/",
        "/admin/licences/",
        "/admin/subscription/",
        "/admin/policies/",
        "/admin/announcements/new/",
        "/admin/audit/",
        "/meetings/",
        "/meetings/settings/",
    ):
        rob.goto(path)
        assert_french(rob, english)
    assert_upgraded(rob_user, sara_user, before, plan="essentials")
