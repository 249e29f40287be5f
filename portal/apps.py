from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The admin centre: composes the pages of tenancy, domains and licensing for an admin.

    It owns no models and no rules; every write calls the owning app's service."""

    name = "portal"
