"""`make run`: SQLite, a Celery worker on a filesystem broker, console e-mail, no Redis."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env, env_bool

DEBUG = env_bool("DEBUG", True)
# What `make run` keeps between runs (broker, cache, DNS records, localstripe's store).
RUN_DIR = Path(env("QUORUM_RUN_DIR", str(BASE_DIR / ".run")))

# `make run` writes from several places at once: runserver's threads (pages, Stripe's webhooks),
# the Celery worker and beat. SQLite takes one writer at a time: WAL lets reads go on beside it,
# IMMEDIATE transactions take the write lock when they begin (a deferred one that reads first
# cannot wait for it and fails at once with "database is locked"), and the timeout is how long
# a writer waits for its turn.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(RUN_DIR / "cache"),
    }
}

MAILERS = {"default": {"BACKEND": env("EMAIL_BACKEND", "core.mail.ConsoleEmailBackend")}}

# Kombu's filesystem transport lets a real worker run without Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(RUN_DIR / "broker"),
    "data_folder_out": str(RUN_DIR / "broker"),
    "processed_folder": str(RUN_DIR / "broker-processed"),
    "control_folder": str(RUN_DIR / "broker-control"),
    "store_processed": False,
}

# Static files are served from the apps (runserver, live_server); collectstatic is for production.
STATIC_ROOT = None  # type: ignore[assignment]

# localstripe, started by scripts/run-dev.sh on 127.0.0.1:8420.
STRIPE_API_BASE = env("STRIPE_API_BASE", "http://127.0.0.1:8420")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "sk_test_quorum_local")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "pk_test_quorum_local")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "whsec_quorum_local")
STRIPE_JS_URL = env("STRIPE_JS_URL", "http://127.0.0.1:8420/js.stripe.com/v3/")
STRIPE_LOCALSTRIPE = env_bool("STRIPE_LOCALSTRIPE", True)

# The local DNS server of `make run` (`manage.py dev_dns`) serves the TXT records of this file;
# scripts/run-dev.sh points DNS_NAMESERVERS at it.
DEV_DNS_FILE = RUN_DIR / "dns-records.json"

# WebAuthn (passkeys) on http://localhost: browsers allow it there, allauth must be told.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Identity providers on loopback (the tests' oidc-provider and SAML IdP) speak plain http.
SSO_IDP_HTTPS_ONLY = False
