"""The requests Microsoft Entra ID and Okta send, in the shapes of their public SCIM guides
(Entra: "Develop and plan provisioning for a SCIM endpoint" and "Known issues and resolutions
with SCIM 2.0 protocol compliance"; Okta: "SCIM 2.0 protocol: understanding SCIM" for
provisioning integrations), non-standard forms included."""

from tenancy.models import User
from tests.fixtures.scim import CORE, ENTERPRISE, PATCH_OP, scim_client


def entra_user(user_name, external_id):
    return {
        "schemas": [CORE, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Ann Lee", "familyName": "Lee", "givenName": "Ann"},
        "roles": [],
    }


def test_entra_creates_finds_updates_disables_and_deletes_a_user(contoso, entra):
    _token, scim = entra
    # Entra looks the person up before creating them: zero results is a list, not a 404.
    lookup = scim.get('/Users?filter=userName eq "ann@contoso.com"')
    assert lookup.status_code == 200
    assert lookup.json()["totalResults"] == 0
    created = scim.post("/Users", entra_user("ann@contoso.com", "0a21f0f2-8d2a"))
    assert created.status_code == 201
    user_id = created.json()["id"]
    found = scim.get('/Users?filter=userName eq "ann@contoso.com"').json()
    assert [resource["id"] for resource in found["Resources"]] == [user_id]

    # Multi-valued and single-valued updates, with Entra's capitalised "Replace".
    response = scim.patch(
        f"/Users/{user_id}",
        [
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "ann.lee@contoso.com",
            },
            {"op": "Replace", "path": "name.familyName", "value": "Lee-Martin"},
            {"op": "Replace", "path": "userName", "value": "ann.lee@contoso.com"},
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Sales"},
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["userName"] == "ann.lee@contoso.com"
    assert body["emails"] == [{"primary": True, "type": "work", "value": "ann.lee@contoso.com"}]
    assert body["name"]["familyName"] == "Lee-Martin"
    assert body[ENTERPRISE] == {"department": "Sales"}
    assert User.objects.filter(email="ann.lee@contoso.com").exists()

    # Disabling with a capitalised op and the boolean as a string, then enabling again.
    response = scim.patch(
        f"/Users/{user_id}", [{"op": "Replace", "path": "active", "value": "False"}]
    )
    assert response.json()["active"] is False
    assert not User.objects.get(email="ann.lee@contoso.com").is_active
    response = scim.patch(
        f"/Users/{user_id}", [{"op": "Replace", "path": "active", "value": "True"}]
    )
    assert User.objects.get(email="ann.lee@contoso.com").is_active

    # Entra's hard delete, 30 days after the soft one.
    assert scim.delete(f"/Users/{user_id}").status_code == 204
    assert scim.get(f"/Users/{user_id}").status_code == 404


def test_entra_finds_people_by_their_work_address(contoso, entra):
    _token, scim = entra
    scim.post("/Users", entra_user("ann@contoso.com", "e-ann"))
    response = scim.get('/Users?filter=emails[type eq "work"].value eq "ann@contoso.com"')
    assert [resource["userName"] for resource in response.json()["Resources"]] == [
        "ann@contoso.com"
    ]
    by_external_id = scim.get('/Users?filter=externalId eq "e-ann"').json()
    assert by_external_id["totalResults"] == 1


def test_entra_older_add_without_path_and_filtered_keys(contoso, entra):
    """Jobs made before Entra's 2020 fix send one "Add" whose value is keyed by paths, filters
    included; Quorum reads it as the operations it stands for."""
    _token, scim = entra
    user_id = scim.post("/Users", entra_user("ann@contoso.com", "e-ann")).json()["id"]

    response = scim.patch(
        f"/Users/{user_id}",
        [
            {
                "op": "Add",
                "value": {
                    "displayName": "Ann L.",
                    'emails[type eq "work"].value': "ann.l@contoso.com",
                    "name.givenName": "Anne",
                    "externalId": "e-ann-2",
                    f"{ENTERPRISE}:employeeNumber": "42",
                },
            }
        ],
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["displayName"] == "Ann L."
    assert body["emails"][0]["value"] == "ann.l@contoso.com"
    assert body["name"]["givenName"] == "Anne"
    assert body["externalId"] == "e-ann-2"
    assert body[ENTERPRISE]["employeeNumber"] == "42"
    assert User.objects.get(email="ann@contoso.com").name == "Ann L."


def okta_user(user_name):
    return {
        "schemas": [CORE],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }


def test_okta_creates_with_a_password_that_is_never_taken(contoso):
    rob, _people, _subscription = contoso
    _token, scim = scim_client(rob, name="Okta")
    lookup = scim.get('/Users?filter=userName eq "test.user@contoso.com"&startIndex=1&count=100')
    assert lookup.json()["totalResults"] == 0

    response = scim.post("/Users", okta_user("test.user@contoso.com"))

    assert response.status_code == 201
    assert "password" not in response.json()
    person = User.objects.get(email="test.user@contoso.com")
    assert not person.has_usable_password()
    assert not person.check_password("1mz050nq")


def test_okta_updates_with_put_and_deactivates_with_a_pathless_replace(contoso):
    rob, _people, _subscription = contoso
    _token, scim = scim_client(rob, name="Okta")
    user_id = scim.post("/Users", okta_user("test.user@contoso.com")).json()["id"]

    # Okta sends the whole user back with PUT when a profile changes.
    replaced = okta_user("test.user@contoso.com")
    replaced.update(id=user_id, name={"givenName": "Another", "familyName": "User"})
    replaced["displayName"] = "Another User"
    response = scim.put(f"/Users/{user_id}", replaced)
    assert response.status_code == 200
    assert User.objects.get(email="test.user@contoso.com").name == "Another User"

    # Deactivation and reactivation: a replace without path, the value an object.
    response = scim.request(
        "PATCH",
        f"/Users/{user_id}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert not User.objects.get(email="test.user@contoso.com").is_active
    scim.patch(f"/Users/{user_id}", [{"op": "replace", "value": {"active": True}}])
    assert User.objects.get(email="test.user@contoso.com").is_active


def test_every_rfc_7644_patch_form(contoso, entra):
    """add/replace/remove, with a path, a sub-attribute path, a value filter, an extension path,
    and without a path."""
    _token, scim = entra
    user_id = scim.post(
        "/Users",
        entra_user("ann@contoso.com", "e-ann")
        | {"phoneNumbers": [{"type": "work", "value": "+33 1 00 00 00 01"}]},
    ).json()["id"]

    steps = [
        ({"op": "add", "path": "title", "value": "Engineer"}, lambda b: b["title"] == "Engineer"),
        (
            {
                "op": "add",
                "path": "emails",
                "value": [{"type": "home", "value": "ann@home.example"}],
            },
            lambda b: len(b["emails"]) == 2,
        ),
        (
            {"op": "add", "value": {"nickName": "Annie", "name": {"middleName": "M"}}},
            lambda b: b["nickName"] == "Annie" and b["name"]["middleName"] == "M",
        ),
        (
            {"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "+33 2"},
            lambda b: b["phoneNumbers"][0]["value"] == "+33 2",
        ),
        (
            {"op": "replace", "path": "name", "value": {"givenName": "Annie", "familyName": "L"}},
            # RFC 7644 §3.5.2.3: the sub-attributes not given are left as they were.
            lambda b: (
                b["name"]
                == {"formatted": "Ann Lee", "middleName": "M"}
                | {"givenName": "Annie", "familyName": "L"}
            ),
        ),
        (
            {"op": "replace", "value": {"title": "Lead", f"{ENTERPRISE}:department": "R&D"}},
            lambda b: b["title"] == "Lead" and b[ENTERPRISE]["department"] == "R&D",
        ),
        (
            {"op": "remove", "path": 'emails[type eq "home"]'},
            lambda b: [email["type"] for email in b["emails"]] == ["work"],
        ),
        ({"op": "remove", "path": "name.familyName"}, lambda b: "familyName" not in b["name"]),
        ({"op": "remove", "path": f"{ENTERPRISE}:department"}, lambda b: ENTERPRISE not in b),
        ({"op": "remove", "path": "title"}, lambda b: "title" not in b),
    ]
    for operation, holds in steps:
        response = scim.patch(f"/Users/{user_id}", [operation])
        assert response.status_code == 200, (operation, response.content)
        assert holds(response.json()), operation
        assert holds(scim.get(f"/Users/{user_id}").json()), operation
