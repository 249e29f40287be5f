"""Enforced single sign-on: the password paths close for members, admins keep the break-glass
path; enforcing needs a test sign-in and a fresh authentication, and is audited."""

import re

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.core import mail

from sso import services
from sso.selectors import connection_of
from tenancy.models import AuditEvent, User
from tests.factories import PASSWORD
from tests.fixtures.sso import connect_oidc, oidc_sign_in, signed_in_id, text_of, visitor
from tests.fixtures.two_factor import totp_code

pytestmark = pytest.mark.django_db


def enforce(admin):
    return services.set_enforcement(tenant=admin.membership.tenant, actor=admin, enforced=True)


def password_sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def reauthenticated(admin):
    """Rob confirmed his password a moment ago (allauth's re-authentication)."""
    client = visitor()
    client.force_login(admin)
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


def test_enforcing_needs_a_fresh_authentication_then_is_audited(contoso_oidc):
    rob, _sara, _connection = contoso_oidc
    client = visitor()
    client.force_login(rob)  # signed in, with no recent proof: not enough
    response = client.post("/admin/sso/enforce/", {"enforced": "on"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not connection_of(rob.membership.tenant).is_enforced
    response = client.post(response["Location"], {"password": PASSWORD})
    assert connection_of(rob.membership.tenant).is_enforced
    event = AuditEvent.objects.unscoped().get(action="sso.enforced")
    assert (event.actor, event.before, event.after) == (
        rob,
        {"enforced": False},
        {"enforced": True},
    )


def test_enforcing_needs_a_successful_test_sign_in(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    connect_oidc(rob, oidc_idp, tested=False)
    client = reauthenticated(rob)
    response = client.post("/admin/sso/enforce/", {"enforced": "on"}, follow=True)
    assert "Test the sign-in through your identity provider first." in text_of(response)
    assert not connection_of(rob.membership.tenant).is_enforced
    assert not AuditEvent.objects.unscoped().filter(action="sso.enforced").exists()


def test_enforcing_needs_an_admin_who_could_use_the_break_glass_path(contoso_oidc):
    rob, _sara, _connection = contoso_oidc
    User.objects.filter(pk=rob.pk).update(password="!")  # an unusable password
    rob.refresh_from_db()
    with pytest.raises(services.SsoError, match="No admin of your organisation has a password"):
        enforce(rob)


def test_members_cannot_use_a_password_but_admins_can(contoso_oidc, oidc_idp):
    rob, sara, _connection = contoso_oidc
    enforce(rob)
    client = visitor()
    response = password_sign_in(client, "sara@contoso.com")
    assert response.status_code == 200
    assert "contoso.com signs in through its identity provider" in text_of(response)
    assert signed_in_id(client) is None
    # The break-glass path: the admin's password, then their second factor.
    admin = visitor()
    response = password_sign_in(admin, "rob@contoso.com")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_id(admin) is None
    secret = decrypt(
        Authenticator.objects.get(user=rob, type=Authenticator.Type.TOTP).data["secret"]
    )
    admin.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert signed_in_id(admin) == rob.pk
    # Sara signs in through the IdP as before.
    oidc_sign_in(client, oidc_idp, "sara@contoso.com", "sara")
    assert signed_in_id(client) == sara.pk


def test_a_member_asking_for_a_reset_is_told_where_to_sign_in(contoso_oidc):
    rob, _sara, _connection = contoso_oidc
    enforce(rob)
    for email in ("sara@contoso.com", "rob@contoso.com"):
        response = visitor().post("/accounts/password/reset/", {"email": email})
        assert response.status_code == 302
    sara_mail, rob_mail = mail.outbox
    assert sara_mail.to == ["sara@contoso.com"]
    assert "there is no password to reset" in sara_mail.body
    assert "/accounts/password/reset/key/" not in sara_mail.body
    assert "/accounts/password/reset/key/" in rob_mail.body


def test_a_reset_link_kept_from_before_does_not_set_a_password(contoso_oidc):
    rob, sara, _connection = contoso_oidc
    path = (
        f"/accounts/password/reset/key/{user_pk_to_url_str(sara)}-"
        f"{default_token_generator.make_token(sara)}/"
    )
    enforce(rob)
    client = visitor()
    form_page = client.get(path, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "a-new-long-password-1", "password2": "a-new-long-password-1"},
    )
    assert "contoso.com signs in through its identity provider" in text_of(response)
    sara.refresh_from_db()
    assert sara.check_password(PASSWORD)


def test_signing_up_with_a_password_at_an_enforced_domain_is_refused(contoso_oidc):
    rob, _sara, _connection = contoso_oidc
    enforce(rob)
    users = User.objects.count()
    response = visitor().post(
        "/accounts/signup/",
        {
            "name": "Nina Keller",
            "email": "nina@contoso.com",
            "password1": "a-new-long-password-1",
            "password2": "a-new-long-password-1",
        },
    )
    assert "contoso.com signs in through its identity provider" in text_of(response)
    assert User.objects.count() == users


def test_the_details_cannot_change_nor_the_idp_go_while_enforced(contoso_oidc, oidc_idp):
    rob, _sara, connection = contoso_oidc
    enforce(rob)
    tenant = rob.membership.tenant
    with pytest.raises(services.SsoError, match="turn enforcement off"):
        services.save_oidc_details(
            tenant=tenant, actor=rob, issuer=oidc_idp.issuer, client_id="other", client_secret=""
        )
    with pytest.raises(services.SsoError, match="turn enforcement off"):
        services.remove_connection(tenant=tenant, actor=rob)
    connection.refresh_from_db()
    assert connection.client_id != "other"


def test_lifting_enforcement_opens_the_password_paths_again(contoso_oidc):
    rob, sara, _connection = contoso_oidc
    enforce(rob)
    client = reauthenticated(rob)
    response = client.post("/admin/sso/enforce/", {"enforced": "off"})
    assert response["Location"] == "/admin/sso/"
    assert AuditEvent.objects.unscoped().filter(action="sso.enforcement_lifted").count() == 1
    member = visitor()
    assert password_sign_in(member, "sara@contoso.com").status_code == 302
    assert signed_in_id(member) == sara.pk


def test_the_page_says_who_keeps_the_break_glass_path(contoso_oidc):
    rob, _sara, _connection = contoso_oidc
    enforce(rob)
    page = text_of(reauthenticated(rob).get("/admin/sso/"))
    admins = re.search(r'data-testid="break-glass-admins">(.*?)</ul>', page, re.S).group(1)
    assert "Rob Martin <rob@contoso.com>" in admins
    assert "sara@contoso.com" not in admins
    assert "Two-factor authentication is not available in Quorum yet" in page
