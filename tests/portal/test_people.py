import csv
import io
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from licensing.models import Licence
from licensing.services.seats import change_seat_count
from meetings.models import Meeting
from meetings.services import schedule_meeting
from tenancy.models import AuditEvent, JoinRequest, Membership, Removal, Tenant
from tenancy.services.membership import join_tenant_of_verified_email
from tests.factories import PASSWORD, member
from tests.fixtures.purchases import managed_tenant
from tests.fixtures.two_factor import recently_signed_in

User = get_user_model()


@pytest.fixture
def admin_client(contoso):
    rob, _people, _subscription = contoso
    return recently_signed_in(Client(), rob)


def act(client, user, action):
    return client.post(reverse("portal:user_action", kwargs={"pk": user.pk, "action": action}))


def messages_of(client):
    return [str(m) for m in client.get(reverse("portal:users")).context["messages"]]


def test_users_page_lists_members_with_licence_and_role(admin_client, contoso):
    page = admin_client.get(reverse("portal:users")).content.decode()
    assert "rob@contoso.com" in page and "sara@contoso.com" in page
    assert page.count("Licensed") >= 2
    assert "Admin" in page


def test_search_sort_and_pages(admin_client, contoso, localstripe):
    rob, _people, subscription = contoso
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=80)
    for index in range(60):
        member(f"p{index:02d}@contoso.com", name=f"Person {index:02d}")
    first = admin_client.get(reverse("portal:users"), {"sort": "email"})
    emails = [row["membership"].user.email for row in first.context["rows"]]
    assert len(emails) == 50 and emails == sorted(emails)
    assert first.context["page"].previous_before is None
    after = first.context["page"].next_after
    assert f"after={after}" in first.content.decode()
    second = admin_client.get(reverse("portal:users"), {"sort": "email", "after": after})
    rest = [row["membership"].user.email for row in second.context["rows"]]
    assert len(rest) == 12 and rest == sorted(rest) and rest[0] > emails[-1]
    assert second.context["page"].next_after is None
    back = admin_client.get(
        reverse("portal:users"),
        {"sort": "email", "before": second.context["page"].previous_before},
    )
    assert [row["membership"].user.email for row in back.context["rows"]] == emails
    assert back.context["page"].previous_before is None
    found = admin_client.get(reverse("portal:users"), {"q": "Person 07"}).context["rows"]
    assert [row["membership"].user.email for row in found] == ["p07@contoso.com"]
    assert admin_client.get(reverse("portal:users"), {"after": "-1"}).status_code == 400


def test_by_last_sign_in_puts_those_who_never_signed_in_last(admin_client, contoso):
    rob, (sara,), _subscription = contoso
    now = timezone.now()
    User.objects.filter(pk=rob.pk).update(last_login=now - timedelta(days=3))
    User.objects.filter(pk=sara.pk).update(last_login=now)
    never = member("zoe@contoso.com", name="Zoé Never")
    User.objects.filter(pk=never.pk).update(last_login=None)

    rows = admin_client.get(reverse("portal:users"), {"sort": "last_login"}).context["rows"]

    assert [row["membership"].user for row in rows] == [sara, rob, never]


def test_search_ignores_case_and_finds_part_of_a_name_or_an_address(admin_client, contoso):
    member("jean-luc.picard@contoso.com", name="Jean-Luc Picard")
    for query in ("PICARD", "luc pic", "jean-luc.p", "@CONTOSO.com"):
        found = admin_client.get(reverse("portal:users"), {"q": query}).context["rows"]
        emails = {row["membership"].user.email for row in found}
        assert "jean-luc.picard@contoso.com" in emails, query


def test_csv_export_lists_everyone_and_neutralises_formulas(admin_client, contoso):
    member("eve@contoso.com", name="=HYPERLINK(1)")
    response = admin_client.get(reverse("portal:users_csv"))
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0] == "Name,E-mail,Licence,Role,Joined,Last login"
    assert len(lines) == 4
    assert any(line.startswith("'=HYPERLINK(1),eve@contoso.com") for line in lines)


def test_csv_export_neutralises_formulas_in_every_cell(admin_client, contoso):
    """Any cell a spreadsheet would run as a formula (OWASP: = + - @ tab CR) starts with a quote,
    the address too: `=cmd|'/c calc'!A0@contoso.com` passes many address checks."""
    people = {
        "=cmd|'/c calc'!A0@contoso.com": "Eve Equals",
        "+33-1-23@contoso.com": "+SUM(1)",
        "-2+3@contoso.com": "-2+3",
        "at@contoso.com": "@SUM(A1:A9)",
        "tab@contoso.com": "\t=1+1",
        "cr@contoso.com": "\r=1+1",
    }
    for email, name in people.items():
        member(email, name=name)
    response = admin_client.get(reverse("portal:users_csv"))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert len(rows) == 1 + 2 + len(people)
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    exported = {row[1]: row[0] for row in rows[1:]}
    for email, name in people.items():
        safe_email = "'" + email if email[0] in "=+-" else email
        assert exported[safe_email] == ("'" + name if name[0] in "=+-@\t\r" else name)


def test_make_and_revoke_admin_and_the_last_admin_stays(admin_client, contoso):
    rob, (sara,), _subscription = contoso
    act(admin_client, rob, "revoke_admin")
    assert Membership.objects.unscoped().get(user=rob).role == "admin"
    assert any("last admin" in m for m in messages_of(admin_client))
    act(admin_client, sara, "make_admin")
    assert Membership.objects.unscoped().get(user=sara).role == "admin"
    act(admin_client, rob, "revoke_admin")
    assert Membership.objects.unscoped().get(user=rob).role == "member"
    actions = list(
        AuditEvent.objects.unscoped()
        .filter(action="member.role_changed")
        .values_list("target", "before", "after")
    )
    assert ("sara@contoso.com", {"role": "member"}, {"role": "admin"}) in actions
    assert ("rob@contoso.com", {"role": "admin"}, {"role": "member"}) in actions


def test_unknown_action_changes_nothing(admin_client, contoso):
    _rob, (sara,), _subscription = contoso
    response = act(admin_client, sara, "delete_everything")
    assert response.status_code == 302
    assert Membership.objects.unscoped().get(user=sara).role == "member"
    assert not AuditEvent.objects.unscoped().filter(target="sara@contoso.com").exists()


def test_unassign_and_assign_from_the_users_page(admin_client, contoso):
    _rob, (sara,), _subscription = contoso
    act(admin_client, sara, "unassign")
    assert not Licence.objects.unscoped().filter(user=sara).exists()
    act(admin_client, sara, "assign")
    assert Licence.objects.unscoped().filter(user=sara).exists()


def test_password_reset_sends_allauths_mail(admin_client, contoso):
    _rob, (sara,), _subscription = contoso
    mail.outbox.clear()
    admin_client.post(reverse("portal:password_reset", kwargs={"pk": sara.pk}))
    assert [m.to for m in mail.outbox] == [["sara@contoso.com"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    assert AuditEvent.objects.unscoped().filter(action="member.password_reset_sent").exists()


def test_removal_frees_the_licence_keeps_meetings_and_blocks_a_silent_return(admin_client, contoso):
    _rob, (sara,), subscription = contoso
    schedule_meeting(
        organiser=sara,
        title="Sara's review",
        starts_at=subscription.created_at,
        duration_minutes=30,
        lobby_bypass="everyone",
        anonymous_join_allowed=False,
        recording_allowed=False,
    )
    act(admin_client, sara, "remove")
    assert not Membership.objects.unscoped().filter(user=sara).exists()
    assert not Licence.objects.unscoped().filter(user=sara).exists()
    assert Removal.objects.unscoped().filter(user=sara).exists()
    assert Meeting.objects.unscoped().filter(organiser=sara).exists()
    sara_client = Client()
    sara_client.force_login(sara)
    assert "Sara&#x27;s review" in sara_client.get(reverse("meetings:list")).content.decode()
    assert join_tenant_of_verified_email(user=sara, email="sara@contoso.com") is None
    assert not Membership.objects.unscoped().filter(user=sara).exists()
    assert (
        AuditEvent.objects.unscoped()
        .filter(action="member.removed", target="sara@contoso.com")
        .exists()
    )


def test_invitation_adds_a_member_with_a_free_licence_and_a_password_link(
    admin_client, contoso, localstripe, django_capture_on_commit_callbacks
):
    rob, _people, subscription = contoso
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("portal:invite"), {"email": "Li@Contoso.com", "name": "Li Wei"}
        )
    assert response.status_code == 302
    li = User.objects.get(email="li@contoso.com")
    assert Membership.objects.unscoped().get(user=li).tenant == subscription.tenant
    assert Licence.objects.unscoped().filter(user=li).exists()
    assert EmailAddress.objects.get(user=li).verified
    assert not li.has_usable_password()
    [invitation] = mail.outbox
    assert invitation.to == ["li@contoso.com"]
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", invitation.body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    li_client = Client()
    page = li_client.get(path, follow=True)
    li_client.post(
        page.redirect_chain[-1][0], {"password1": "Fresh-Pass-2468", "password2": "Fresh-Pass-2468"}
    )
    assert Client().login(email="li@contoso.com", password="Fresh-Pass-2468")
    assert (
        AuditEvent.objects.unscoped()
        .filter(action="member.invited", target="li@contoso.com")
        .exists()
    )


@pytest.mark.parametrize(
    "email",
    [
        "li@fabrikam.com",
        "li@gmail.com",
        "not-an-address",
        "li@contoso.com.evil.com",
        "a" * 300 + "@contoso.com",
        "rob@contoso.com",
    ],
)
def test_invitation_refuses_other_addresses(admin_client, contoso, email):
    mail.outbox.clear()
    before = set(User.objects.values_list("email", flat=True))
    admin_client.post(reverse("portal:invite"), {"email": email, "name": "Li"})
    assert set(User.objects.values_list("email", flat=True)) == before
    assert mail.outbox == []
    assert messages_of(admin_client)


@pytest.mark.parametrize("spelling", ["li@straße.de", "li@STRAẞE.de", "li@Straße.DE"])
def test_invitation_refuses_an_address_older_mail_software_sends_elsewhere(
    localstripe, db, django_capture_on_commit_callbacks, spelling
):
    """At the tenant of xn--strae-oqa.de, li@straße.de would be mailed at strasse.de."""
    admin, _people, _subscription = managed_tenant(localstripe, "xn--strae-oqa.de", others=())
    client = Client()
    client.force_login(admin)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:invite"), {"email": spelling, "name": "Li"}, follow=True
        )
    [message] = [str(m) for m in response.context["messages"]]
    assert "older mail software" in message or "Only addresses at" in message
    assert not User.objects.filter(email__startswith="li@").exists()
    assert mail.outbox == []


def test_invitation_of_the_xn_spelling_is_mailed_there(
    localstripe, db, django_capture_on_commit_callbacks
):
    admin, _people, _subscription = managed_tenant(localstripe, "xn--strae-oqa.de", others=())
    client = Client()
    client.force_login(admin)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:invite"), {"email": "li@xn--strae-oqa.de", "name": "Li"})
    [invitation] = mail.outbox
    assert invitation.message()["To"] == "li@xn--strae-oqa.de"


def test_invitations_are_rate_limited(admin_client, contoso, settings):
    from portal.views import users

    for index in range(users.INVITATIONS_PER_HOUR + 1):
        admin_client.post(reverse("portal:invite"), {"email": f"x{index}@contoso.com", "name": "X"})
    assert Membership.objects.unscoped().filter(user__email__startswith="x").count() == (
        users.INVITATIONS_PER_HOUR
    )
    assert any("Too many invitations" in m for m in messages_of(admin_client))


def test_self_service_default_joins_with_a_free_licence(contoso, localstripe):
    rob, _people, subscription = contoso
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=3)
    tom = member("tom@contoso.com")
    assert Licence.objects.unscoped().filter(user=tom).exists()
    ann = member("ann@contoso.com")
    assert Membership.objects.unscoped().filter(user=ann).exists()
    assert not Licence.objects.unscoped().filter(user=ann).exists()  # none left: free plan


def test_self_service_approval_then_approve(admin_client, contoso):
    admin_client.post(reverse("portal:policies"), {"form": "signup", "signup_mode": "approval"})
    assert Tenant.objects.get(domain="contoso.com").signup_mode == "approval"
    tom = member("tom@contoso.com")
    assert not Membership.objects.unscoped().filter(user=tom).exists()
    assert JoinRequest.objects.unscoped().filter(user=tom).exists()
    assert "tom@contoso.com" in admin_client.get(reverse("portal:users")).content.decode()
    admin_client.post(reverse("portal:join_request", kwargs={"pk": tom.pk, "decision": "approve"}))
    assert Membership.objects.unscoped().filter(user=tom).exists()
    assert not JoinRequest.objects.unscoped().exists()


def test_self_service_refused(admin_client, contoso):
    admin_client.post(reverse("portal:policies"), {"form": "signup", "signup_mode": "refused"})
    tom = member("tom@contoso.com")
    assert not Membership.objects.unscoped().filter(user=tom).exists()
    assert not JoinRequest.objects.unscoped().exists()
    event = AuditEvent.objects.unscoped().get(action="tenant.signup_mode_changed")
    assert event.after == {"signup_mode": "refused"}


def test_a_bad_sign_up_rule_is_refused(admin_client, contoso):
    response = admin_client.post(
        reverse("portal:policies"), {"form": "signup", "signup_mode": "everyone-is-admin"}
    )
    assert response.status_code == 400
    assert Tenant.objects.get(domain="contoso.com").signup_mode == "licence_if_free"


def test_signing_in_with_the_password_of_a_member(contoso):
    _rob, (sara,), _subscription = contoso
    assert Client().login(email=sara.email, password=PASSWORD)


def test_an_invitation_never_activates_credentials_the_invitee_did_not_set(
    admin_client, contoso, localstripe, django_capture_on_commit_callbacks
):
    """Account pre-hijacking: someone signs up first as the new hire, with their own password
    and name, and cannot sign in (unverified). The admin's invitation must not let them in."""
    attacker = Client()
    attacker.post(
        reverse("account_signup"),
        {
            "name": "Mallory",
            "email": "new.hire@contoso.com",
            "password1": "Attacker-Pass-1357",
            "password2": "Attacker-Pass-1357",
        },
    )
    hijacked = User.objects.get(email="new.hire@contoso.com")
    assert not EmailAddress.objects.get(user=hijacked).verified
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("portal:invite"), {"email": "new.hire@contoso.com", "name": "Nia"}
        )
    invited = User.objects.get(email="new.hire@contoso.com")
    assert invited.pk == hijacked.pk  # linked, never duplicated
    assert Membership.objects.unscoped().filter(user=invited).exists()
    assert invited.name == "Nia"
    assert not invited.has_usable_password()
    assert not Client().login(email="new.hire@contoso.com", password="Attacker-Pass-1357")
    signed_in = attacker.post(
        reverse("account_login"),
        {"login": "new.hire@contoso.com", "password": "Attacker-Pass-1357"},
    )
    assert "_auth_user_id" not in attacker.session
    assert signed_in.status_code == 200  # the form again, with its error
    [invitation] = mail.outbox
    assert "Mallory" not in invitation.body
    assert "Nia" in invitation.body


def test_an_invitation_keeps_the_credentials_of_a_proven_address(
    admin_client, contoso, localstripe
):
    """Someone removed earlier had proved their mailbox: inviting them back keeps their
    password and name."""
    _rob, [sara], _subscription = contoso
    act(admin_client, sara, "remove")
    admin_client.post(reverse("portal:invite"), {"email": "sara@contoso.com", "name": "Other"})
    sara.refresh_from_db()
    assert Membership.objects.unscoped().filter(user=sara).exists()
    assert sara.name == "Sara"
    assert Client().login(email="sara@contoso.com", password=PASSWORD)


def test_a_refused_action_goes_back_to_the_page_with_its_message(admin_client, contoso):
    rob, _people, _subscription = contoso
    users_page = "http://testserver" + reverse("portal:users") + "?sort=email"
    response = admin_client.post(
        reverse("portal:user_action", kwargs={"pk": rob.pk, "action": "revoke_admin"}),
        headers={"Referer": users_page},
    )
    assert (response.status_code, response["Location"]) == (302, users_page)
    page = admin_client.get(response["Location"]).content.decode()
    assert 'class="message error">rob@contoso.com is the last admin' in page
    assert Membership.objects.unscoped().get(user=rob).role == "admin"
