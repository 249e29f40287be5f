import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from that
# thread are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.celery_worker",
    "tests.fixtures.dns",
    "tests.fixtures.identity",
    "tests.fixtures.sentry",
    "tests.fixtures.dns_hierarchy",
    "tests.fixtures.smtp",
    "tests.fixtures.stripe",
    "tests.fixtures.stripe_stub",
    "tests.fixtures.stack",
    # After stripe, whose free_port they use.
    "tests.fixtures.oidc",
    "tests.fixtures.saml_idp",
]


@pytest.fixture(autouse=True)
def _fresh_cache_and_language():
    """Rate-limit counters and the active language must not leak from one test into another."""
    from django.core.cache import cache
    from django.utils import translation

    cache.clear()
    yield
    translation.activate("en")


@pytest.fixture
def contoso(localstripe, db):
    """contoso.com, upgraded by Rob through the real purchase: (rob, [sara], subscription)."""
    from tests.fixtures.purchases import managed_tenant

    return managed_tenant(localstripe, "contoso.com")


@pytest.fixture
def fabrikam(localstripe, db, contoso):
    """A second managed tenant: (fay, [gus], subscription)."""
    from tests.fixtures.purchases import managed_tenant

    return managed_tenant(localstripe, "fabrikam.com", admin_name="Fay Durand", others=("gus",))
