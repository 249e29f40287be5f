from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.views import healthz, metrics, readyz
from meetings.views import set_language

urlpatterns = [
    path("", include("tenancy.urls")),
    path("accounts/", include("sso.urls")),  # before allauth's: the address-first sign-in
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("meetings/", include("meetings.urls")),
    path("stripe/", include("licensing.urls")),
    path("upgrade/", include("wizard.urls")),
    path("scim/v2", include("provisioning.urls")),
    path("admin/", include("portal.urls")),
    path("django-admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
]

handler403 = "config.views.permission_denied"
handler500 = "config.views.server_error"
