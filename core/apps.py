from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.tables import watch

        # Every connection's statements renew the versions of the tables they write.
        connection_created.connect(watch, dispatch_uid="core.tables.watch")
