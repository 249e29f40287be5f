"""Every page the admin, a member and a visitor reach: strict CSP, no inline script or style.

A `<script type="application/json">` is data that the page's own scripts read (allauth's
passkey pages, Django's json_script): browsers never run it, so the CSP has nothing to allow."""

import re

from django.test import Client

from meetings.services import schedule_meeting
from tests.fixtures.two_factor import recently_signed_in

INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.IGNORECASE
)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


# Two-factor (an authenticator app, passkeys, recovery codes), re-authentication and sessions.
ACCOUNT_PAGES = [
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/2fa/webauthn/add/",
    "/accounts/2fa/recovery-codes/",
    "/accounts/reauthenticate/",
    "/accounts/sessions/",
]


def pages_of(client, start_paths):
    """The GET pages reachable from `start_paths` by links on our own site (one level deep)."""
    seen, found = set(), {}
    queue = list(start_paths)
    while queue:
        path = queue.pop(0)
        if path in seen or len(seen) > 80:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or response.streaming:
            continue
        found[path] = response
        if path in start_paths:
            for link in re.findall(r'href="(/[^"#?]*)"', response.content.decode()):
                if not link.startswith(("/static/", "/accounts/logout", "/favicon")):
                    queue.append(link)
    return found


def test_every_page_has_a_strict_csp_and_no_inline_script_or_style(contoso, localstripe):
    rob, (sara,), _subscription = contoso
    schedule_meeting(
        organiser=rob,
        title="Review",
        starts_at="2031-01-15T10:00Z",
        duration_minutes=30,
        lobby_bypass="everyone",
        anonymous_join_allowed=True,
        recording_allowed=False,
    )
    client = recently_signed_in(Client(), rob)
    member_client = recently_signed_in(Client(), sara)
    member_pages = pages_of(
        member_client,
        ["/", "/meetings/", "/meetings/settings/", "/upgrade/", *ACCOUNT_PAGES],
    )
    admin_pages = pages_of(
        client,
        [
            "/",
            "/meetings/",
            "/admin/",
            "/admin/users/",
            "/admin/policies/",
            "/upgrade/",
            "/meetings/settings/",
            "/admin/announcements/new/",
            *ACCOUNT_PAGES,
        ],
    )
    anonymous = pages_of(Client(), ["/accounts/login/", "/accounts/signup/"])
    pages = [*member_pages.items(), *admin_pages.items(), *anonymous.items()]
    # Sara has no second factor yet (the activation page opens); Rob has an authenticator app.
    assert set(ACCOUNT_PAGES) - {"/accounts/2fa/recovery-codes/"} <= set(member_pages)
    assert set(ACCOUNT_PAGES) - {"/accounts/2fa/totp/activate/"} <= set(admin_pages)
    assert len(pages) >= 20
    for path, response in pages:
        csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), path
        assert not STYLE_ATTRIBUTE.search(html), path
