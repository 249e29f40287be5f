from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"

    def ready(self):
        from . import signals  # noqa: F401  (licences follow members in and out)
