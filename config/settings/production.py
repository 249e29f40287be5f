"""Production: every secret from the environment, HTTPS everywhere; refuses to start insecurely."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = False

SECRET_KEY = env("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure") or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production."
    )

# Stripe signs each webhook with the endpoint's secret ("whsec_" and 32 random characters).
# Without the real one every webhook is refused, and cancellations and failed payments are lost.
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
_webhook_key = STRIPE_WEBHOOK_SECRET.removeprefix("whsec_")
if _webhook_key == STRIPE_WEBHOOK_SECRET or len(_webhook_key) < 24 or len(set(_webhook_key)) < 10:
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_SECRET must be set to the signing secret (whsec_...) of the Stripe "
        "webhook endpoint in production."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
