from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meetings.forms import MeetingSettingsForm
from meetings.models import Meeting, MeetingSettings, validate_time_zone
from meetings.services import (
    migrate_personal_settings,
    release_licensed_caps,
    update_personal_settings,
)
from tenancy.models import Policy
from tests.factories import member

pytestmark = pytest.mark.django_db

SETTINGS_DATA = {
    "default_duration_minutes": "30",
    "lobby_bypass": "organisation",
    "anonymous_join_allowed": "on",
    "recording_allowed": "on",
    "time_zone": "UTC",
    "language": "en",
}


def test_settings_exist_from_sign_up_with_defaults(rob):
    settings = MeetingSettings.objects.get(user=rob)
    assert settings.default_duration_minutes == 30
    assert settings.time_zone == "UTC"
    assert settings.customised == []
    assert settings.licensed_cap is None
    assert set(MeetingSettings.PERSONAL_FIELDS) >= {"time_zone", "language", "lobby_bypass"}


def test_settings_page_saves_and_records_what_the_user_customised(client, rob):
    client.force_login(rob)
    data = {**SETTINGS_DATA, "time_zone": "Europe/Paris", "announce_join_leave": "on"}
    assert client.post(reverse("meetings:settings"), data).status_code == 302
    settings = MeetingSettings.objects.get(user=rob)
    assert settings.time_zone == "Europe/Paris"
    assert settings.announce_join_leave is True
    assert settings.customised == ["announce_join_leave", "time_zone"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        # Names zoneinfo knows that are no place's zone (issue 21).
        ("time_zone", "localtime"),
        ("time_zone", "Factory"),
        ("time_zone", "posixrules"),
        ("time_zone", "EST5EDT"),
        ("time_zone", "US/Eastern"),
        ("default_duration_minutes", "0"),
        ("default_duration_minutes", "10000"),
        ("language", "xx"),
        ("lobby_bypass", "anyone"),
    ],
)
def test_bad_settings_are_form_errors_and_change_nothing(client, rob, field, value):
    client.force_login(rob)
    response = client.post(reverse("meetings:settings"), {**SETTINGS_DATA, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    settings = MeetingSettings.objects.get(user=rob)
    assert (settings.time_zone, settings.default_duration_minutes) == ("UTC", 30)
    assert settings.customised == []


def test_the_time_zone_list_offers_places_only():
    offered = [value for value, _label in MeetingSettingsForm().fields["time_zone"].choices]
    assert {"UTC", "Europe/Paris", "America/New_York", "Pacific/Auckland"} <= set(offered)
    assert not {"localtime", "Factory", "posixrules", "GMT0", "Japan", "Etc/GMT+5"} & set(offered)
    assert offered == sorted(offered)
    with pytest.raises(ValidationError):
        validate_time_zone("Factory")


def test_a_zone_saved_under_an_older_name_stays_selected_and_is_kept(client, rob):
    """Before the list offered places only, `US/Eastern` could be chosen: its owner still sees
    it selected, and saving another setting keeps it, never the list's first zone."""
    MeetingSettings.objects.filter(user=rob).update(time_zone="US/Eastern")
    client.force_login(rob)
    page = client.get(reverse("meetings:settings")).content.decode()
    assert '<option value="US/Eastern" selected>' in page
    data = {**SETTINGS_DATA, "time_zone": "US/Eastern", "default_duration_minutes": "45"}
    assert client.post(reverse("meetings:settings"), data).status_code == 302
    settings = MeetingSettings.objects.get(user=rob)
    assert (settings.time_zone, settings.default_duration_minutes) == ("US/Eastern", 45)
    assert "time_zone" not in settings.customised


def test_settings_page_shows_and_keeps_what_the_admin_fixed(client, rob):
    Policy.objects.unscoped().create(
        tenant=rob.membership.tenant, recording_allowed=False, max_meeting_size=8
    )
    client.force_login(rob)
    page = client.get(reverse("meetings:settings")).content.decode()
    assert "Fixed by your organisation&#x27;s admin" in page
    assert "Meetings hold at most 8 people." in page
    client.post(reverse("meetings:settings"), {**SETTINGS_DATA, "recording_allowed": "on"})
    settings = MeetingSettings.objects.get(user=rob)
    assert "recording_allowed" not in settings.customised


def test_migration_keeps_every_customised_value_and_defaults_the_rest(rob):
    sara = member("sara@contoso.com")
    other_tenant = member("eve@fabrikam.com")
    update_personal_settings(
        user=rob, values={"time_zone": "Europe/Paris", "recording_allowed": False}
    )
    # Customised back to the default value: still the user's choice, still kept.
    update_personal_settings(user=sara, values={"time_zone": "Asia/Tokyo"})
    update_personal_settings(user=sara, values={"time_zone": "UTC"})
    before = {s.user_id: s for s in MeetingSettings.objects.all()}
    MeetingSettings.objects.filter(user=sara).delete()  # a member without a row yet

    migrated = migrate_personal_settings(
        tenant=rob.membership.tenant,
        cap=300,
        tenant_defaults={"time_zone": "America/New_York", "recording_allowed": True},
    )

    assert migrated == 2
    rob_after = MeetingSettings.objects.get(user=rob)
    assert (rob_after.time_zone, rob_after.recording_allowed) == ("Europe/Paris", False)
    for field in MeetingSettings.PERSONAL_FIELDS:
        assert getattr(rob_after, field) == getattr(before[rob.pk], field)
    assert rob_after.licensed_cap == 300
    assert rob_after.migrated_at is not None
    sara_after = MeetingSettings.objects.get(user=sara)
    assert (sara_after.time_zone, sara_after.licensed_cap) == ("America/New_York", 300)
    untouched = MeetingSettings.objects.get(user=other_tenant)
    assert (untouched.time_zone, untouched.licensed_cap) == ("UTC", None)


def test_customised_value_survives_whatever_the_default(rob):
    update_personal_settings(user=rob, values={"default_duration_minutes": 45, "language": "fr"})
    migrate_personal_settings(
        tenant=rob.membership.tenant,
        cap=300,
        tenant_defaults={"default_duration_minutes": 60, "language": "en", "time_zone": "UTC"},
    )
    settings = MeetingSettings.objects.get(user=rob)
    assert (settings.default_duration_minutes, settings.language) == (45, "fr")


def test_migration_refuses_unknown_or_invalid_defaults(rob):
    with pytest.raises(ValueError, match="personal_room_token"):
        migrate_personal_settings(
            tenant=rob.membership.tenant, cap=300, tenant_defaults={"personal_room_token": "x"}
        )
    with pytest.raises(Exception, match="not a known time zone"):
        migrate_personal_settings(
            tenant=rob.membership.tenant, cap=300, tenant_defaults={"time_zone": "Nowhere"}
        )
    assert MeetingSettings.objects.get(user=rob).licensed_cap is None


def _members(count, domain):
    users = [member(f"user{n}@{domain}") for n in range(count)]
    # Some members have customised settings, some have no row at all.
    update_personal_settings(user=users[0], values={"time_zone": "Europe/Paris"})
    MeetingSettings.objects.filter(user=users[1]).delete()
    return users[0].membership.tenant


def _queries_of_migration(tenant):
    defaults = {"time_zone": "Europe/Berlin", "announce_join_leave": True}
    with CaptureQueriesContext(connection) as queries:
        migrated = migrate_personal_settings(tenant=tenant, cap=300, tenant_defaults=defaults)
    return migrated, len(queries)


def test_migration_query_count_does_not_depend_on_the_number_of_members():
    small = _members(10, "small.test")
    large = _members(200, "large.test")
    small_migrated, small_queries = _queries_of_migration(small)
    large_migrated, large_queries = _queries_of_migration(large)
    assert (small_migrated, large_migrated) == (10, 200)
    assert small_queries == large_queries
    assert small_queries <= 5
    assert MeetingSettings.objects.filter(licensed_cap=300).count() == 210
    paris = MeetingSettings.objects.get(user__email="user0@large.test")
    assert paris.time_zone == "Europe/Paris"
    assert MeetingSettings.objects.get(user__email="user5@large.test").time_zone == "Europe/Berlin"


def test_release_licensed_caps_goes_back_to_free_and_keeps_settings(rob):
    update_personal_settings(user=rob, values={"language": "fr"})
    migrate_personal_settings(tenant=rob.membership.tenant, cap=300)
    assert release_licensed_caps(tenant=rob.membership.tenant) == 1
    settings = MeetingSettings.objects.get(user=rob)
    assert (settings.licensed_cap, settings.language) == (None, "fr")


def test_demo_meetings_command_is_idempotent():
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo_meetings", stdout=StringIO())
    call_command("load_demo_meetings", stdout=StringIO())
    assert Meeting.objects.unscoped().filter(organiser__email="rob@contoso.test").count() == 3
    assert Meeting.objects.unscoped().filter(organiser__email="sara@contoso.test").count() == 2
    sara = MeetingSettings.objects.get(user__email="sara@contoso.test")
    assert sara.language == "fr"
    assert "language" in sara.customised
