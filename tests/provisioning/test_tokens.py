"""Tokens: each acts only on its own tenant, a revoked or unknown one gets 401, each has its own
rate limit; the admin centre makes them (shown once) and revokes them."""

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from provisioning.models import ProvisionedUser, ProvisioningToken
from tenancy.models import AuditEvent, TenantDomain, User
from tests.fixtures.scim import ScimClient, error_of, new_user, scim_client
from tests.fixtures.two_factor import reauthenticate, recently_signed_in


def test_a_token_never_sees_or_touches_another_tenants_people(contoso, fabrikam, entra):
    fay, _people, _subscription = fabrikam
    _token, contoso_scim = entra
    _token, fabrikam_scim = scim_client(fay, name="Fabrikam Okta")
    ann_id = contoso_scim.post("/Users", new_user("ann@contoso.com")).json()["id"]
    fabrikam_scim.post("/Users", new_user("gil@fabrikam.com"))

    assert fabrikam_scim.get(f"/Users/{ann_id}").status_code == 404
    listed = fabrikam_scim.get("/Users").json()
    assert [resource["userName"] for resource in listed["Resources"]] == ["gil@fabrikam.com"]
    found = fabrikam_scim.get('/Users?filter=userName eq "ann@contoso.com"').json()
    assert found["totalResults"] == 0
    replaced = fabrikam_scim.put(f"/Users/{ann_id}", new_user("ann@fabrikam.com"))
    assert replaced.status_code == 404
    patched = fabrikam_scim.patch(
        f"/Users/{ann_id}", [{"op": "replace", "value": {"active": False}}]
    )
    assert patched.status_code == 404
    assert fabrikam_scim.delete(f"/Users/{ann_id}").status_code == 404
    # Nor can it provision at the other tenant's domain, or take its members.
    assert error_of(fabrikam_scim.post("/Users", new_user("sara@contoso.com")))[:2] == (
        400,
        "invalidValue",
    )
    ann = User.objects.get(email="ann@contoso.com")
    assert ann.is_active
    assert ProvisionedUser.objects.unscoped().get(user=ann).tenant.domain == "contoso.com"


def test_a_revoked_or_unknown_token_gets_401_and_changes_nothing(contoso, entra):
    rob, _people, _subscription = contoso
    token, scim = entra
    admin = Client()
    recently_signed_in(admin, rob)
    admin.post(f"/admin/provisioning/tokens/{token.pk}/revoke/")

    response = scim.post("/Users", new_user("ann@contoso.com"))

    status, _type, detail = error_of(response)
    assert status == 401
    assert "revoked" in detail
    assert response["WWW-Authenticate"] == 'Bearer realm="SCIM"'
    assert not User.objects.filter(email="ann@contoso.com").exists()
    for secret in ("", "nonsense", f"{token.key}.wrong-secret", scim.secret + "x"):
        assert ScimClient(secret).get("/Users").status_code == 401
    assert Client().get("/scim/v2/Users").status_code == 401
    assert Client().get("/scim/v2/Schemas").status_code == 401
    # RFC 7643 §5: what the service supports is readable by anyone.
    assert Client().get("/scim/v2/ServiceProviderConfig").status_code == 200


@override_settings(SCIM_REQUESTS_PER_MINUTE=3)
def test_each_token_has_its_own_rate_limit(contoso, entra):
    rob, _people, _subscription = contoso
    _token, scim = entra
    _token, other = scim_client(rob, name="Okta")
    for _ in range(3):
        assert scim.get("/Users").status_code == 200

    response = scim.post("/Users", new_user("ann@contoso.com"))

    status, _type, detail = error_of(response)
    assert status == 429
    assert response["Retry-After"] == "60"
    assert "3" in detail
    assert not User.objects.filter(email="ann@contoso.com").exists()
    assert other.get("/Users").status_code == 200


def test_the_admin_centre_makes_a_token_shown_once_and_revokes_it(contoso):
    rob, _people, _subscription = contoso
    admin = Client()
    recently_signed_in(admin, rob)

    page = admin.get("/admin/provisioning/").content.decode()
    assert "http://testserver/scim/v2" in page
    assert "contoso.com" in page

    response = admin.post(
        "/admin/provisioning/tokens/", {"name": "  Microsoft   Entra ID "}, follow=True
    )

    assert response.redirect_chain == [("/admin/provisioning/", 302)]
    assert response["Cache-Control"] == "no-store"
    token = ProvisioningToken.objects.unscoped().get()
    assert token.name == "Microsoft Entra ID"
    value = response.context["created"]["value"]
    assert value in response.content.decode()
    assert value.split(".", 1)[1] not in token.secret_hash  # only a digest is kept
    assert ScimClient(value).get("/Users").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert value not in admin.get("/admin/provisioning/").content.decode()
    assert (
        AuditEvent.objects.unscoped()
        .filter(action="provisioning.token_created", actor=rob, target="Microsoft Entra ID")
        .exists()
    )

    admin.post(f"/admin/provisioning/tokens/{token.pk}/revoke/")

    assert ScimClient(value).get("/Users").status_code == 401
    assert "Revoked on" in admin.get("/admin/provisioning/").content.decode()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_name_of_a_sensible_length(contoso, name):
    rob, _people, _subscription = contoso
    admin = Client()
    recently_signed_in(admin, rob)

    response = admin.post("/admin/provisioning/tokens/", {"name": name})

    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not ProvisioningToken.objects.unscoped().exists()


def test_another_tenants_token_cannot_be_revoked(contoso, fabrikam):
    fay, _people, _subscription = fabrikam
    rob, _people, _subscription = contoso
    token, scim = scim_client(fay)
    admin = Client()
    recently_signed_in(admin, rob)

    assert admin.post(f"/admin/provisioning/tokens/{token.pk}/revoke/").status_code == 404
    assert scim.get("/Users").status_code == 200


def test_making_a_token_asks_to_prove_who_one_is_again(contoso):
    """A token is a lasting credential: an admin signed in long ago types the password first."""
    rob, _people, _subscription = contoso  # an admin with an authenticator app (the fixture)
    admin = Client()
    admin.force_login(rob)  # signed in, but with no recent proof
    response = admin.post("/admin/provisioning/tokens/", {"name": "Okta"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not ProvisioningToken.objects.unscoped().exists()
    reauthenticate(admin)
    assert admin.post("/admin/provisioning/tokens/", {"name": "Okta"}).status_code == 302
    assert ProvisioningToken.objects.unscoped().get().name == "Okta"


@pytest.mark.django_db(transaction=True)
def test_a_kept_token_is_read_from_the_cache_and_its_revocation_seen_at_once(contoso, entra):
    """The token is kept between requests under its table's version (core.tables): committed,
    as in production, a revocation renews it and the very next request gets 401."""
    rob, _people, _subscription = contoso
    token, scim = entra
    # The first use notes its time (a write, which renews the table); the next one keeps it.
    assert scim.get("/Users").status_code == 200
    assert scim.get("/Users").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert scim.get("/Users").status_code == 200
    assert not any('"provisioning_provisioningtoken"' in query["sql"] for query in queries)

    admin = Client()
    recently_signed_in(admin, rob)
    admin.post(f"/admin/provisioning/tokens/{token.pk}/revoke/")

    status, _type, detail = error_of(scim.post("/Users", new_user("ann@contoso.com")))
    assert (status, "revoked" in detail) == (401, True)
    assert not User.objects.filter(email="ann@contoso.com").exists()


@pytest.mark.django_db(transaction=True)
def test_a_kept_token_carries_its_tenants_domains_and_a_suspension_is_seen_at_once(contoso, entra):
    """The token is kept with its tenant's trusted domains: a person at one of them is
    provisioned without reading the tenant domains. Committed, as in production, a domain
    suspended meanwhile renews their version, and the very next request is refused."""
    _token, scim = entra
    assert scim.get("/Users").status_code == 200  # the first use notes its time: a write
    assert scim.get("/Users").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert scim.post("/Users", new_user("ann@contoso.com")).status_code == 201
    assert not any('"tenancy_tenantdomain"' in query["sql"] for query in queries)

    TenantDomain.objects.unscoped().filter(domain="contoso.com").update(
        status=TenantDomain.Status.SUSPENDED
    )
    status, scim_type, _detail = error_of(scim.post("/Users", new_user("bob@contoso.com")))
    assert (status, scim_type) == (400, "invalidValue")
    assert not User.objects.filter(email="bob@contoso.com").exists()
