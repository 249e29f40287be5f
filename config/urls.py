from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.views import healthz
from licensing.views import stripe_webhook
from meetings.views import set_language

urlpatterns = [
    path("", include("tenancy.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("meetings/", include("meetings.urls")),
    path("domains/", include("domains.urls")),
    path("licensing/", include("licensing.urls")),
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("upgrade/", include("wizard.urls")),
    path("admin/", include("portal.urls")),
    path("django-admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
]

handler403 = "config.views.permission_denied"
handler500 = "config.views.server_error"
