"""Property-based bad input on every form and the webhook: never a 5xx, never a changed row
for a rejected input, and what the user typed always comes back escaped."""

import itertools
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenancy.email_domains import normalise_domain
from tests.factories import member
from tests.fixtures.idn import IDN_LETTERS, MISREAD_DOMAINS

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50).map(
        lambda t: t + "\x00\x07\u202e<script>alert(1)</script>"
    ),
    st.integers(min_value=1, max_value=20_000).map(lambda n: "x" * n),
    st.sampled_from(["", " ", "-1", "0", "1e9", "NaN", "None", "[]", "{}", "'; DROP TABLE x;--"]),
)
# Domains mail software and the tenant key read differently (tests/fixtures/idn.py), and others
# spelt with the same letters.
idn_domain = st.one_of(
    st.sampled_from(MISREAD_DOMAINS),
    st.lists(st.text(alphabet=IDN_LETTERS, min_size=1, max_size=10), min_size=1, max_size=2).map(
        lambda labels: ".".join([*labels, "de"])
    ),
)
idn_email = idn_domain.map(lambda domain: f"li.wei@{domain}")
# Longer than mail carries (RFC 5321): before the @, in all, or once the domain is in xn-- form.
over_long_email = st.one_of(
    st.integers(min_value=65, max_value=400).map(lambda n: "a" * n + "@contoso.com"),
    st.integers(min_value=4, max_value=6).map(lambda n: "a@" + ".".join(["b" * 63] * n) + ".com"),
    st.integers(min_value=4, max_value=5).map(
        lambda n: "a" * 64 + "@" + ".".join(["ü" * 40] * n) + ".de"
    ),
)
# What would end a mail header and start another, or cut it short.
header_breakers = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x0b", "\x1b", "\x85", "\u2028"])
header_bound_text = st.tuples(
    # At least one letter first: a form strips leading blanks, the breaker must stay inside.
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=1).flatmap(
        lambda first: st.text(alphabet=st.characters(categories=["L", "N", "Zs"]), max_size=29).map(
            lambda rest: first + rest
        )
    ),
    header_breakers,
    st.text(alphabet=st.characters(categories=["L", "N", "Zs"]), max_size=30),
).map(lambda parts: parts[0] + parts[1] + "Bcc: x@evil.example" + parts[2])
nasty_email = st.one_of(
    nasty_text,
    idn_email,
    over_long_email,
    st.emails().map(lambda e: e.upper()),
    st.sampled_from(
        [
            "a@b",
            "@contoso.com",
            "a@@contoso.com",
            "ä@bücher.de",
            "a@[127.0.0.1]",
            "a@gmail.com",
            "a@contoso.com\nBcc: x@evil.com",
            "a" * 300 + "@contoso.com",
            "a@-contoso.com",
        ]
    ),
)


def row_counts():
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in {"tenancy", "meetings", "domains", "licensing"}
        and model._meta.label not in {"tenancy.User"}
    }


def assert_refused_cleanly(response, before, *, typed=()):
    assert response.status_code < 500
    if response.status_code not in (200, 302, 400, 403, 404, 405, 409, 429):
        pytest.fail(f"unexpected status {response.status_code}")
    body = response.content.decode(errors="replace") if not response.streaming else ""
    assert "<script>alert(1)</script>" not in body
    for text in typed:
        # A short text such as "<" or "</a>" is in every page's own markup; a longer one found
        # there verbatim was rendered without escaping.
        if "<" in text and len(text) >= 8 and text in body:
            pytest.fail("user input rendered unescaped")
    return before


@pytest.mark.django_db
@EXAMPLES
@given(name=nasty_text, email=nasty_email, password=nasty_text)
def test_sign_up(name, email, password):
    before = row_counts()
    response = Client().post(
        reverse("account_signup"),
        {"name": name, "email": email, "password1": password, "password2": password},
    )
    assert_refused_cleanly(response, before, typed=[name, email])
    if response.status_code == 200:  # the form came back with errors: nothing was created
        assert row_counts() == before
    if response.status_code == 302:  # accepted: the address is kept whole, never cut to fit
        assert get_user_model().objects.filter(email=email.strip().lower()).exists()


# Each sign-up from an address of its own, so that the per-address limit never answers first.
visitor_addresses = (f"198.51.100.{n % 250}" for n in itertools.count())


@pytest.mark.django_db
@EXAMPLES
@given(email=st.one_of(idn_email, over_long_email))
def test_a_sign_up_is_mailed_at_its_tenant_key_or_refused(email):
    """Mail goes to exactly the domain the tenant key names; an address it cannot carry whole,
    or would deliver elsewhere, is refused with a form error and nothing is written."""
    before, users = row_counts(), get_user_model().objects.count()
    mail.outbox.clear()
    password = "Unusual-Pass-4321"
    response = Client(REMOTE_ADDR=next(visitor_addresses)).post(
        reverse("account_signup"),
        {"name": "Li Wei", "email": email, "password1": password, "password2": password},
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert get_user_model().objects.filter(email=email.lower()).exists()
        [message] = mail.outbox
        key = normalise_domain(email.rpartition("@")[2])
        assert message.message()["To"] == f"li.wei@{key}"
    else:
        assert response.context["form"].errors["email"]
        assert (row_counts(), get_user_model().objects.count()) == (before, users)
        assert mail.outbox == []


@pytest.fixture
def rob_client(db):
    client = Client()
    client.force_login(member("rob@contoso.com"))
    return client


@EXAMPLES
@given(title=nasty_text, starts=nasty_text, ends=nasty_text, extra=nasty_text)
def test_schedule_a_meeting(rob_client, title, starts, ends, extra):
    before = row_counts()
    response = rob_client.post(
        reverse("meetings:schedule"),
        {"title": title, "starts_at": starts, "ends_at": ends, "lobby_bypass": extra},
    )
    assert_refused_cleanly(response, before, typed=[title])
    if response.status_code != 302:
        assert row_counts() == before


@EXAMPLES
@given(duration=nasty_text, zone=nasty_text, language=nasty_text, lobby=nasty_text)
def test_personal_settings(rob_client, duration, zone, language, lobby):
    before = row_counts()
    response = rob_client.post(
        reverse("meetings:settings"),
        {
            "default_duration_minutes": duration,
            "time_zone": zone,
            "language": language,
            "lobby_bypass": lobby,
        },
    )
    assert_refused_cleanly(response, before, typed=[zone, language])


@EXAMPLES
@given(purchase=nasty_text, seats=nasty_text, plan=nasty_text, setup_intent=nasty_text)
def test_wizard_posts(rob_client, purchase, seats, plan, setup_intent):
    before = row_counts()
    for name in ("wizard:buy", "wizard:check_now", "wizard:record_added"):
        response = rob_client.post(
            reverse(name),
            {"purchase": purchase, "seats": seats, "plan": plan, "setup_intent": setup_intent},
        )
        assert_refused_cleanly(response, before, typed=[plan])
    assert row_counts() == before


@EXAMPLES
@given(
    payload=st.one_of(nasty_text, st.dictionaries(nasty_text, nasty_text).map(json.dumps)),
    signature=nasty_text,
)
def test_the_webhook(db, payload, signature):
    before = row_counts()
    response = Client().post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 400
    assert row_counts() == before


@EXAMPLES
@given(host=nasty_text)
def test_a_wrong_host_header(db, host):
    response = Client().get("/accounts/login/", HTTP_HOST=host or "x")
    assert response.status_code < 500


@EXAMPLES
@given(
    target=st.one_of(
        nasty_text,
        st.sampled_from(
            [
                "https://evil.example/",
                "//evil.example/",
                "/\\evil.example",
                "http:evil.example",
                "javascript:alert(1)",
            ]
        ),
    )
)
def test_next_never_leaves_the_site(db, target):
    user = member("rob@contoso.com") if not member_exists() else None
    del user
    response = Client().post(
        reverse("account_login") + "?next=" + target,
        {"login": "rob@contoso.com", "password": "correct-horse-battery-staple", "next": target},
    )
    assert response.status_code < 500
    location = response.headers.get("Location", "")
    assert not location.startswith(("http://evil", "https://evil", "//", "/\\", "javascript:"))


def member_exists():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email="rob@contoso.com").exists()


@pytest.fixture
def admin_client(contoso):
    client = Client()
    client.force_login(contoso[0])
    return client


@EXAMPLES
@given(
    email=nasty_email,
    name=nasty_text,
    quantity=nasty_text,
    size=nasty_text,
    subject=nasty_text,
    body=nasty_text,
)
def test_admin_centre_forms(admin_client, email, name, quantity, size, subject, body):
    before = row_counts()
    posts = [
        (reverse("portal:invite"), {"email": email, "name": name}),
        (reverse("portal:licences"), {"quantity": quantity}),
        (
            reverse("portal:policies"),
            {
                "form": "policy",
                "max_meeting_size": size,
                "lobby_bypass": name,
                "recording_allowed": subject,
            },
        ),
        (reverse("portal:policies"), {"form": "signup", "signup_mode": name}),
        (
            reverse("portal:announce"),
            {
                "subject": subject,
                "body": body,
                "recipients": name,
                "user": [quantity],
                "step": "preview",
            },
        ),
        (reverse("portal:subscription"), {"action": name, "plan": subject}),
    ]
    for url, data in posts:
        response = admin_client.post(url, data)
        assert_refused_cleanly(response, before, typed=[name, subject, body])
    page = admin_client.get(
        reverse("portal:users"), {"q": name, "sort": subject, "after": size, "before": body}
    )
    assert_refused_cleanly(page, before, typed=[name])
    page = admin_client.get(reverse("portal:audit"), {"action": name, "since": subject})
    assert_refused_cleanly(page, before, typed=[name])


@pytest.fixture
def guest_meeting(contoso):
    """A meeting of Sara's that guests may join by name."""
    from meetings.services import schedule_meeting

    return schedule_meeting(
        organiser=contoso[1][0],
        title="Review",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass="everyone",
        anonymous_join_allowed=True,
        recording_allowed=False,
    )


@EXAMPLES
@given(text=header_bound_text)
def test_control_characters_in_header_bound_fields_are_refused(admin_client, guest_meeting, text):
    """Names and subjects end up in mail headers: a line break, NUL or another control character
    there is refused where it is typed, never stored, so no mail can fail or be split later."""
    before, users = row_counts(), get_user_model().objects.count()
    password = "Unusual-Pass-4321"
    posts = [
        (
            Client(REMOTE_ADDR=next(visitor_addresses)),
            reverse("account_signup"),
            {"name": text, "email": "li@contoso.com", "password1": password, "password2": password},
        ),
        (admin_client, reverse("portal:invite"), {"email": "li@contoso.com", "name": text}),
        (
            admin_client,
            reverse("portal:announce"),
            {"subject": text, "body": "Hello", "recipients": "all", "step": "send"},
        ),
        (
            Client(),
            reverse("meetings:join", args=[guest_meeting.join_token]),
            {"display_name": text},
        ),
    ]
    for client, url, data in posts:
        response = client.post(url, data)
        assert_refused_cleanly(response, before, typed=[text])
        assert (row_counts(), get_user_model().objects.count()) == (before, users), url
