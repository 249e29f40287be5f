"""`make run`: SQLite, a Celery worker on a filesystem broker, console e-mail, no Redis."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env, env_bool

DEBUG = env_bool("DEBUG", True)
RUN_DIR = BASE_DIR / ".run"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(RUN_DIR / "cache"),
    }
}

MAILERS = {
    "default": {"BACKEND": env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}
}

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

# The local DNS server of `make run` (`manage.py dev_dns`) serves the TXT records of this file;
# scripts/run-dev.sh points DNS_NAMESERVERS at it.
DEV_DNS_FILE = RUN_DIR / "dns-records.json"

# WebAuthn (passkeys) on http://localhost: browsers allow it there, allauth must be told.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
