"""After the upgrade: each member present gets a Getting started mail linking to a page that
says what changed for them, and a card on their home page until they dismiss it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from licensing.plans import plan_by_key
from licensing.services.seats import unassign_licence
from tenancy.models import Tenant
from tenancy.services.policies import set_policy
from tests.factories import member
from tests.fixtures.purchases import verified_claim
from tests.wizard.test_licences import buy_through_the_page, open_step_4
from wizard.models import Welcome
from wizard.services import welcome_members
from wizard.tasks import requeue_unmailed_welcomes, send_welcome_mails

pytestmark = pytest.mark.django_db
PAGE = reverse("wizard:getting_started")
CARD = 'data-testid="getting-started-card"'


@pytest.fixture
def upgraded(localstripe, django_capture_on_commit_callbacks):
    """contoso.com upgraded through the wizard's Buy: (rob, sara, tenant, callbacks)."""
    rob = member("rob@contoso.com", name="Rob Martin")
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    verified_claim(rob)
    client = Client()
    with django_capture_on_commit_callbacks() as callbacks:
        response = buy_through_the_page(client, localstripe, open_step_4(client, rob))
    assert response["Location"] == reverse("wizard:done")
    tenant = Tenant.objects.get()
    return rob, sara, tenant, callbacks


def signed_in(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_the_upgrade_mails_every_member_a_link_to_getting_started(upgraded):
    rob, sara, tenant, callbacks = upgraded
    assert sorted(Welcome.objects.unscoped().values_list("user__email", flat=True)) == [
        rob.email,
        sara.email,
    ]
    mail.outbox.clear()
    for callback in callbacks:  # queues the mail task (the broker is real; no worker here)
        callback()
    assert send_welcome_mails(tenant.pk) == 0  # what the worker runs with the queued task
    assert send_welcome_mails(tenant.pk) == 0  # a redelivered task mails nobody twice
    assert sorted(m.to[0] for m in mail.outbox) == [rob.email, sara.email]
    to_sara = next(m for m in mail.outbox if m.to == [sara.email])
    assert to_sara.subject == "Getting started: contoso.com is now managed in Quorum"
    assert f"http://testserver{PAGE}" in to_sara.body
    assert "You have a licence" in to_sara.body
    assert "Your admin: Rob Martin <rob@contoso.com>" in to_sara.body
    assert welcome_members(tenant=tenant, base_url="http://testserver/") == 0
    assert Welcome.objects.unscoped().count() == 2


def test_the_mail_speaks_each_members_language(upgraded):
    _rob, sara, tenant, _callbacks = upgraded
    settings = sara.meeting_settings
    settings.language, settings.customised = "fr", [*settings.customised, "language"]
    settings.save()
    mail.outbox.clear()
    send_welcome_mails(tenant.pk)
    to_sara = next(m for m in mail.outbox if m.to == [sara.email])
    assert to_sara.subject == "Bien démarrer : contoso.com est désormais géré dans Quorum"
    assert "Vous avez une licence" in to_sara.body


def test_the_page_says_what_changed_for_each_member(upgraded):
    rob, sara, tenant, _callbacks = upgraded
    cap = plan_by_key("essentials").meeting_cap
    page = signed_in(sara).get(PAGE).content.decode()
    assert "You have a Business Essentials licence." in page
    assert f"Your meetings can now hold up to {cap} people." in page
    assert "Your admin:" in page and "Rob Martin (rob@contoso.com)" in page
    assert "Your personal meeting settings were kept" in page
    assert reverse("meetings:settings") in page
    assert reverse("portal:dashboard") not in page

    unassign_licence(tenant=tenant, actor=rob, user=sara)
    set_policy(tenant=tenant, actor=rob, max_cap=cap, values={"recording_allowed": False})
    page = signed_in(sara).get(PAGE).content.decode()
    assert "You are waiting for a licence" in page
    assert "a licence makes them larger" in page
    assert "Your admin now sets some of them for everyone: recording allowed." in page

    admin_page = signed_in(rob).get(PAGE).content.decode()
    assert "You are an admin of your organisation, on Business Essentials." in admin_page
    assert reverse("portal:dashboard") in admin_page

    french = signed_in(sara, "fr").get(PAGE).content.decode()
    assert "Bien démarrer" in french
    assert "Vous attendez une licence" in french


def test_the_home_page_card_shows_until_dismissed(upgraded):
    _rob, sara, _tenant, _callbacks = upgraded
    client = signed_in(sara)
    home = client.get(reverse("tenancy:home")).content.decode()
    assert CARD in home and PAGE in home
    assert client.get(reverse("tenancy:home")).content.decode().count(CARD) == 1
    assert client.get(reverse("wizard:dismiss_getting_started")).status_code == 405
    response = client.post(reverse("wizard:dismiss_getting_started"))
    assert response["Location"] == reverse("tenancy:home")
    assert Welcome.objects.unscoped().get(user=sara).dismissed_at is not None
    home = client.get(reverse("tenancy:home")).content.decode()
    assert CARD not in home
    assert PAGE in home  # the page itself stays one click away
    assert signed_in(sara).get(reverse("tenancy:home")).content.decode().count(CARD) == 0


def test_someone_who_joined_later_finds_the_page_but_gets_no_card(upgraded):
    li = member("li@contoso.com", name="Li Wei")
    home = signed_in(li).get(reverse("tenancy:home")).content.decode()
    assert CARD not in home
    assert PAGE in home
    assert signed_in(li).get(PAGE).status_code == 200


def test_a_free_tenants_member_has_no_getting_started(db):
    ann = member("ann@tailspin.com")
    client = signed_in(ann)
    assert PAGE not in client.get(reverse("tenancy:home")).content.decode()
    assert client.get(PAGE)["Location"] == reverse("tenancy:home")
    assert Client().get(PAGE)["Location"].startswith(reverse("account_login"))


def test_mails_whose_task_was_lost_are_sent_by_the_beat_job(upgraded):
    _rob, _sara, tenant, _callbacks = upgraded
    assert requeue_unmailed_welcomes() == 0  # too recent: their own task may still run
    Welcome.objects.unscoped().update(created_at=timezone.now() - timedelta(minutes=5))
    assert requeue_unmailed_welcomes() == 1
    send_welcome_mails(tenant.pk)
    assert requeue_unmailed_welcomes() == 0
