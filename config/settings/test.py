"""pytest: the real PostgreSQL and Redis of the machine; fast password hashing."""

import os

import dj_database_url

from .base import *  # noqa: F403
from .base import env

DEBUG = False
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://quorum:quorum@127.0.0.1:5432/quorum"), conn_max_age=0
    )
}
# A name of its own per checkout lets parallel runs share the server without clashing.
DATABASES["default"]["TEST"] = {"NAME": env("QUORUM_TEST_DB", "test_quorum")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# The Celery worker of the tests mails through the tests' SMTP sink on this port, if given.
if env("QUORUM_TEST_SMTP_PORT"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": int(env("QUORUM_TEST_SMTP_PORT"))},
        }
    }
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test session gets its own queue so that concurrent runs never steal each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", f"quorum-test-{os.getpid()}")

# Static files are served from the apps (runserver, live_server); collectstatic is for production.
STATIC_ROOT = None  # type: ignore[assignment]

# WebAuthn (passkeys) on http://localhost: browsers allow it there, allauth must be told.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Identity providers on loopback (the tests' oidc-provider and SAML IdP) speak plain http.
SSO_IDP_HTTPS_ONLY = False
