import threading

import pytest
from django.db import connection

from meetings.exceptions import MeetingFullError
from meetings.models import Participant
from meetings.selectors import participant_cap
from meetings.services import join_meeting
from tests.factories import member


@pytest.mark.django_db(transaction=True)
def test_30_simultaneous_joins_of_a_10_cap_meeting_admit_exactly_10(meeting_of):
    rob = member("rob@contoso.com")
    others = [member(f"person{n}@contoso.com") for n in range(29)]
    meeting = meeting_of(rob)
    assert participant_cap(rob) == 10

    joiners = [rob, *others]
    start = threading.Barrier(len(joiners))
    admitted, refused, errors = [], [], []

    def join(user):
        try:
            start.wait()
            join_meeting(meeting=meeting, user=user)
            admitted.append(user.pk)
        except MeetingFullError:
            refused.append(user.pk)
        except Exception as error:  # any other failure is reported by `errors == []`
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(user,)) for user in joiners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(admitted) == 10
    assert len(refused) == 20
    present = Participant.objects.unscoped().filter(meeting=meeting, left_at__isnull=True)
    assert present.count() == 10
    assert present.filter(user=rob).exists()  # the organiser's seat is never taken by others
    assert set(present.values_list("user_id", flat=True)) == set(admitted)
