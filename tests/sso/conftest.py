"""contoso.com with its identity provider connected (tests/fixtures/sso.py does the connecting)."""

import pytest

from tests.fixtures.sso import connect_oidc, connect_saml


@pytest.fixture
def contoso_oidc(contoso, oidc_idp):
    """contoso.com (Rob the admin, Sara) with its OpenID Connect IdP connected and tested; the
    IdP knows Rob and Sara."""
    rob, (sara,), _subscription = contoso
    oidc_idp.add_person("rob", email="rob@contoso.com", name="Rob Martin")
    oidc_idp.add_person("sara", email="sara@contoso.com", name="Sara Lefèvre")
    return rob, sara, connect_oidc(rob, oidc_idp)


@pytest.fixture
def contoso_saml(contoso, saml_idp):
    """The same with contoso.com's SAML IdP."""
    rob, (sara,), _subscription = contoso
    saml_idp.add_person("rob", email="rob@contoso.com", name="Rob Martin")
    saml_idp.add_person("sara", email="sara@contoso.com", name="Sara Lefèvre")
    return rob, sara, connect_saml(rob, saml_idp)
