from datetime import timedelta

import pytest
from django.utils import timezone

from meetings import services
from tests.factories import member


@pytest.fixture
def rob(db):
    return member("rob@contoso.com")


@pytest.fixture
def meeting_of():
    """Schedules a meeting for an organiser through the service, as the page would."""

    def schedule(organiser, **overrides):
        fields = {
            "title": "Weekly sync",
            "starts_at": timezone.now() + timedelta(hours=1),
            "duration_minutes": 30,
            "lobby_bypass": "organisation",
            "anonymous_join_allowed": True,
            "recording_allowed": True,
        }
        fields.update(overrides)
        return services.schedule_meeting(organiser=organiser, **fields)

    return schedule
