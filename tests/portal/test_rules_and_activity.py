import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from meetings.exceptions import GuestJoinRefusedError, MeetingFullError
from meetings.models import Meeting
from meetings.services import join_meeting, schedule_meeting
from tenancy.exceptions import TenancyError
from tenancy.models import Announcement, AnnouncementDelivery, AuditEvent, Policy, Tenant
from tenancy.selectors import announcement_progress
from tenancy.services.announcements import create_announcement, send_announcement_batch
from tenancy.tasks import requeue_unfinished_announcements, send_announcement
from tests.factories import member
from tests.fixtures.two_factor import recently_signed_in


@pytest.fixture
def admin_client(contoso):
    return recently_signed_in(Client(), contoso[0])


POLICY = {
    "form": "policy",
    "max_meeting_size": "3",
    "lobby_bypass": "organisation",
    "recording_allowed": "false",
    "anonymous_join_allowed": "false",
}


def schedule(organiser, **options):
    return schedule_meeting(
        organiser=organiser,
        title="Plan",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass=options.get("lobby_bypass", "everyone"),
        anonymous_join_allowed=options.get("anonymous_join_allowed", True),
        recording_allowed=options.get("recording_allowed", True),
    )


def test_a_policy_set_in_the_portal_applies_at_schedule_and_at_join(admin_client, contoso):
    rob, (sara,), _subscription = contoso
    response = admin_client.post(reverse("portal:policies"), POLICY)
    assert response.status_code == 302
    policy = Policy.objects.unscoped().get()
    assert (policy.max_meeting_size, policy.recording_allowed) == (3, False)

    meeting = schedule(sara)  # Sara asks for recording and guests: the policy says no
    assert (meeting.recording_allowed, meeting.anonymous_join_allowed) == (False, False)
    assert meeting.lobby_bypass == "organisation"

    with pytest.raises(GuestJoinRefusedError):
        join_meeting(meeting=meeting, display_name="A guest")
    join_meeting(meeting=meeting, user=rob)
    join_meeting(meeting=meeting, user=member("tom@contoso.com"))
    with pytest.raises(MeetingFullError):
        join_meeting(meeting=meeting, user=member("eve@contoso.com"))

    page = Client()
    page.force_login(sara)
    settings_page = page.get(reverse("meetings:settings")).content.decode()
    assert "Fixed by your organisation&#x27;s admin" in settings_page
    event = AuditEvent.objects.unscoped().get(action="policy.changed")
    assert event.after["max_meeting_size"] == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_meeting_size", "301"),
        ("max_meeting_size", "1"),
        ("max_meeting_size", "abc"),
        ("lobby_bypass", "anyone-at-all"),
        ("recording_allowed", "maybe"),
    ],
)
def test_a_bad_policy_is_refused_and_changes_nothing(admin_client, contoso, field, value):
    response = admin_client.post(reverse("portal:policies"), {**POLICY, field: value})
    assert response.status_code == 400
    assert not Policy.objects.unscoped().exists()
    assert not AuditEvent.objects.unscoped().filter(action="policy.changed").exists()


@pytest.mark.parametrize("form", ["", "policies", "signup ", "SIGNUP", "<b>x</b>", None])
def test_an_unknown_form_is_a_400_with_a_message_and_saves_nothing(admin_client, contoso, form):
    admin_client.post(reverse("portal:policies"), POLICY, follow=True)
    events = AuditEvent.objects.unscoped().count()
    # Empty fields would free every policy if they were read as the policy form.
    data = {"max_meeting_size": "", "recording_allowed": "", "signup_mode": "refused"}
    if form is not None:
        data["form"] = form
    response = admin_client.post(reverse("portal:policies"), data)
    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [
        "Unknown form: nothing was saved. Reload the page and try again."
    ]
    policy = Policy.objects.unscoped().get()
    assert (policy.max_meeting_size, policy.recording_allowed) == (3, False)
    assert Tenant.objects.get(domain="contoso.com").signup_mode == "licence_if_free"
    assert AuditEvent.objects.unscoped().count() == events


def test_an_empty_value_frees_a_policy(admin_client, contoso):
    admin_client.post(reverse("portal:policies"), POLICY)
    admin_client.post(reverse("portal:policies"), {**POLICY, "recording_allowed": ""})
    assert Policy.objects.unscoped().get().recording_allowed is None
    assert Meeting.objects.unscoped().count() == 0


def test_the_audit_log_filters_and_is_read_only(admin_client, contoso):
    admin_client.post(reverse("portal:policies"), POLICY)
    page = admin_client.get(reverse("portal:audit"), {"action": "policy"})
    events = page.context["events"]
    assert [event.action for event in events] == ["policy.changed"]
    everyone = admin_client.get(reverse("portal:audit")).context["events"]
    assert {"tenant.upgraded", "policy.changed"} <= {event.action for event in everyone}
    by_nobody = admin_client.get(reverse("portal:audit"), {"actor": "nobody@"}).context["events"]
    assert by_nobody == []
    assert admin_client.get(reverse("portal:audit"), {"since": "not-a-date"}).status_code == 400
    assert admin_client.post(reverse("portal:audit")).status_code == 405


def test_announcement_preview_then_send(admin_client, contoso, django_capture_on_commit_callbacks):
    form = admin_client.get(reverse("portal:announce")).context["form"]
    assert "contoso.com" in form.initial["subject"]
    data = {"subject": "We moved", "body": "Hello <b>all</b>", "recipients": "all"}
    preview = admin_client.post(reverse("portal:announce"), {**data, "step": "preview"})
    assert "Hello &lt;b&gt;all&lt;/b&gt;" in preview.content.decode()
    assert not Announcement.objects.unscoped().exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = admin_client.post(reverse("portal:announce"), {**data, "step": "send"})
    announcement = Announcement.objects.unscoped().get()
    assert sent["Location"] == reverse("portal:announcement", kwargs={"pk": announcement.pk})
    progress = admin_client.get(sent["Location"])
    assert progress.context["progress"].total == 2


def test_announcement_to_selected_members(admin_client, contoso):
    _rob, (sara,), _subscription = contoso
    selected = {"subject": "Hi", "body": "Sara only", "recipients": "selected", "step": "send"}
    admin_client.post(reverse("portal:announce"), {**selected, "user": [sara.pk]})
    deliveries = AnnouncementDelivery.objects.unscoped().all()
    assert [d.user_id for d in deliveries] == [sara.pk]


@pytest.mark.parametrize(
    "chosen",
    [
        [],  # "the selected members" with nobody selected
        ["outsider"],  # another tenant's member
        ["sara", "outsider"],
        ["999999"],  # nobody's id
        ["not-a-number"],
    ],
)
def test_announcement_to_a_bad_selection_is_refused_and_writes_nothing(
    admin_client, contoso, chosen
):
    _rob, (sara,), _subscription = contoso
    outsider = member("eve@fabrikam.com")
    ids = {"sara": sara.pk, "outsider": outsider.pk}
    response = admin_client.post(
        reverse("portal:announce"),
        {
            "subject": "Hi",
            "body": "Hello",
            "recipients": "selected",
            "user": [ids.get(name, name) for name in chosen],
            "step": "send",
        },
    )
    assert response.status_code in (200, 400)  # the form again, with its message
    assert not Announcement.objects.unscoped().exists()
    assert not AnnouncementDelivery.objects.unscoped().exists()
    page = response.content.decode()
    assert "Choose at least one member" in page or "Only members" in page or "Select" in page


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Hi\r\nBcc: everyone@example.com", "Hello"),
        ("Hi\nthere", "Hello"),
        ("Hi\x00", "Hello"),
        ("Hi", "Hello\x00world"),
        ("Hi\x1b[31m", "Hello"),
    ],
)
def test_control_characters_are_refused_when_the_announcement_is_written(contoso, subject, body):
    rob, _people, subscription = contoso
    with pytest.raises(TenancyError, match="control characters"):
        create_announcement(tenant=subscription.tenant, actor=rob, subject=subject, body=body)
    assert not Announcement.objects.unscoped().exists()


def test_line_breaks_and_tabs_in_the_body_are_kept(contoso):
    rob, _people, subscription = contoso
    announcement = create_announcement(
        tenant=subscription.tenant, actor=rob, subject="Hi", body="Line one\r\n\tLine two"
    )
    assert announcement.body == "Line one\r\n\tLine two"


@pytest.mark.django_db(transaction=True)
def test_a_mail_refused_for_good_is_marked_failed_counted_and_never_retried(
    localstripe, mailbox, settings
):
    """A recipient the mail server refuses (550) and an old announcement whose subject cannot
    be a header: each delivery fails once, is shown, and the announcement finishes."""
    from tests.fixtures.purchases import managed_tenant

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": mailbox.port},
        }
    }
    rob, people, _subscription = managed_tenant(
        localstripe, "contoso.com", others=["p0", "p1", "p2"]
    )
    mailbox.refused = {people[1].email}
    announcement = create_announcement(
        tenant=rob.membership.tenant, actor=rob, subject="Moved", body="Hello"
    )
    assert send_announcement_batch(announcement_id=announcement.pk, batch_size=10) == 0
    assert send_announcement_batch(announcement_id=announcement.pk, batch_size=10) == 0
    [failed] = AnnouncementDelivery.objects.unscoped().filter(failed_at__isnull=False)
    assert failed.user == people[1]
    assert failed.failure.startswith("550")
    assert sorted(a for m in mailbox.messages for a in m["to"]) == sorted(
        [rob.email, people[0].email, people[2].email]
    )
    announcement.refresh_from_db()
    assert announcement.finished_at is not None
    rob_client = Client()
    rob_client.force_login(rob)
    page = rob_client.get(reverse("portal:announcement", kwargs={"pk": announcement.pk}))
    assert page.context["progress"] == announcement_progress(announcement)
    assert (page.context["progress"].mailed, page.context["progress"].failed) == (3, 1)
    assert 'data-testid="failed"' in page.content.decode()
    assert requeue_unfinished_announcements() == 0

    # Written before control characters were refused: every delivery fails, once.
    legacy = Announcement.objects.unscoped().create(
        tenant=rob.membership.tenant, author=rob, subject="Hi\r\nBcc: x@example.com", body="b"
    )
    AnnouncementDelivery.objects.unscoped().create(
        tenant=legacy.tenant, announcement=legacy, user=rob
    )
    assert send_announcement_batch(announcement_id=legacy.pk, batch_size=10) == 0
    assert AnnouncementDelivery.objects.unscoped().get(announcement=legacy).failed_at is not None
    legacy.refresh_from_db()
    assert legacy.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_each_member_is_mailed_exactly_once_even_when_the_task_runs_again(localstripe):
    from tests.fixtures.purchases import managed_tenant

    rob, people, _subscription = managed_tenant(
        localstripe, "contoso.com", others=[f"p{i}" for i in range(5)]
    )
    announcement = create_announcement(
        tenant=rob.membership.tenant, actor=rob, subject="Moved", body="Hello"
    )
    mail.outbox.clear()
    assert send_announcement_batch(announcement_id=announcement.pk, batch_size=4) == 2
    # A retry, a redelivery and the next batch all run: nobody gets a second mail.
    send_announcement.apply(args=[announcement.pk])
    send_announcement.apply(args=[announcement.pk])
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted([rob.email] + [p.email for p in people])
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 6
    announcement.refresh_from_db()
    assert announcement.finished_at is not None


@pytest.mark.worker
def test_the_real_worker_mails_every_member_once(celery_worker, mailbox, localstripe):
    from tests.fixtures.purchases import managed_tenant

    rob, people, _subscription = managed_tenant(
        localstripe, "contoso.com", others=[f"p{i}" for i in range(4)]
    )
    announcement = create_announcement(
        tenant=rob.membership.tenant, actor=rob, subject="Moved", body="Hello"
    )
    send_announcement.delay(announcement.pk)
    send_announcement.delay(announcement.pk)  # a duplicate message changes nothing
    deadline = time.monotonic() + 30
    while (
        len(mailbox.messages) < 5
        or AnnouncementDelivery.objects.unscoped().filter(sent_at__isnull=True).exists()
    ):
        assert time.monotonic() < deadline, "the worker did not send the announcement"
        time.sleep(0.2)
    time.sleep(1)  # room for a wrong second mail to arrive
    recipients = sorted(address for message in mailbox.messages for address in message["to"])
    assert recipients == sorted([rob.email] + [p.email for p in people])
    assert {message["subject"] for message in mailbox.messages} == {"Moved"}


def test_the_default_announcement_states_the_plans_meeting_cap(admin_client, contoso, settings):
    settings.QUORUM_PLANS = {
        key: {**plan, "meeting_cap": 250} for key, plan in settings.QUORUM_PLANS.items()
    }
    body = admin_client.get(reverse("portal:announce")).context["form"].initial["body"]
    assert "your meetings now take up to 250 people" in body


@pytest.mark.parametrize("selected", ["²", "٣", "9" * 19, "9" * 5000, "-1"])
def test_selected_ids_that_are_no_numbers_are_a_400_not_a_500(admin_client, contoso, selected):
    response = admin_client.post(
        reverse("portal:announce"),
        {"subject": "News", "body": "Hello", "recipients": "all", "user": [selected]},
    )
    assert response.status_code == 400
    assert not Announcement.objects.unscoped().exists()
