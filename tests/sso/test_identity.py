"""Single sign-on moves an account to the address the identity provider vouches for: the next
request sees it, the kept identity (tenancy.identity) on."""

import pytest

from sso.services import accept_vouched_address, start_connection
from tests.fixtures.identity import next_request, signed_in

pytestmark = pytest.mark.usefixtures("identity_cache")


def test_an_address_changed_at_the_idp_is_seen_on_the_next_request(contoso):
    rob, (sara,), _subscription = contoso
    connection = start_connection(tenant=rob.membership.tenant, actor=rob, protocol="oidc")
    client = signed_in(sara)
    accept_vouched_address(connection=connection, user=sara, email="sara.lefevre@contoso.com")
    request = next_request(client)
    assert request.user.email == "sara.lefevre@contoso.com"
    assert request.membership.tenant == rob.membership.tenant
