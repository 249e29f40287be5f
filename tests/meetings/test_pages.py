import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, MeetingSettings, Participant
from meetings.selectors import upcoming_and_past_meetings
from tenancy.models import Policy
from tests.factories import member

pytestmark = pytest.mark.django_db


def schedule_data(**overrides):
    data = {
        "title": "Project kickoff",
        "starts_at": "2030-05-06T10:00",
        "ends_at": "2030-05-06T10:45",
        "lobby_bypass": "organisation",
        "anonymous_join_allowed": "on",
        "recording_allowed": "on",
    }
    data.update(overrides)
    return data


def test_schedule_in_the_organisers_time_zone_then_list_it(client, rob):
    MeetingSettings.objects.filter(user=rob).update(time_zone="Europe/Paris")
    client.force_login(rob)
    response = client.post(reverse("meetings:schedule"), schedule_data())
    meeting = Meeting.objects.unscoped().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:join", args=[meeting.join_token])
    assert meeting.organiser == rob
    assert meeting.tenant == rob.membership.tenant
    assert meeting.duration_minutes == 45
    assert meeting.starts_at.isoformat() == "2030-05-06T08:00:00+00:00"  # 10:00 in Paris (CEST)

    page = client.get(reverse("meetings:list")).content.decode()
    assert "Project kickoff" in page
    assert f"{reverse('wizard:start')}?entry=meetings" in page


def test_the_schedule_form_names_the_time_zone_it_reads(client, rob):
    client.force_login(rob)
    assert "Times are in your time zone (UTC)." in client.get(reverse("meetings:schedule")).text
    MeetingSettings.objects.filter(user=rob).update(time_zone="Europe/Paris")
    page = client.get(reverse("meetings:schedule")).text
    assert "Times are in your time zone (Europe/Paris)." in page


def test_list_separates_upcoming_and_past(client, rob, meeting_of):
    meeting_of(rob, title="Tomorrow", starts_at=timezone.now() + timedelta(days=1))
    meeting_of(rob, title="Running", starts_at=timezone.now() - timedelta(minutes=10))
    meeting_of(rob, title="Last week", starts_at=timezone.now() - timedelta(days=7))
    meeting_of(rob, title="Ended", starts_at=timezone.now() - timedelta(minutes=40))
    client.force_login(rob)
    response = client.get(reverse("meetings:list"))
    assert [m.title for m in response.context["upcoming"]] == ["Running", "Tomorrow"]
    assert [m.title for m in response.context["past"]] == ["Ended", "Last week"]


def test_the_past_list_keeps_the_newest_meetings_up_to_its_limit_in_one_query(rob, meeting_of):
    now = timezone.now()
    meeting_of(rob, title="Tomorrow", starts_at=now + timedelta(days=1))
    meeting_of(rob, title="Ended", starts_at=now - timedelta(minutes=40))
    for days in (7, 3, 30, 14):
        meeting_of(rob, title=f"{days} days ago", starts_at=now - timedelta(days=days))
    with CaptureQueriesContext(connection) as queries:
        upcoming, past = upcoming_and_past_meetings(rob, past_limit=3)
    assert len(queries) == 1
    assert [m.title for m in upcoming] == ["Tomorrow"]
    assert [m.title for m in past] == ["Ended", "3 days ago", "7 days ago"]


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"ends_at": "2030-05-06T09:00"}, "ends_at", "The meeting must end after it starts."),
        ({"ends_at": "2030-05-06T10:00"}, "ends_at", "The meeting must end after it starts."),
        ({"ends_at": "2030-05-13T04:40"}, "ends_at", "A meeting lasts at most 24 hours."),
        ({"title": "x" * 10_000}, "title", "Ensure this value has at most 200 characters"),
        ({"title": "   "}, "title", "This field is required."),
        ({"starts_at": "yesterday"}, "starts_at", "Enter a valid date/time."),
        ({"title": "Sync\x00"}, "title", "Null characters are not allowed."),
    ],
)
def test_bad_meeting_input_is_a_form_error_and_saves_nothing(client, rob, overrides, field, error):
    client.force_login(rob)
    response = client.post(reverse("meetings:schedule"), schedule_data(**overrides))
    assert response.status_code == 200
    assert any(error in message for message in response.context["form"].errors[field])
    assert not Meeting.objects.unscoped().exists()


def test_a_10000_minute_meeting_is_refused(client, rob):
    # 2030-05-06 10:00 + 10,000 minutes = 2030-05-13 08:40.
    client.force_login(rob)
    response = client.post(reverse("meetings:schedule"), schedule_data(ends_at="2030-05-13T08:40"))
    assert response.context["form"].errors["ends_at"] == ["A meeting lasts at most 24 hours."]
    assert not Meeting.objects.unscoped().exists()


def test_a_non_organiser_cannot_see_edit_or_cancel_anothers_meeting(client, rob, meeting_of):
    meeting = meeting_of(rob)
    for intruder in (member("sara@contoso.com"), member("eve@fabrikam.com")):
        client.force_login(intruder)
        for name in ("meetings:edit", "meetings:cancel"):
            url = reverse(name, args=[meeting.pk])
            assert client.get(url).status_code == 404
            assert client.post(url, schedule_data(title="Hijacked")).status_code == 404
    meeting.refresh_from_db()
    assert meeting.title == "Weekly sync"
    assert meeting.cancelled_at is None


def test_the_organiser_edits_and_cancels(client, rob, meeting_of):
    meeting = meeting_of(rob)
    join_url = reverse("meetings:join", args=[meeting.join_token])
    client.force_login(rob)
    client.post(reverse("meetings:edit", args=[meeting.pk]), schedule_data(title="Renamed"))
    meeting.refresh_from_db()
    assert (meeting.title, meeting.duration_minutes) == ("Renamed", 45)

    sara = member("sara@contoso.com")
    Participant.objects.unscoped().create(
        meeting=meeting, tenant=meeting.tenant, user=sara, display_name="Sara"
    )
    assert client.post(reverse("meetings:cancel", args=[meeting.pk])).status_code == 302
    meeting.refresh_from_db()
    assert meeting.is_cancelled
    assert not Participant.objects.unscoped().filter(left_at__isnull=True).exists()
    client.force_login(sara)
    response = client.post(join_url)
    assert response.status_code == 410
    assert "This meeting was cancelled." in response.content.decode()


def test_join_tokens_are_unguessable_and_distinct(rob, meeting_of):
    tokens = [meeting_of(rob).join_token for _ in range(50)]
    tokens.append(MeetingSettings.objects.get(user=rob).personal_room_token)
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        # URL-safe base64 carries 6 bits per character.
        assert len(token) * 6 >= 256
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert math.log2(64) * min(len(t) for t in tokens) >= 128


def test_signed_in_user_joins_as_themselves_and_sees_the_roster(client, rob, meeting_of):
    meeting = meeting_of(rob)
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    client.force_login(sara)
    response = client.post(reverse("meetings:join", args=[meeting.join_token]))
    assert response["Location"] == reverse("meetings:live", args=[meeting.join_token])
    stay = Participant.objects.unscoped().get(meeting=meeting)
    assert (stay.user, stay.display_name) == (sara, "Sara Lefèvre")
    roster = client.get(reverse("meetings:roster", args=[meeting.join_token])).content.decode()
    assert "Sara Lefèvre" in roster
    assert 'hx-trigger="every 2s"' in roster
    # In the meeting, its link leads back into the room.
    again = client.get(reverse("meetings:join", args=[meeting.join_token]))
    assert again["Location"] == reverse("meetings:live", args=[meeting.join_token])

    client.post(reverse("meetings:leave", args=[meeting.join_token]))
    stay.refresh_from_db()
    assert stay.left_at is not None
    assert client.get(reverse("meetings:roster", args=[meeting.join_token])).status_code == 404
    assert client.get(reverse("meetings:join", args=[meeting.join_token])).status_code == 200


def test_guest_joins_by_name_when_the_organiser_allows_it(client, rob, meeting_of):
    meeting = meeting_of(rob, anonymous_join_allowed=True)
    url = reverse("meetings:join", args=[meeting.join_token])
    assert "Your name" in client.get(url).content.decode()
    assert client.post(url, {"display_name": "<b>Eve</b>"}).status_code == 400
    response = client.post(url, {"display_name": "  Eve   Guest "})
    assert response["Location"] == reverse("meetings:live", args=[meeting.join_token])
    stay = Participant.objects.unscoped().get(meeting=meeting)
    assert (stay.user, stay.display_name) == (None, "Eve Guest")
    assert "Eve Guest" in client.get(response["Location"]).content.decode()


def test_guest_is_refused_when_the_organiser_requires_sign_in(client, rob, meeting_of):
    meeting = meeting_of(rob, anonymous_join_allowed=False)
    url = reverse("meetings:join", args=[meeting.join_token])
    assert "Sign in to join" in client.get(url).content.decode()
    response = client.post(url, {"display_name": "Eve"})
    assert response.status_code == 403
    assert "asks everyone to sign in" in response.content.decode()
    assert not Participant.objects.unscoped().exists()


def test_tenant_policy_refusing_guests_wins_over_the_meeting(client, rob, meeting_of):
    meeting = meeting_of(rob, anonymous_join_allowed=True)
    Policy.objects.unscoped().create(tenant=rob.membership.tenant, anonymous_join_allowed=False)
    response = client.post(
        reverse("meetings:join", args=[meeting.join_token]), {"display_name": "Eve"}
    )
    assert response.status_code == 403
    assert not Participant.objects.unscoped().exists()


def test_policy_fixes_the_options_of_new_meetings(client, rob):
    Policy.objects.unscoped().create(
        tenant=rob.membership.tenant, recording_allowed=False, lobby_bypass="organiser"
    )
    client.force_login(rob)
    client.post(reverse("meetings:schedule"), schedule_data(lobby_bypass="everyone"))
    meeting = Meeting.objects.unscoped().get()
    assert (meeting.recording_allowed, meeting.lobby_bypass) == (False, "organiser")
    assert meeting.anonymous_join_allowed is True


def test_the_first_joiner_over_the_cap_sees_the_full_page_with_upgrade(client, rob, meeting_of):
    Policy.objects.unscoped().create(tenant=rob.membership.tenant, max_meeting_size=2)
    meeting = meeting_of(rob)
    url = reverse("meetings:join", args=[meeting.join_token])
    client.post(url, {"display_name": "First guest"})
    client.logout()  # a new browser
    response = client.post(url, {"display_name": "Second guest"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This meeting is full: your organisation allows 2 people per meeting." in page
    assert f"{reverse('wizard:start')}?entry=meetings" in page
    assert Participant.objects.unscoped().count() == 1


def test_personal_room_link_opens_the_owners_room(client, rob):
    token = MeetingSettings.objects.get(user=rob).personal_room_token
    response = client.get(reverse("meetings:personal_room", args=[token]))
    room = Meeting.objects.unscoped().get(is_personal_room=True)
    assert room.organiser == rob
    assert response["Location"] == reverse("meetings:join", args=[room.join_token])
    client.get(reverse("meetings:personal_room", args=[token]))
    assert Meeting.objects.unscoped().count() == 1

    client.force_login(rob)
    client.post(reverse("meetings:renew_room_link"))
    assert client.get(reverse("meetings:personal_room", args=[token])).status_code == 404


def test_join_page_in_french(client, rob, meeting_of):
    meeting = meeting_of(rob, anonymous_join_allowed=False)
    response = client.get(
        reverse("meetings:join", args=[meeting.join_token]), headers={"accept-language": "fr"}
    )
    assert "Se connecter pour rejoindre" in response.content.decode()
