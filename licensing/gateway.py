"""The one place that talks to Stripe (real Stripe in production, localstripe elsewhere)."""

from urllib.parse import urlsplit

import stripe
from django.conf import settings


def stripe_client():
    """A client built from the current settings, so tests can point it at their localstripe."""
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY or "sk_test_quorum_local",
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def card_form_csp():
    """The page's Content-Security-Policy, widened just enough for Stripe.js and its frames."""
    stripe_js = _origin(settings.STRIPE_JS_URL)
    api = _origin(settings.STRIPE_API_BASE)
    policy = {directive: list(values) for directive, values in settings.SECURE_CSP.items()}
    policy["script-src"] = [*policy.get("script-src", []), stripe_js]
    policy["connect-src"] = [*policy.get("connect-src", ["'self'"]), api, stripe_js]
    policy["frame-src"] = [*policy.get("frame-src", []), stripe_js, "https://hooks.stripe.com"]
    return policy


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
