"""Settings shared by every environment; each value that differs comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from core.logging import logging_config
from core.sentry import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PRODUCT_NAME = "Quorum"

SECRET_KEY = env("SECRET_KEY", "django-insecure-quorum-development-key-not-for-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "tenancy.apps.StaffAdminConfig",  # Django's admin, for support staff with a second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's session and key lists ("2 minutes ago")
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    # Single sign-on through allauth's own OpenID Connect and SAML providers (sso/).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    # Ours, in the order of their allowed imports (docs/ARCHITECTURE.md).
    "core",
    "tenancy",
    "meetings",
    "domains",
    "licensing",
    "provisioning",
    "sso",
    "wizard",
    "portal",
]

MIDDLEWARE = [
    "core.logging.RequestIdMiddleware",
    "core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.https.RedirectToHttpsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading the signed-in identity from the cache when IDENTITY_CACHE is on.
    "tenancy.identity.IdentityAuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenancy.middleware.SessionActivityMiddleware",  # allauth.usersessions' "last seen"
    # After authentication: a signed-in person's pages follow their language setting.
    "meetings.language.PersonalLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "tenancy.middleware.TenantMiddleware",
    "tenancy.middleware.TwoFactorPolicyMiddleware",
    "core.middleware.QuorumErrorMiddleware",
    "core.logging.UserContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.launcher",
                "wizard.context_processors.upgrade_link",
                "wizard.context_processors.getting_started_card",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters sent apart from the SQL (psycopg quotes nothing in Python), and a statement a
    # connection runs for the fifth time is prepared: PostgreSQL parses and plans it once.
    # PgBouncer in transaction mode would need DB_PREPARE_THRESHOLD=none (no prepared statements).
    _threshold = env("DB_PREPARE_THRESHOLD", "5")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=env_bool("DB_SERVER_SIDE_BINDING", True),
        prepare_threshold=None if _threshold == "none" else int(_threshold),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenancy.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "tenancy:home"

# django-allauth: the e-mail address is the login and must be verified before use.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SIGNUP_FORM_CLASS = "tenancy.forms.SignupDetailsForm"
ACCOUNT_ADAPTER = "sso.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PRODUCT_NAME}] "
# Single sign-on: the address comes first; password sign-in, sign-up and reset know about
# enforcement (sso/forms.py). Each tenant's identity provider is read from its SsoConnection
# when allauth asks for an app (sso/adapter.py), never from SocialApp rows or settings.
ACCOUNT_FORMS = {
    "login": "sso.forms.LoginForm",
    "signup": "sso.forms.SignupForm",
    "reset_password_from_key": "sso.forms.ResetPasswordKeyForm",
}
SOCIALACCOUNT_ADAPTER = "sso.adapter.SocialAccountAdapter"
# A person already here with a verified address at the tenant's verified domain is matched once
# by that address, then by the IdP's subject for good (an address change keeps the account).
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
# The IdP vouches for addresses at the tenant's verified domains only (sso/signin.py): no mail.
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
# Fernet keys sealing the IdP secrets at rest: the first seals, every one opens (rotation).
DEVELOPMENT_SSO_KEY = "cXVvcnVtLWRldmVsb3BtZW50LW9ubHktc3NvLWtleSE="
SSO_ENCRYPTION_KEYS = env_list("SSO_ENCRYPTION_KEYS", DEVELOPMENT_SSO_KEY)
# Identity providers are reached over https only; development and tests run theirs on loopback.
SSO_IDP_HTTPS_ONLY = env_bool("SSO_IDP_HTTPS_ONLY", True)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", "http")
# allauth's own defaults throttle login, sign-up, confirmation and reset; they are kept on.
# Behind a reverse proxy, the client's address is the proxy's X-Forwarded-For entry: without it
# every visitor would share the proxy's address and its rate limits.
ALLAUTH_TRUSTED_PROXY_COUNT = int(env("ALLAUTH_TRUSTED_PROXY_COUNT", "0"))
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    # Resets an admin sends from the admin centre (portal): per member, and per admin.
    "admin_reset_password_member": "3/h/key",
    "admin_reset_password": "30/h/user",
    # Re-entering a password before a sensitive action. A wrong second-factor code counts as a
    # failed login ("login_failed" above, per user): 5 in 5 minutes, then a wait.
    "reauthenticate": "10/m/user",
    # The sign-in page's address step (sso/views.py) may ask the tenant's IdP for its discovery.
    "sso_address": "30/m/ip",
}
# Sensitive actions (allauth's reauthentication, portal.access.recent_authentication_required)
# ask for the password or a second factor again when the last proof is older than this.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# The proof is the password or a second factor; a code mailed to the address is not: the mailbox
# alone must not be enough to change roles, members or billing.
ACCOUNT_REAUTHENTICATION_METHODS = ["password", "mfa"]

# django-allauth's second factors: an authenticator app (TOTP), passkeys and security keys
# (WebAuthn), and recovery codes. Required for admins (portal.access) and, when the tenant's
# rule says so, for every member (tenancy.middleware.TwoFactorPolicyMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Quorum"
MFA_ADAPTER = "tenancy.adapter.MFAAdapter"
MFA_FORMS = {
    "add_webauthn": "tenancy.forms.AddWebAuthnForm",
    "edit_webauthn": "tenancy.forms.EditWebAuthnForm",
}
MFA_RATE_LIMITS = {"webauthn_login": "10/m/ip"}
# Browsers allow WebAuthn on https and on http://localhost; allauth's check of the origin wants
# https unless told otherwise, which only development and the tests do.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", False)
# Each user's signed-in sessions (device, IP, last seen), which they and their admins can end.
USERSESSIONS_TRACK_ACTIVITY = True
USERSESSIONS_ADAPTER = "tenancy.adapter.UserSessionsAdapter"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One way of writing dates and times per language, on every page (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

CACHES = {
    "default": {
        # Django's Redis cache, reusing one client per connection pool (core/cache.py).
        "BACKEND": "core.cache.ReusedClientRedisCache",
        "LOCATION": env("CACHE_URL", env("REDIS_URL", "redis://127.0.0.1:6379/1")),
    }
}

MAILERS = {
    "default": {
        "BACKEND": env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env("EMAIL_HOST", "localhost"),
            "port": int(env("EMAIL_PORT", "25")),
            "username": env("EMAIL_HOST_USER", ""),
            "password": env("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
        },
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Quorum <no-reply@quorum.example>")
# Where links in mails sent by background jobs lead (no request there to name the site).
BASE_URL = env("BASE_URL", "http://127.0.0.1:8000")

# Celery: tasks are acknowledged after they ran, so a lost worker means a re-run, not a loss.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", env("REDIS_URL", "redis://127.0.0.1:6379/0"))
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "quorum")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", "celerybeat-schedule")
# Only the beat holding a lease in the cache sends the schedule: a second beat waits (core/beat.py).
CELERY_BEAT_SCHEDULER = "core.beat:SingleBeatScheduler"
# How often beat sends its sweeps (seconds); shorter only where a test watches beat tick.
BEAT_SWEEP_SECONDS = float(env("BEAT_SWEEP_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = {
    # Safety net of the domain checks: a lost or expired message delays a check, never drops it.
    "domains-requeue-due-claims": {
        "task": "domains.requeue_due_claims",
        "schedule": BEAT_SWEEP_SECONDS,
    },
    # Claims about to expire mail their claimant; verified claims unused for 7 days expire.
    "domains-sweep-claims": {"task": "domains.sweep_claims", "schedule": 300.0},
    # The daily re-check of verified domains: each minute queues the checks of the next minute,
    # each at its own time of day (docs/PERFORMANCE.md, "Daily re-verification").
    "domains-queue-domain-checks": {"task": "domains.queue_domain_checks", "schedule": 60.0},
    # People of a merged organisation whose notice was never queued are told all the same.
    "domains-requeue-merge-notices": {
        "task": "domains.requeue_merge_notices",
        "schedule": BEAT_SWEEP_SECONDS,
    },
    # The same for announcements whose next batch was never queued.
    "tenancy-requeue-unfinished-announcements": {
        "task": "tenancy.requeue_unfinished_announcements",
        "schedule": BEAT_SWEEP_SECONDS,
    },
    # The same for support replies whose mail to the admin was never sent.
    "portal-requeue-unmailed-support-replies": {
        "task": "portal.requeue_unmailed_support_replies",
        "schedule": BEAT_SWEEP_SECONDS,
    },
    # The same for the Getting started mails of a newly managed tenant's members.
    "wizard-requeue-unmailed-welcomes": {
        "task": "wizard.requeue_unmailed_welcomes",
        "schedule": BEAT_SWEEP_SECONDS,
    },
    # Subscriptions past due beyond the grace period end, and their tenants fall back to free.
    "licensing-end-overdue-subscriptions": {
        "task": "licensing.end_overdue_subscriptions",
        "schedule": 3600.0,
    },
}

# DNS proof of domain ownership: "host:port" entries; empty means the system resolver.
DNS_NAMESERVERS = env_list("DNS_NAMESERVERS")
DNS_TIMEOUT = float(env("DNS_TIMEOUT", "2"))
DNS_LIFETIME = float(env("DNS_LIFETIME", "4"))
# How long a verified domain whose record went missing stays in use before it is suspended.
DOMAIN_GRACE_DAYS = int(env("DOMAIN_GRACE_DAYS", "14"))

# Stripe: real Stripe in production, localstripe on loopback in development and tests.
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
STRIPE_JS_URL = env("STRIPE_JS_URL", "https://js.stripe.com/v3/")
# The Stripe API version Quorum speaks on every request and asks of its webhook endpoints; empty:
# the version the installed stripe library is written for (licensing.gateway.api_version).
STRIPE_API_VERSION = env("STRIPE_API_VERSION", "")
# The server is localstripe (development, tests): licensing.gateway adapts to its older shape.
STRIPE_LOCALSTRIPE = env_bool("STRIPE_LOCALSTRIPE", False)
# Days a tenant whose payment failed (past due) keeps its subscription before falling back to free.
PAST_DUE_GRACE_DAYS = int(env("PAST_DUE_GRACE_DAYS", "14"))

# Content-Security-Policy: no inline script or style anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Sessions read from the cache, written through to the database: a Redis restart signs nobody
# out, and every session ended goes through the store, which forgets both copies
# (docs/PERFORMANCE.md measures it against "...db" and "...cache").
SESSION_ENGINE = env("SESSION_ENGINE", "django.contrib.sessions.backends.cached_db")
# The signed-in person's user, membership, tenant and policy read from the cache (tenancy.identity)
# instead of the database on each request; every change is seen on the next request either way.
IDENTITY_CACHE = env_bool("IDENTITY_CACHE", True)
# The dashboard, my meetings and the join page kept whole per session while nothing they were
# built from changes (core.pagecache; it needs IDENTITY_CACHE).
PAGE_CACHE = env_bool("PAGE_CACHE", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Logs on stdout with the request id, tenant and user of each line (core.logging): "json" lines
# in production, "text" elsewhere.
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOG_FORMAT = env("LOG_FORMAT", "text")
LOGGING = logging_config(json=LOG_FORMAT == "json", level=LOG_LEVEL)
# The worker logs through LOGGING too, instead of Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Prometheus metrics (core.metrics): /metrics on web, and on a worker at WORKER_METRICS_ADDRESS
# ("host:port"), for requests bearing this token; off without one.
METRICS_TOKEN = env("METRICS_TOKEN", "")
WORKER_METRICS_ADDRESS = env("WORKER_METRICS_ADDRESS", "")

# Unhandled errors of views and tasks go to Sentry when a DSN is set.
SENTRY_DSN = env("SENTRY_DSN", "")
if SENTRY_DSN:
    init_sentry(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(env("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# What a seat costs per month (smallest currency unit) and the meeting cap it gives.
QUORUM_PLANS = {
    "essentials": {
        "amount": int(env("PLAN_ESSENTIALS_AMOUNT", "600")),
        "currency": env("PLAN_CURRENCY", "eur"),
        "meeting_cap": 300,
    },
    "premium": {
        "amount": int(env("PLAN_PREMIUM_AMOUNT", "1250")),
        "currency": env("PLAN_CURRENCY", "eur"),
        "meeting_cap": 300,
    },
}
STRIPE_MAX_NETWORK_RETRIES = int(env("STRIPE_MAX_NETWORK_RETRIES", "0"))

# How many SCIM requests one provisioning token may send a minute: an identity provider sends
# one request per person, and `make bench` provisions well over 100 people a second.
SCIM_REQUESTS_PER_MINUTE = int(env("SCIM_REQUESTS_PER_MINUTE", "30000"))
