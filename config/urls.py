from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.views import healthz

urlpatterns = [
    path("", include("tenancy.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("meetings/", include("meetings.urls")),
    path("stripe/", include("licensing.urls")),
    path("upgrade/", include("wizard.urls")),
    path("scim/v2", include("provisioning.urls")),
    path("admin/", include("portal.urls")),
    path("django-admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
]

handler500 = "config.views.server_error"
