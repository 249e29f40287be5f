from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from . import identity, signals  # noqa: F401  (connect their receivers)


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with support staff's site (tenancy.staff.StaffAdminSite) as its own."""

    default = False  # not tenancy's own configuration
    default_site = "tenancy.staff.StaffAdminSite"
