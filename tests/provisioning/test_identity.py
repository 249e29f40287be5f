"""Provisioning changes a person's account (name, address, active): their next request sees it,
the kept identity (tenancy.identity) on."""

import pytest

from tenancy.models import User
from tests.fixtures.identity import next_request, signed_in
from tests.fixtures.scim import new_user

pytestmark = pytest.mark.usefixtures("identity_cache")


def test_a_new_name_and_a_deactivation_are_seen_on_the_next_request(contoso, entra):
    _token, scim = entra
    resource = scim.post("/Users", new_user("ann@contoso.com")).json()
    client = signed_in(User.objects.get(email="ann@contoso.com"))

    renamed = scim.patch(
        f"/Users/{resource['id']}", [{"op": "replace", "path": "displayName", "value": "Ann Weber"}]
    )
    assert renamed.status_code == 200
    assert next_request(client).user.name == "Ann Weber"

    deactivated = scim.patch(
        f"/Users/{resource['id']}", [{"op": "replace", "path": "active", "value": False}]
    )
    assert deactivated.status_code == 200
    assert client.get("/meetings/").status_code == 302  # signed out at once
