"""Production: every secret from the environment, HTTPS everywhere; refuses to start insecurely."""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core.logging import logging_config

from .base import *  # noqa: F403
from .base import DEVELOPMENT_SSO_KEY, LOG_LEVEL, env, env_bool, env_list

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

# TLS ends at the proxy in front, which says in this header how the client came in
# ("X-Forwarded-Proto: https"). Empty: nothing in front, no header is trusted.
_proxy_header = env("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None
)
# Only what the proxy says came over plain http is sent to https (core.https): a direct call (the
# compose stack on localhost:8000, a probe, localstripe's webhooks) is served as it came.
SECURE_SSL_REDIRECT = False
SILENCED_SYSTEM_CHECKS = ["security.W008"]  # SECURE_SSL_REDIRECT: core.https redirects instead
# The identity providers' secrets are sealed with these keys (sso/encryption.py): never the
# development key, and a missing key is a refusal to start, not secrets stored in the clear.
SSO_ENCRYPTION_KEYS = env_list("SSO_ENCRYPTION_KEYS")
try:
    for key in SSO_ENCRYPTION_KEYS or [""]:
        Fernet(key)
    if DEVELOPMENT_SSO_KEY in SSO_ENCRYPTION_KEYS:
        raise ValueError("the development key")
except ValueError:
    raise ImproperlyConfigured(
        "SSO_ENCRYPTION_KEYS must be set in production to one or more Fernet keys, comma-separated "
        "(make one with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())')."
    ) from None

SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The scheme of the links in e-mails: http only for the compose stack on localhost.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", "https")

# psycopg 3's connection pool, one per process (a gunicorn worker's threads, a Celery pool
# process): a request borrows an open connection and gives it back, instead of connecting anew
# each time. Django refuses a pool with persistent connections, hence CONN_MAX_AGE 0.
# DB_POOL=false: a connection per request (behind a pooler such as PgBouncer, or to compare:
# bench/throughput.py measures both in one run).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"  # noqa: F405
    and env_bool("DB_POOL", True)
):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {  # noqa: F405
        "min_size": int(env("DB_POOL_MIN_SIZE", "1")),
        # As many as a gunicorn worker's threads (GUNICORN_THREADS), each holding one at most.
        "max_size": int(env("DB_POOL_MAX_SIZE", "4")),
        # Seconds a request waits for a free connection before it fails.
        "timeout": float(env("DB_POOL_TIMEOUT", "10")),
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOG_FORMAT = env("LOG_FORMAT", "json")
LOGGING = logging_config(json=LOG_FORMAT == "json", level=LOG_LEVEL)
