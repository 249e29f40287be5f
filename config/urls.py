from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.views import healthz, metrics, readyz
from core.metrics import count_webhook_results
from licensing.views import stripe_webhook

urlpatterns = [
    path("", include("tenancy.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("meetings/", include("meetings.urls")),
    path("domains/", include("domains.urls")),
    path("licensing/", include("licensing.urls")),
    path("stripe/webhook/", count_webhook_results(stripe_webhook), name="stripe_webhook"),
    path("upgrade/", include("wizard.urls")),
    path("admin/", include("portal.urls")),
    path("django-admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
]

handler500 = "config.views.server_error"
