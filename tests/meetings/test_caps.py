from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.exceptions import MeetingFullError
from meetings.models import MeetingSettings, Participant
from meetings.selectors import FREE_CAP, meeting_settings_of, participant_cap
from meetings.services import join_meeting, leave_meeting
from tenancy.models import Membership, Policy
from tests.factories import member

pytestmark = pytest.mark.django_db

JOINED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def organiser_joined_on(joined_at, email="rob@contoso.com"):
    user = member(email)
    Membership.objects.unscoped().filter(user=user).update(joined_at=joined_at)
    user.refresh_from_db()
    return user


@pytest.mark.parametrize(
    ("moment", "cap"),
    [
        (JOINED, 10),  # day 0
        (JOINED + timedelta(days=60), 10),  # day 60
        (JOINED.replace(hour=23, minute=59) + timedelta(days=60), 10),  # end of day 60
        (JOINED.replace(hour=0, minute=0) + timedelta(days=61), 3),  # start of day 61
        (JOINED + timedelta(days=61), 3),  # day 61
        (JOINED + timedelta(days=400), 3),
    ],
)
def test_free_cap_is_10_until_day_60_and_3_from_day_61(moment, cap):
    rob = organiser_joined_on(JOINED)
    with time_machine.travel(moment, tick=False):
        assert participant_cap(rob) == cap


def test_licensed_cap_is_lowered_by_the_tenant_policy():
    rob = organiser_joined_on(JOINED)
    MeetingSettings.objects.filter(user=rob).update(licensed_cap=300)
    with time_machine.travel(JOINED + timedelta(days=400), tick=False):
        assert participant_cap(rob) == 300
        Policy.objects.unscoped().create(tenant=rob.membership.tenant, max_meeting_size=50)
        assert participant_cap(rob) == 50
        Policy.objects.unscoped().filter(tenant=rob.membership.tenant).update(max_meeting_size=None)
        assert participant_cap(rob) == 300


def test_third_person_over_a_3_cap_is_refused_and_nothing_changes(meeting_of):
    with time_machine.travel(JOINED, tick=False):
        rob = organiser_joined_on(JOINED)
        sara, tom, eve = (member(f"{n}@contoso.com") for n in ("sara", "tom", "eve"))
    with time_machine.travel(JOINED + timedelta(days=61), tick=False):
        meeting = meeting_of(rob)
        # The organiser's seat is held even before they arrive: rob + sara + tom = 3.
        join_meeting(meeting=meeting, user=sara)
        join_meeting(meeting=meeting, user=tom)
        with pytest.raises(MeetingFullError) as refused:
            join_meeting(meeting=meeting, user=eve)
        assert str(refused.value.message) == (
            "This meeting is full: the free plan allows 3 people after 60 days."
        )
        assert not Participant.objects.unscoped().filter(user=eve).exists()
        assert Participant.objects.unscoped().filter(meeting=meeting).count() == 2
        # The organiser is never refused from their own meeting, and counts once.
        join_meeting(meeting=meeting, user=rob)
        assert (
            Participant.objects.unscoped().filter(meeting=meeting, left_at__isnull=True).count()
            == 3
        )
        # Someone leaving frees a seat.
        leave_meeting(participant=Participant.objects.unscoped().get(user=tom))
        assert join_meeting(meeting=meeting, user=eve).user == eve


def test_guests_count_against_the_cap(meeting_of):
    rob = organiser_joined_on(JOINED)
    with time_machine.travel(JOINED + timedelta(days=1), tick=False):
        meeting = meeting_of(rob)
        for number in range(9):
            join_meeting(meeting=meeting, display_name=f"Guest {number}")
        with pytest.raises(MeetingFullError) as refused:
            join_meeting(meeting=meeting, display_name="Guest 10")
    assert str(refused.value.message) == "This meeting is full: the free plan allows 10 people."
    assert Participant.objects.unscoped().filter(meeting=meeting).count() == 9


def test_joining_twice_while_present_takes_no_second_seat(rob, meeting_of):
    sara = member("sara@contoso.com")
    meeting = meeting_of(rob)
    first = join_meeting(meeting=meeting, user=sara)
    assert join_meeting(meeting=meeting, user=sara) == first
    assert Participant.objects.unscoped().filter(meeting=meeting).count() == 1


def test_a_user_without_settings_is_read_without_a_write_and_repaired_by_a_page(client):
    """Reading the cap of someone made without settings (in bulk, by raw SQL) writes nothing;
    the first page they open creates the row through meetings.services."""
    rob = organiser_joined_on(timezone.now())
    MeetingSettings.objects.filter(user=rob).delete()
    with CaptureQueriesContext(connection) as queries:
        assert meeting_settings_of(rob) is None
        assert participant_cap(rob) == FREE_CAP
    assert not [q for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert not MeetingSettings.objects.filter(user=rob).exists()
    client.force_login(rob)
    assert client.get(reverse("meetings:list")).status_code == 200
    assert MeetingSettings.objects.filter(user=rob).exists()
