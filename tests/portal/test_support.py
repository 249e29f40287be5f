"""Help & support: an admin opens a service request and follows it; the support staff answer
in Django's admin; the admin is mailed each answer, once; everything is audited."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from portal.models import SupportReply, SupportRequest
from portal.services import add_support_reply, open_support_request
from portal.tasks import mail_support_reply, requeue_unmailed_support_replies
from tenancy.models import AuditEvent
from tests.factories import member
from tests.fixtures.two_factor import enrol_totp, recently_signed_in

DJANGO_ADMIN = "/django-admin/"
REQUEST = {"subject": "No sound in meetings", "description": "Since 9:00.", "severity": "high"}


@pytest.fixture
def admin_client(contoso):
    return recently_signed_in(Client(), contoso[0])


@pytest.fixture
def staff_client(db):
    staff = member("ann@quorum-support.com", name="Ann Support", is_staff=True, is_superuser=True)
    enrol_totp(staff)  # staff need a second factor (tenancy.staff)
    client = Client()
    client.force_login(staff)
    return client


def test_an_admin_opens_a_request_and_sees_it_listed(admin_client, contoso):
    rob = contoso[0]
    response = admin_client.post(reverse("portal:support"), REQUEST)
    opened = SupportRequest.objects.unscoped().get()
    assert response["Location"] == reverse("portal:support_request", kwargs={"pk": opened.pk})
    assert (opened.tenant, opened.opened_by, opened.status) == (rob.membership.tenant, rob, "open")
    listing = admin_client.get(reverse("portal:support")).content.decode()
    assert "No sound in meetings" in listing
    assert "High: many people cannot work" in listing
    assert "Open: waiting for support" in listing
    page = admin_client.get(response["Location"]).content.decode()
    assert "Since 9:00." in page
    event = AuditEvent.objects.unscoped().get(action="support.request_opened")
    assert (event.actor, event.target, event.after["severity"]) == (rob, REQUEST["subject"], "high")


def test_the_page_speaks_french(admin_client):
    admin_client.post(reverse("portal:support"), REQUEST)
    page = admin_client.get(reverse("portal:support"), HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert "Aide et support" in html
    assert "Haute : beaucoup de personnes ne peuvent pas travailler" in html
    assert "Ouverte : en attente du support" in html


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"subject": ""}, "subject", "This field is required."),
        ({"subject": "   "}, "subject", "This field is required."),
        ({"subject": "x" * 201}, "subject", "at most 200 characters"),
        ({"subject": "Line\nbreak"}, "subject", "cannot contain line breaks"),
        ({"description": ""}, "description", "This field is required."),
        ({"description": "x" * 5001}, "description", "at most 5000 characters"),
        ({"severity": "apocalyptic"}, "severity", "Select a valid choice."),
        ({"severity": ""}, "severity", "This field is required."),
    ],
)
def test_bad_requests_are_refused_with_their_reason(admin_client, change, field, error):
    response = admin_client.post(reverse("portal:support"), {**REQUEST, **change})
    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors[field])
    assert not SupportRequest.objects.unscoped().exists()
    assert not AuditEvent.objects.unscoped().filter(action__startswith="support.").exists()


def test_another_tenants_request_is_not_found(contoso, fabrikam):
    rob, fay = contoso[0], fabrikam[0]
    opened = open_support_request(
        tenant=rob.membership.tenant, actor=rob, subject="Ours", description="x", severity="low"
    )
    fay_client = recently_signed_in(Client(), fay)
    url = reverse("portal:support_request", kwargs={"pk": opened.pk})
    assert fay_client.get(url).status_code == 404
    assert fay_client.post(url, {"body": "Hello"}).status_code == 404
    assert "Ours" not in fay_client.get(reverse("portal:support")).content.decode()
    assert not SupportReply.objects.unscoped().exists()


def test_a_member_who_is_not_admin_is_refused(contoso):
    sara = contoso[1][0]
    client = Client()
    client.force_login(sara)
    assert client.get(reverse("portal:support")).status_code == 403
    assert client.post(reverse("portal:support"), REQUEST).status_code == 403
    assert not SupportRequest.objects.unscoped().exists()


def _staff_answer(staff_client, opened, *, body, status):
    return staff_client.post(
        f"{DJANGO_ADMIN}portal/supportrequest/{opened.pk}/change/",
        {
            "status": status,
            "replies-TOTAL_FORMS": "1",
            "replies-INITIAL_FORMS": "0",
            "replies-MIN_NUM_FORMS": "0",
            "replies-MAX_NUM_FORMS": "1000",
            "replies-0-body": body,
            "_save": "Save",
        },
    )


def test_staff_answer_in_the_django_admin_and_the_admin_is_mailed_once(
    admin_client, staff_client, contoso, django_capture_on_commit_callbacks
):
    rob = contoso[0]
    admin_client.post(reverse("portal:support"), REQUEST)
    opened = SupportRequest.objects.unscoped().get()
    listing = staff_client.get(f"{DJANGO_ADMIN}portal/supportrequest/")
    assert "No sound in meetings" in listing.content.decode()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _staff_answer(
            staff_client, opened, body="Fixed: please try again.", status="waiting"
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(callbacks) == 1  # the mail task, queued once the reply is committed
    reply = SupportReply.objects.unscoped().get()
    assert (reply.from_support, reply.author.email, reply.mailed_at) == (
        True,
        "ann@quorum-support.com",
        None,
    )
    # What the worker does with the queued task; a redelivered task sends nothing again.
    assert mail_support_reply(reply.pk) is True
    assert mail_support_reply(reply.pk) is False
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [rob.email]
    assert "No sound in meetings" in sent.subject
    assert "Fixed: please try again." in sent.body
    assert f"/admin/support/{opened.pk}/" in sent.body
    assert "Waiting for your answer" in sent.body

    page = admin_client.get(reverse("portal:support_request", kwargs={"pk": opened.pk}))
    html = page.content.decode()
    assert "Fixed: please try again." in html
    assert "Waiting for your answer" in html
    actions = list(
        AuditEvent.objects.unscoped()
        .filter(action__startswith="support.")
        .order_by("id")
        .values_list("action", "before", "after")
    )
    assert actions == [
        ("support.request_opened", {}, {"request": opened.pk, "severity": "high"}),
        ("support.status_changed", {"status": "open"}, {"status": "waiting"}),
        ("support.answered", {}, {"request": opened.pk}),
    ]


def test_the_mail_speaks_the_admins_language(contoso, django_capture_on_commit_callbacks):
    rob = contoso[0]
    settings = rob.meeting_settings
    settings.language = "fr"
    settings.customised = [*settings.customised, "language"]
    settings.save()
    opened = open_support_request(
        tenant=rob.membership.tenant, actor=rob, subject="Son", description="x", severity="low"
    )
    staff = member("ann@quorum-support.com", is_staff=True)
    reply = add_support_reply(
        support_request=opened,
        author=staff,
        body="Réglé.",
        from_support=True,
        base_url="https://quorum.example/",
    )
    mail.outbox.clear()
    with translation.override("en"):
        mail_support_reply(reply.pk)
    assert "Le support a répondu à votre demande « Son »" in mail.outbox[0].subject
    assert "https://quorum.example/admin/support/" in mail.outbox[0].body


def test_a_staff_reply_whose_task_was_lost_is_mailed_by_the_beat_job(contoso):
    rob = contoso[0]
    opened = open_support_request(
        tenant=rob.membership.tenant, actor=rob, subject="Son", description="x", severity="low"
    )
    staff = member("ann@quorum-support.com", is_staff=True)
    reply = add_support_reply(
        support_request=opened, author=staff, body="Done.", from_support=True, base_url="/"
    )
    assert requeue_unmailed_support_replies() == 0  # too recent: its own task may still run
    SupportReply.objects.unscoped().filter(pk=reply.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert requeue_unmailed_support_replies() == 1
    mail_support_reply(reply.pk)
    assert requeue_unmailed_support_replies() == 0


def test_an_admin_replies_and_support_is_not_mailed_back(admin_client, contoso):
    admin_client.post(reverse("portal:support"), REQUEST)
    opened = SupportRequest.objects.unscoped().get()
    url = reverse("portal:support_request", kwargs={"pk": opened.pk})
    mail.outbox.clear()
    assert admin_client.post(url, {"body": ""}).status_code == 400
    assert admin_client.post(url, {"body": "x" * 5001}).status_code == 400
    assert admin_client.post(url, {"body": "Still broken."})["Location"] == url
    reply = SupportReply.objects.unscoped().get()
    assert (reply.from_support, reply.author) == (False, contoso[0])
    assert mail_support_reply(reply.pk) is False
    assert mail.outbox == []
    assert AuditEvent.objects.unscoped().filter(action="support.admin_replied").count() == 1
