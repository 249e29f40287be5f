"""Signing in with a second factor, the sessions people and admins end, the tenant's two-factor
rule, and what all of it writes in the audit log; through allauth's own pages."""

from urllib.parse import urlencode

import pytest
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from tenancy.models import AuditEvent, Membership
from tenancy.services.security import set_two_factor_required
from tests.factories import PASSWORD
from tests.fixtures.two_factor import (
    enrol_totp,
    recently_signed_in,
    recovery_codes_of,
    totp_code,
)

WRONG_CODE_EN = "This code is wrong or was already used."
WRONG_CODE_FR = "Ce code est faux ou a déjà servi."


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def events(action):
    return list(AuditEvent.objects.unscoped().filter(action=action).order_by("id"))


@pytest.fixture
def rob_and_secret(contoso):
    """Rob, the admin, with an authenticator app whose secret the test knows."""
    rob = contoso[0]
    Authenticator.objects.filter(user=rob).delete()
    return rob, enrol_totp(rob)


def wrong_code(secret):
    return "000000" if totp_code(secret) != "000000" else "111111"


def test_an_admin_signs_in_with_password_and_code_and_each_step_is_audited(rob_and_secret):
    rob, secret = rob_and_secret
    client = Client()
    assert sign_in(client, rob.email, "not-the-password").status_code == 200
    failed = events("user.sign_in_failed")
    assert [(e.actor, e.target, e.after) for e in failed] == [
        (None, rob.email, {"ip": "127.0.0.1"})
    ]

    response = sign_in(client, rob.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/admin/")["Location"].startswith(reverse("account_login"))  # not yet in
    refused = client.post(reverse("mfa_authenticate"), {"code": wrong_code(secret)})
    assert WRONG_CODE_EN in refused.content.decode()
    assert [e.actor for e in events("user.second_factor_refused")] == [rob]

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    signed_in = events("user.signed_in")
    assert [(e.actor, e.target, e.after) for e in signed_in] == [
        (rob, rob.email, {"ip": "127.0.0.1"})
    ]


def test_a_code_used_once_is_refused_the_second_time_in_both_languages(rob_and_secret):
    rob, secret = rob_and_secret
    code = totp_code(secret)
    first = Client()
    sign_in(first, rob.email)
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302

    again = Client(headers={"accept-language": "fr"})
    sign_in(again, rob.email)
    refused = again.post(reverse("mfa_authenticate"), {"code": code})
    assert WRONG_CODE_FR in refused.content.decode()
    assert again.get("/admin/").status_code == 302


def test_a_recovery_code_works_once(rob_and_secret):
    rob, _secret = rob_and_secret
    code = recovery_codes_of(rob)[0]
    first = Client()
    sign_in(first, rob.email)
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert first.get("/admin/").status_code == 200
    used = events("user.recovery_code_used")
    assert [(e.actor, e.after["left"]) for e in used] == [(rob, 9)]

    second = Client()
    sign_in(second, rob.email)
    refused = second.post(reverse("mfa_authenticate"), {"code": code})
    assert WRONG_CODE_EN in refused.content.decode()


def test_code_entry_is_rate_limited(rob_and_secret):
    rob, secret = rob_and_secret
    client = Client()
    sign_in(client, rob.email)
    for _attempt in range(5):
        client.post(reverse("mfa_authenticate"), {"code": wrong_code(secret)})
    blocked = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert "Too many failed login attempts" in blocked.content.decode()
    assert client.get("/admin/").status_code == 302


def test_adding_and_removing_an_authenticator_app_is_audited(
    contoso, django_capture_on_commit_callbacks
):
    sara = contoso[1][0]
    client = recently_signed_in(Client(), sara)
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    with django_capture_on_commit_callbacks(execute=True):  # allauth signals after the commit
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    added = events("user.second_factor_added")
    assert [(e.actor, e.target, e.after["type"]) for e in added] == [
        (sara, sara.email, "totp"),
        (sara, sara.email, "recovery_codes"),
    ]

    client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=sara).exists()
    removed = events("user.second_factor_removed")
    assert {e.after["type"] for e in removed} == {"totp", "recovery_codes"}


def test_an_admin_cannot_remove_their_last_second_factor(contoso):
    rob = contoso[0]
    client = recently_signed_in(Client(), rob)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert "You must keep a second factor" in response.content.decode()
    assert Authenticator.objects.filter(user=rob, type="totp").exists()
    assert events("user.second_factor_removed") == []


def session_is_live(client):
    return client.get(reverse("meetings:list")).status_code == 200


def test_removing_a_member_ends_every_session_they_have(contoso):
    rob, (sara,), _subscription = contoso
    laptop, phone = Client(), Client()
    for client in (laptop, phone):
        assert sign_in(client, sara.email).status_code == 302
    assert session_is_live(laptop) and session_is_live(phone)
    assert UserSession.objects.filter(user=sara).count() == 2

    admin = recently_signed_in(Client(), rob)
    admin.post(reverse("portal:user_action", args=[sara.pk, "remove"]))

    assert not Membership.objects.unscoped().filter(user=sara).exists()
    for client in (laptop, phone):
        response = client.get(reverse("meetings:list"))
        assert response["Location"].startswith(reverse("account_login"))
    ended = events("user.sessions_ended")
    assert [(e.actor, e.target, e.after) for e in ended] == [(rob, sara.email, {"count": 2})]


def test_a_password_reset_from_the_admin_centre_ends_every_session(contoso):
    rob, (sara,), _subscription = contoso
    laptop = Client()
    sign_in(laptop, sara.email)
    admin = recently_signed_in(Client(), rob)
    admin.post(reverse("portal:password_reset", args=[sara.pk]))
    assert not session_is_live(laptop)
    assert [e.actor for e in events("user.sessions_ended")] == [rob]


def test_an_admin_signs_a_member_out_everywhere_and_it_is_audited(contoso):
    rob, (sara,), _subscription = contoso
    laptop = Client()
    sign_in(laptop, sara.email)
    admin = Client()
    admin.force_login(rob)  # not a sensitive change: no re-authentication asked
    response = admin.post(reverse("portal:user_action", args=[sara.pk, "sign_out"]), follow=True)
    assert f"{sara.email} was signed out on every device." in response.content.decode()
    assert not session_is_live(laptop)
    assert Membership.objects.unscoped().filter(user=sara).exists()  # still a member
    signed_out = events("member.signed_out_everywhere")
    assert [(e.actor, e.target, e.after) for e in signed_out] == [(rob, sara.email, {"count": 1})]


def test_a_member_sees_their_sessions_and_ends_the_others(contoso):
    sara = contoso[1][0]
    laptop = Client(headers={"user-agent": "Laptop browser"})
    phone = Client(headers={"user-agent": "Phone browser"})
    sign_in(laptop, sara.email)
    sign_in(phone, sara.email)
    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "Laptop browser" in page and "Phone browser" in page and "127.0.0.1" in page
    assert "Last seen at" in page

    laptop.post(reverse("usersessions_list"))
    assert session_is_live(laptop) and not session_is_live(phone)
    ended = events("user.sessions_ended")
    assert [(e.actor, e.target, e.after) for e in ended] == [(sara, sara.email, {"count": 1})]


def test_the_tenants_two_factor_rule_sends_members_to_set_one_up(contoso):
    rob, (sara,), _subscription = contoso
    client = Client()
    sign_in(client, sara.email)
    assert session_is_live(client)
    set_two_factor_required(tenant=rob.membership.tenant, actor=rob, required=True)

    for path in ("/", reverse("meetings:list"), "/upgrade/"):
        response = client.get(path)
        assert response["Location"] == reverse("mfa_index"), path
    page = client.get(reverse("mfa_index")).content.decode()
    assert "Your organisation requires two-factor authentication." in page
    assert client.get(reverse("usersessions_list")).status_code == 200

    enrol_totp(sara)
    assert session_is_live(client)
    assert [e.after for e in events("tenant.two_factor_rule_changed")] == [
        {"two_factor_required": True}
    ]


def test_the_two_factor_rule_is_set_on_the_policies_page(contoso):
    rob = contoso[0]
    client = recently_signed_in(Client(), rob)
    page = client.get(reverse("portal:policies")).content.decode()
    assert "Every member signs in with a second factor" in page
    client.post(reverse("portal:policies"), {"form": "two_factor", "two_factor_required": "on"})
    rob.membership.tenant.refresh_from_db()
    assert rob.membership.tenant.two_factor_required
    client.post(reverse("portal:policies"), {"form": "two_factor"})
    rob.membership.tenant.refresh_from_db()
    assert not rob.membership.tenant.two_factor_required


def test_someone_without_a_tenant_signs_in_and_nothing_is_audited(contoso):
    rob, (sara,), _subscription = contoso
    admin = recently_signed_in(Client(), rob)
    admin.post(reverse("portal:user_action", args=[sara.pk, "remove"]))
    count = AuditEvent.objects.unscoped().count()
    client = Client()
    assert sign_in(client, sara.email).status_code == 302
    assert sign_in(Client(), sara.email, "wrong").status_code == 200
    assert AuditEvent.objects.unscoped().count() == count


def test_the_re_authentication_page_names_the_action_it_returns_to(contoso):
    rob, (sara,), _subscription = contoso
    client = Client()
    client.force_login(rob)
    url = reverse("portal:user_action", args=[sara.pk, "remove"])
    response = client.post(url)
    assert response["Location"] == reverse("account_reauthenticate") + "?" + urlencode(
        {"next": url}
    )
