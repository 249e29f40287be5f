"""An IT admin connects an identity provider: makes a token in the admin centre (shown once),
the identity provider provisions a person with it over SCIM, and the admin centre shows them
waiting for a licence and the token as the actor in the audit log."""

import httpx2
import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from playwright.sync_api import expect

from tests.fixtures.purchases import managed_tenant

from .journeys import assert_accessible, reauthenticate, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_connects_an_identity_provider(new_page, live_server, localstripe):
    secret = generate_totp_secret()
    managed_tenant(localstripe, "contoso.test", totp_secret=secret)
    rob = new_page()
    sign_in(rob, "rob@contoso.test", totp_secret=secret)
    rob.goto(f"{live_server.url}/admin/")

    rob.get_by_role("link", name="Provisioning").click()
    assert_accessible(rob)
    expect(rob.get_by_test_id("scim-base-url")).to_have_text(f"{live_server.url}/scim/v2")
    rob.get_by_label("Name").fill("Microsoft Entra ID")
    rob.get_by_role("button", name="Make a token").click()
    reauthenticate(rob)  # a lasting credential: the password again, then the token is made
    token = rob.get_by_test_id("token-value").inner_text()
    screenshot(rob, "provisioning-token-made")
    expect(rob.get_by_test_id("tokens")).to_contain_text("Microsoft Entra ID")

    response = httpx2.post(
        f"{live_server.url}/scim/v2/Users",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ann@contoso.test",
            "displayName": "Ann Lee",
            "active": True,
        },
    )
    assert response.status_code == 201

    rob.reload()
    expect(rob.get_by_test_id("token-value")).to_have_count(0)  # shown once
    rob.get_by_role("link", name="Dashboard").click()
    expect(rob.get_by_test_id("waiting-for-licence")).to_have_text("1")
    rob.get_by_role("link", name="Active users").click()
    expect(rob.locator("tr[data-email='ann@contoso.test']")).to_contain_text("Free plan")
    rob.get_by_role("link", name="Audit log").click()
    expect(rob.get_by_test_id("audit")).to_contain_text("Microsoft Entra ID (provisioning token)")
    rob.get_by_role("link", name="Provisioning").click()
    rob.get_by_role("button", name="Revoke").click()
    expect(rob.locator(".messages")).to_contain_text("was revoked")
    revoked = httpx2.get(
        f"{live_server.url}/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}
    )
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
