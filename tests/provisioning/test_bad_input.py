"""Bad requests get a SCIM error with the right scimType, and change nothing."""

import json

import pytest

from provisioning.models import ProvisionedUser
from provisioning.scim import MAX_BODY_BYTES
from tenancy.models import User
from tests.fixtures.scim import CORE, error_of, new_user


def nothing_provisioned():
    return (
        not ProvisionedUser.objects.unscoped().exists()
        and not User.objects.filter(email="ann@contoso.com").exists()
    )


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ('{"schemas": [', "application/scim+json", (400, "invalidSyntax")),
        (
            json.dumps(new_user("ann@contoso.com", shoeSize=44)),
            "application/scim+json",
            (400, "invalidSyntax"),
        ),
        (
            json.dumps(new_user("ann@contoso.com") | {"schemas": [CORE, "urn:example:nope"]}),
            "application/scim+json",
            (400, "invalidSyntax"),
        ),
        (
            json.dumps(new_user("ann@contoso.com", name={"nick": "A"})),
            "application/scim+json",
            (400, "invalidSyntax"),
        ),
        (
            json.dumps({"schemas": [CORE], "active": True}),
            "application/scim+json",
            (400, "invalidValue"),
        ),
        (
            json.dumps(new_user("ann@contoso.com", externalId="x" * 256)),
            "application/scim+json",
            (400, "invalidValue"),
        ),
        (
            json.dumps(
                new_user(
                    "ann@contoso.com",
                    emails=[{"value": "ann@contoso.com", "type": "w" * 65, "primary": True}],
                )
            ),
            "application/scim+json",
            (400, "invalidValue"),
        ),
        (json.dumps(new_user("ann@contoso.com")), "text/plain", (415, None)),
        ("userName=ann@contoso.com", "application/x-www-form-urlencoded", (415, None)),
        (
            json.dumps(new_user("ann@contoso.com", displayName="x" * MAX_BODY_BYTES)),
            "application/scim+json",
            (413, None),
        ),
    ],
    ids=[
        "bad json",
        "unknown attribute",
        "unknown schema",
        "unknown sub-attribute",
        "no userName",
        "externalId too long",
        "an e-mail's type too long",
        "text",
        "a form",
        "huge body",
    ],
)
def test_a_bad_creation_is_a_scim_error_and_changes_nothing(entra, raw, content_type, expected):
    _token, scim = entra

    response = scim.request("POST", "/Users", raw=raw, content_type=content_type)

    assert error_of(response)[:2] == expected
    assert nothing_provisioned()


def test_a_body_announcing_more_than_the_limit_is_not_read(entra):
    _token, scim = entra
    response = scim.client.generic(
        "POST",
        "/scim/v2/Users",
        json.dumps(new_user("ann@contoso.com")),
        content_type="application/scim+json",
        headers={"Content-Length": str(MAX_BODY_BYTES + 1)},
    )
    assert error_of(response)[0] == 413
    assert nothing_provisioned()


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        ([{"op": "jump", "path": "title", "value": "x"}], (400, "invalidValue")),
        ([{"op": "replace", "path": "shoeSize", "value": 44}], (400, "invalidPath")),
        (
            [{"op": "replace", "path": "userName", "value": "ann@fabrikam.com"}],
            (400, "invalidValue"),
        ),
        ([{"op": "remove", "path": "userName"}], (400, "mutability")),
        ([{"op": "replace", "path": "active", "value": "maybe"}], (400, "invalidValue")),
    ],
    ids=["unknown op", "unknown path", "other domain", "required attribute", "not a boolean"],
)
def test_a_bad_patch_is_a_scim_error_and_changes_nothing(entra, operations, expected):
    _token, scim = entra
    resource = scim.post("/Users", new_user("ann@contoso.com", title="Engineer")).json()

    response = scim.patch(f"/Users/{resource['id']}", operations)

    assert error_of(response)[:2] == expected
    assert scim.get(f"/Users/{resource['id']}").json() == resource | {
        "meta": scim.get(f"/Users/{resource['id']}").json()["meta"]
    }
    assert User.objects.get(email="ann@contoso.com").is_active


def test_groups_are_not_served_and_not_announced(entra):
    _token, scim = entra
    assert [kind["name"] for kind in scim.get("/ResourceTypes").json()["Resources"]] == ["User"]
    assert error_of(scim.get("/Groups"))[0] == 404
    assert error_of(scim.post("/Groups", {"displayName": "Sales"}))[0] == 404
    config = scim.get("/ServiceProviderConfig").json()
    assert config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 200}
