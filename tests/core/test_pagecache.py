"""Signed-in pages kept whole (core.pagecache): served again without reading their rows, and
never stale: every change, through a service, a bulk `update()` or raw SQL, is seen on the next
request. These tests commit (transaction=True), as production does, so that the versions move."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection, transaction
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings.models import Meeting, MeetingSettings
from meetings.services import cancel_meeting, join_meeting, schedule_meeting
from tenancy.services.membership import set_member_role
from tenancy.services.policies import set_policy
from tests.factories import member
from tests.fixtures.cache import CacheCalls
from tests.fixtures.identity import next_request, signed_in
from tests.fixtures.two_factor import enrol_totp

pytestmark = pytest.mark.django_db(transaction=True)


def get(client: Client, path: str, **headers):
    """The response, and the tables its request read."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    return response, " ".join(query["sql"] for query in queries)


def meeting_of(user, title="Weekly review"):
    return schedule_meeting(
        organiser=user,
        title=title,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass="organisation",
        anonymous_join_allowed=False,
        recording_allowed=True,
    )


@pytest.fixture
def sara(contoso):
    _rob, (sara,), _subscription = contoso
    meeting_of(sara)
    return sara


def test_a_page_is_served_again_without_reading_its_rows(sara):
    client = signed_in(sara)
    first, first_sql = get(client, "/meetings/")
    again, again_sql = get(client, "/meetings/")
    assert '"meetings_meeting"' in first_sql
    assert '"meetings_meeting"' not in again_sql
    assert again.status_code == 200
    assert again.content == first.content
    assert "Weekly review" in again.content.decode()


def test_a_service_change_is_on_the_next_page(sara):
    client = signed_in(sara)
    get(client, "/meetings/")
    meeting_of(sara, title="Quarterly planning")
    assert "Quarterly planning" in get(client, "/meetings/")[0].content.decode()


def test_a_bulk_update_and_raw_sql_are_seen_on_the_next_page(sara):
    client = signed_in(sara)
    get(client, "/meetings/")
    Meeting.objects.unscoped().filter(organiser=sara).update(title="Renamed in bulk")
    assert "Renamed in bulk" in get(client, "/meetings/")[0].content.decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE meetings_meeting SET title = %s", ["Renamed by hand"])
    assert "Renamed by hand" in get(client, "/meetings/")[0].content.decode()


def test_settings_rewritten_in_bulk_are_seen(sara):
    """Licensing rewrites meeting settings with bulk updates: the page's time zone follows."""
    client = signed_in(sara)
    before = get(client, "/meetings/")[0].content.decode()
    MeetingSettings.objects.filter(user=sara).update(time_zone="Pacific/Kiritimati")
    after = get(client, "/meetings/")[0]
    assert after.content.decode() != before
    assert after.wsgi_request.meeting_settings.time_zone == "Pacific/Kiritimati"


def test_a_rolled_back_change_keeps_the_page(sara):
    client = signed_in(sara)
    get(client, "/meetings/")
    with pytest.raises(RuntimeError), transaction.atomic():
        Meeting.objects.unscoped().filter(organiser=sara).update(title="Never committed")
        raise RuntimeError
    again, again_sql = get(client, "/meetings/")
    assert '"meetings_meeting"' not in again_sql
    assert "Never committed" not in again.content.decode()


def test_uncommitted_rows_of_this_connection_are_read_not_served_from_the_cache(sara):
    """A request inside the writer's own open transaction sees its rows, and keeps no page."""
    client = signed_in(sara)
    get(client, "/meetings/")
    with transaction.atomic():
        Meeting.objects.unscoped().filter(organiser=sara).update(title="Still open")
        assert "Still open" in get(client, "/meetings/")[0].content.decode()
        transaction.set_rollback(True)
    assert "Still open" not in get(client, "/meetings/")[0].content.decode()


def test_joining_is_seen_on_the_join_page(contoso):
    rob, (sara,), _subscription = contoso
    meeting = meeting_of(rob)
    client = signed_in(sara)
    path = f"/meetings/j/{meeting.join_token}/"
    assert get(client, path)[0].status_code == 200
    assert get(client, path)[0].status_code == 200
    join_meeting(meeting=meeting, user=sara)
    response = get(client, path)[0]
    assert response.status_code == 302
    assert response.url == f"/meetings/j/{meeting.join_token}/live/"


def test_a_cancelled_meeting_is_seen_on_the_join_page(contoso):
    rob, (sara,), _subscription = contoso
    meeting = meeting_of(rob)
    client = signed_in(sara)
    path = f"/meetings/j/{meeting.join_token}/"
    before = get(client, path)[0].content.decode()
    cancel_meeting(meeting=meeting, by=rob)
    after = get(client, path)[0].content.decode()
    assert after != before
    assert "cancelled" in after.lower()


def test_a_role_taken_away_is_seen_on_the_next_dashboard(contoso):
    rob, (sara,), _subscription = contoso
    tenant = rob.membership.tenant
    enrol_totp(sara)
    set_member_role(tenant=tenant, actor=rob, user=sara, role="admin")
    client = signed_in(sara)
    assert get(client, "/admin/")[0].status_code == 200
    assert get(client, "/admin/")[0].status_code == 200
    set_member_role(tenant=tenant, actor=rob, user=sara, role="member")
    assert get(client, "/admin/")[0].status_code != 200


def test_the_dashboard_counts_a_new_member_at_once(contoso):
    """The member count is itself kept (core.counts): its table still moves the page."""
    rob, _others, _subscription = contoso
    client = signed_in(rob)
    members = get(client, "/admin/")[0].context["members"]
    assert get(client, "/admin/")[0].context is None  # served again, not built
    member("nina@contoso.com", name="Nina Newcomer")
    assert get(client, "/admin/")[0].context["members"] == members + 1


def test_another_session_of_the_same_person_is_not_served_this_ones_page(sara):
    client = signed_in(sara)
    get(client, "/meetings/")
    other = Client()
    other.force_login(sara)
    next_request(other, "/meetings/settings/")
    next_request(other, "/meetings/settings/")  # its identity kept: its pages may be kept
    other, other_sql = get(other, "/meetings/")
    assert '"meetings_meeting"' in other_sql
    assert other.status_code == 200


def test_a_page_with_messages_to_show_is_built_and_shows_them(sara):
    client = signed_in(sara)
    get(client, "/meetings/")
    # A message waits in its cookie, as after a form's redirect (Django's own encoding).
    storage = CookieStorage(HttpRequest())
    client.cookies["messages"] = storage._encode([Message(messages.SUCCESS, "Saved.")])
    page, page_sql = get(client, "/meetings/")
    assert '"meetings_meeting"' in page_sql
    assert "Saved." in page.content.decode()
    assert "Saved." not in get(client, "/meetings/")[0].content.decode()


def test_htmx_requests_are_built_every_time(sara):
    client = signed_in(sara)
    get(client, "/meetings/", HX_Request="true")
    again_sql = get(client, "/meetings/", HX_Request="true")[1]
    assert '"meetings_meeting"' in again_sql


def test_a_page_whose_forms_carry_a_new_csrf_secret_is_not_kept(sara):
    """Its tokens match only the cookie sent with that response: a browser without it must get
    a page built for it, with that cookie."""
    client = signed_in(sara)
    for _ in range(2):
        del client.cookies[settings.CSRF_COOKIE_NAME]
        response, sql = get(client, "/meetings/")
        assert '"meetings_meeting"' in sql
        assert settings.CSRF_COOKIE_NAME in response.cookies


def test_a_policy_change_is_seen_on_the_next_page(contoso):
    rob, (sara,), _subscription = contoso
    client = signed_in(sara)
    cap = get(client, "/meetings/")[0].context["cap"]
    assert get(client, "/meetings/")[0].context is None  # served again
    set_policy(tenant=rob.membership.tenant, actor=rob, max_cap=cap, values={"max_meeting_size": 5})
    assert cap != 5
    assert get(client, "/meetings/")[0].context["cap"] == 5


def test_a_query_string_gets_a_page_built_for_it(sara):
    """No copy per query string: an address with one is built every time, never kept."""
    client = signed_in(sara)
    for _ in range(2):
        assert '"meetings_meeting"' in get(client, "/meetings/?anything=1")[1]


def test_a_page_served_again_costs_three_cache_calls(sara, monkeypatch):
    """The session (cached_db), then the kept identity and the kept page, each with its versions'
    tokens in the same call. (A spy counts the calls; each goes through.)"""
    client = signed_in(sara)
    get(client, "/meetings/")
    calls = CacheCalls(monkeypatch, ["get", "get_many", "set", "set_many", "add"])

    again, again_sql = get(client, "/meetings/")

    assert '"meetings_meeting"' not in again_sql
    assert again.status_code == 200
    assert calls.made == ["get", "get_many", "get_many"]
