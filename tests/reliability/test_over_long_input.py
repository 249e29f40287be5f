"""Over-long input in every form a person types into: a form error, and no row changed.

Nothing typed is ever cut to fit: SQLite does not enforce a column's max_length, and PostgreSQL
(where these tests run) refuses the row with a DataError, a 500. Addresses follow RFC 5321: 64
octets before the @, 254 in all."""

from datetime import timedelta

import pytest
from django import forms
from django.apps import apps
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from meetings.services import schedule_meeting

LONG_ADDRESS = "a" * 300 + "@contoso.com"
LONG_LOCAL_PART = "b" * 65 + "@contoso.com"
ADDRESS_TOO_LONG = "This address is too long"
SIGNUP = {"name": "Li Wei", "email": "li@contoso.com", "password1": "Unusual-Pass-4321"}
SIGNUP["password2"] = SIGNUP["password1"]
MEETING = {
    "title": "Plan",
    "starts_at": "2030-05-06T10:00",
    "ends_at": "2030-05-06T10:45",
    "lobby_bypass": "everyone",
}
ANNOUNCEMENT = {"subject": "News", "body": "Hello", "recipients": "all", "step": "send"}


def at_most(characters):
    return f"Ensure this value has at most {characters} characters"


# What each person types where, and what they are told: (who, method, page, typed, told).
CASES = {
    "sign-up address": (
        "visitor",
        "post",
        "account_signup",
        {**SIGNUP, "email": LONG_ADDRESS},
        ADDRESS_TOO_LONG,
    ),
    "sign-up local part": (
        "visitor",
        "post",
        "account_signup",
        {**SIGNUP, "email": LONG_LOCAL_PART},
        ADDRESS_TOO_LONG,
    ),
    "sign-up name": (
        "visitor",
        "post",
        "account_signup",
        {**SIGNUP, "name": "n" * 151},
        at_most(150),
    ),
    "sign-up password": (
        "visitor",
        "post",
        "account_signup",
        {**SIGNUP, "password1": "p" * 129, "password2": "p" * 129},
        "Passwords can be at most 128 characters long.",
    ),
    "reset address": (
        "visitor",
        "post",
        "account_reset_password",
        {"email": LONG_ADDRESS},
        ADDRESS_TOO_LONG,
    ),
    "login": (
        "visitor",
        "post",
        "account_login",
        {"login": LONG_ADDRESS, "password": "x" * 5000},
        "not correct",
    ),
    "guest name": ("visitor", "post", "join", {"display_name": "g" * 151}, at_most(150)),
    "added address": (
        "member",
        "post",
        "account_email",
        {"email": LONG_ADDRESS, "action_add": ""},
        ADDRESS_TOO_LONG,
    ),
    "added local part": (
        "member",
        "post",
        "account_email",
        {"email": LONG_LOCAL_PART, "action_add": ""},
        ADDRESS_TOO_LONG,
    ),
    "meeting title": (
        "member",
        "post",
        "meetings:schedule",
        {**MEETING, "title": "t" * 201},
        at_most(200),
    ),
    "edited meeting title": (
        "member",
        "post",
        "edit",
        {**MEETING, "title": "t" * 201},
        at_most(200),
    ),
    "time zone": (
        "member",
        "post",
        "meetings:settings",
        {"default_duration_minutes": "30", "time_zone": "Z" * 65, "language": "en"},
        "Select a valid choice.",
    ),
    "invited address": (
        "admin",
        "post",
        "portal:invite",
        {"email": LONG_ADDRESS, "name": "Li"},
        at_most(254),
    ),
    "invited local part": (
        "admin",
        "post",
        "portal:invite",
        {"email": LONG_LOCAL_PART, "name": "Li"},
        ADDRESS_TOO_LONG,
    ),
    "invited name": (
        "admin",
        "post",
        "portal:invite",
        {"email": "li@contoso.com", "name": "n" * 151},
        at_most(150),
    ),
    "announcement subject": (
        "admin",
        "post",
        "portal:announce",
        {**ANNOUNCEMENT, "subject": "s" * 201},
        at_most(200),
    ),
    "announcement message": (
        "admin",
        "post",
        "portal:announce",
        {**ANNOUNCEMENT, "body": "b" * 10_001},
        at_most(10000),
    ),
    "people search": ("admin", "get", "portal:users", {"q": "q" * 255}, at_most(254)),
    "audit action": ("admin", "get", "portal:audit", {"action": "a" * 65}, at_most(64)),
    "audit actor": ("admin", "get", "portal:audit", {"actor": "a" * 255}, at_most(254)),
}


def database_rows():
    """Every row of the project's tables and of allauth's addresses, comparable as a whole."""
    return {
        model._meta.label: sorted(repr(row) for row in model._base_manager.values_list())
        for model in apps.get_models()
        if model._meta.app_label in {"tenancy", "meetings", "domains", "licensing", "account"}
    }


@pytest.fixture
def clients(contoso):
    """A visitor, Sara (a member) and Rob (the admin) of managed contoso.com; Sara's meeting."""
    rob, (sara,), _subscription = contoso
    meeting = schedule_meeting(
        organiser=sara,
        title="Review",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass="everyone",
        anonymous_join_allowed=True,
        recording_allowed=False,
    )
    member, admin = Client(), Client()
    member.force_login(sara)
    admin.force_login(rob)
    pages = {
        "join": reverse("meetings:join", args=[meeting.join_token]),
        "edit": reverse("meetings:edit", args=[meeting.pk]),
    }
    return {"visitor": Client(), "member": member, "admin": admin}, pages


@pytest.mark.parametrize("case", CASES)
def test_over_long_input_is_a_form_error_and_changes_nothing(clients, case):
    who, method, page, typed, told = CASES[case]
    people, pages = clients
    url = pages[page] if page in pages else reverse(page)
    before = database_rows()
    response = getattr(people[who], method)(url, typed, follow=True)
    assert response.status_code in (200, 400)
    assert told in response.content.decode()
    assert database_rows() == before


def form_classes(base=forms.BaseForm):
    for subclass in base.__subclasses__():
        yield subclass
        yield from form_classes(subclass)


def test_every_text_field_of_our_forms_has_a_max_length():
    """A form added later is held to the rule as well: every text it takes has a limit."""
    assert get_resolver().url_patterns  # imports every view, hence every form
    ours = [
        form
        for form in set(form_classes())
        if form.__module__.split(".")[0] in {"tenancy", "meetings", "domains", "wizard", "portal"}
    ]
    assert len(ours) >= 10
    unlimited = [
        f"{form.__module__}.{form.__name__}.{name}"
        for form in ours
        for name, field in form.base_fields.items()
        if isinstance(field, forms.CharField) and field.max_length is None
    ]
    assert unlimited == []
