import json

import pytest
from django.test import Client

from licensing.models import Subscription
from licensing.services.seats import change_seat_count
from provisioning.services.tokens import create_token
from tenancy.models import Tenant

SCIM_JSON = "application/scim+json"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class ScimClient:
    """Django's test client speaking SCIM with one provisioning token."""

    def __init__(self, secret):
        self.secret = secret
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def request(self, method, path, body=None, content_type=SCIM_JSON, raw=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(method, f"/scim/v2{path}", data, content_type=content_type)

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        return self.request("POST", path, body)

    def put(self, path, body):
        return self.request("PUT", path, body)

    def patch(self, path, operations):
        return self.request("PATCH", path, {"schemas": [PATCH_OP], "Operations": operations})

    def delete(self, path):
        return self.request("DELETE", path)


def new_user(user_name, **attributes):
    return {"schemas": [CORE], "userName": user_name, "active": True, **attributes}


def scim_client(tenant_admin, name="Entra ID"):
    tenant = Tenant.objects.get(memberships__user=tenant_admin)  # as the purchase left it
    token, secret = create_token(tenant=tenant, actor=tenant_admin, name=name)
    return token, ScimClient(secret)


def free_seats(admin, count):
    """Buy `count` more licences than are assigned (through localstripe), so that provisioned
    people get one."""
    subscription = Subscription.objects.unscoped().get(tenant__memberships__user=admin)
    change_seat_count(
        tenant=subscription.tenant, actor=admin, quantity=subscription.quantity + count
    )


def error_of(response):
    """(status, scimType, detail) of a SCIM error response."""
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    return response.status_code, body.get("scimType"), body.get("detail", "")


@pytest.fixture
def entra(contoso):
    """contoso.com's provisioning token named "Entra ID", and a SCIM client presenting it."""
    rob, _people, _subscription = contoso
    return scim_client(rob)
