from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from . import identity, signals  # noqa: F401  (connect their receivers)
