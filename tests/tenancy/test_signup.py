import re

import idna
import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tenancy.models import Membership, Tenant
from tenancy.services.membership import join_tenant_of_verified_email
from tests.factories import PASSWORD, UserFactory, member
from tests.fixtures.idn import MISREAD_DOMAINS

User = get_user_model()
GOOD_PASSWORD = "Unusual-Pass-4321"


def signup(client, email, name="Rob Martin", password=GOOD_PASSWORD, **extra):
    data = {"name": name, "email": email, "password1": password, "password2": password}
    data.update(extra)
    return client.post(reverse("account_signup"), data)


def confirmation_link(message):
    return re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", message.body).group(0)


def confirm(client, message):
    link = confirmation_link(message)
    path = link.split("://", 1)[1].split("/", 1)[1]
    return client.post("/" + path)


@pytest.mark.django_db
def test_signup_sends_verification_and_creates_no_membership_until_verified(client):
    response = signup(client, "Rob@Contoso.COM")
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "rob@contoso.com"
    assert user.name == "Rob Martin"
    assert not Membership.objects.unscoped().exists()
    assert not Tenant.objects.exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rob@contoso.com"]

    response = confirm(client, mail.outbox[0])
    assert response.status_code == 302
    membership = Membership.objects.unscoped().get(user=user)
    assert membership.tenant.domain == "contoso.com"
    assert membership.role == Membership.Role.MEMBER
    assert EmailAddress.objects.get(user=user).verified


@pytest.mark.django_db
def test_unverified_user_cannot_sign_in_and_belongs_to_no_tenant(client):
    signup(client, "rob@contoso.com")
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "rob@contoso.com", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not Membership.objects.unscoped().exists()
    assert client.get(reverse("tenancy:home")).status_code == 302


@pytest.mark.django_db
def test_two_addresses_of_one_domain_share_a_tenant():
    rob = member("rob@Contoso.COM")
    sara = member("sara@contoso.com.")
    assert rob.membership.tenant == sara.membership.tenant
    assert Tenant.objects.get().domain == "contoso.com"


@pytest.mark.django_db
def test_subdomain_is_its_own_tenant():
    rob = member("rob@contoso.com")
    eve = member("eve@eu.contoso.com")
    assert rob.membership.tenant != eve.membership.tenant
    assert set(Tenant.objects.values_list("domain", flat=True)) == {"contoso.com", "eu.contoso.com"}


@pytest.mark.django_db
def test_idn_domain_is_stored_as_punycode(client):
    signup(client, "anna@bücher.de")
    confirm(client, mail.outbox[0])
    assert Tenant.objects.get().domain == "xn--bcher-kva.de"


@pytest.mark.django_db
@pytest.mark.parametrize("domain", MISREAD_DOMAINS)
def test_an_address_older_mail_software_sends_elsewhere_is_refused_at_sign_up(client, domain):
    """The owner of bob@strasse.de must not verify bob@straße.de and join xn--strae-oqa.de."""
    response = signup(client, f"bob@{domain}")
    assert response.status_code == 200
    [error] = response.context["form"].errors["email"]
    assert "older mail software" in error
    assert idna.encode(domain, uts46=True).decode() in error
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("bob@xn--strae-oqa.de", "xn--strae-oqa.de"),
        ("bob@xn--hxarsa0b.gr", "xn--hxarsa0b.gr"),
        ("anna@bücher.de", "xn--bcher-kva.de"),
        ("anna@ελλάσ.gr", "xn--hxarsa5b.gr"),
    ],
)
def test_an_accepted_address_is_mailed_at_exactly_its_tenant_key(client, email, key):
    signup(client, email)
    [message] = mail.outbox
    assert message.message()["To"] == email.partition("@")[0] + "@" + key
    confirm(client, message)
    assert Tenant.objects.get().domain == key


@pytest.mark.django_db
def test_an_address_older_mail_software_sends_elsewhere_cannot_be_added(client):
    rob = member("rob@contoso.com")
    client.force_login(rob)
    for domain in MISREAD_DOMAINS:
        response = client.post(
            reverse("account_email"), {"email": f"rob@{domain}", "action_add": ""}
        )
        assert response.status_code == 200
        assert "older mail software" in response.context["form"].errors["email"][0]
    assert list(EmailAddress.objects.values_list("email", flat=True)) == ["rob@contoso.com"]
    assert mail.outbox == []


@pytest.mark.django_db
def test_such_an_address_verified_before_the_rule_joins_no_tenant():
    bob = UserFactory(email="bob@straße.de", verified=False)
    assert join_tenant_of_verified_email(user=bob, email=bob.email) is None
    assert not Tenant.objects.exists()
    assert not Membership.objects.unscoped().exists()


@pytest.mark.django_db
def test_membership_records_join_date_and_is_not_restarted():
    rob = member("rob@contoso.com")
    first_joined = rob.membership.joined_at
    again = join_tenant_of_verified_email(user=rob, email=rob.email)
    assert again.joined_at == first_joined
    assert Membership.objects.unscoped().count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "email", ["someone@gmail.com", "someone@hotmail.fr", "someone@orange.fr", "x@yahoo.co.uk"]
)
def test_consumer_addresses_are_refused_with_a_clear_message(client, email):
    response = signup(client, email)
    assert response.status_code == 200
    assert "work e-mail address" in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["rob@[192.168.0.1]", "rob@[IPv6:2001:db8::1]", "rob@127.0.0.1"])
def test_ip_literal_addresses_are_refused(client, email):
    response = signup(client, email)
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-address"),
        ("email", "rob@"),
        ("email", "@contoso.com"),
        ("email", "rob@@contoso.com"),
        ("email", "a" * 10_000 + "@contoso.com"),
        ("email", "rob\x00@contoso.com"),
        ("name", "x" * 10_000),
        ("name", "Rob\x00Martin"),
        ("name", "<script>alert(1)</script>"),
        ("name", "Rob <b>Martin</b>"),
        ("name", "   "),
        ("name", "Rob\x07Martin"),
        ("password1", "p" * 10_000),
    ],
)
def test_bad_input_gets_a_form_error_and_creates_no_rows(client, field, value):
    data = {"name": "Rob", "email": "rob@contoso.com", "password1": GOOD_PASSWORD}
    data[field] = value
    data["password2"] = data["password1"]
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()
    assert not Tenant.objects.exists()
    assert mail.outbox == []
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.django_db
def test_password_reset_sends_a_working_link(client):
    member("rob@contoso.com")
    response = client.post(reverse("account_reset_password"), {"email": "ROB@contoso.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+/", mail.outbox[0].body)
    path = "/" + link.group(0).split("://", 1)[1].split("/", 1)[1]
    response = client.get(path, follow=True)
    new = "Another-Unusual-9876"
    response = client.post(response.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert response.status_code == 302
    assert User.objects.get(email="rob@contoso.com").check_password(new)


@pytest.mark.django_db
def test_login_is_rate_limited(client):
    member("rob@contoso.com")
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "rob@contoso.com", "password": "wrong"})
    response = client.post(
        reverse("account_login"), {"login": "rob@contoso.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_verified_member_sees_the_launcher(client):
    rob = member("rob@contoso.com")
    client.force_login(rob)
    body = client.get(reverse("tenancy:home")).content.decode()
    assert 'class="tile tile-meetings"' in body
    assert 'class="tile tile-admin"' in body
    assert "contoso.com" in body


@pytest.mark.django_db
def test_pages_are_served_in_french(client):
    rob = member("rob@contoso.com")
    client.force_login(rob)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    body = client.get(reverse("tenancy:home")).content.decode()
    assert 'lang="fr"' in body
    assert "Réunions" in body
    assert "Bienvenue" in body
