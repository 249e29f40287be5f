from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from .signals import create_meeting_settings

        post_save.connect(
            create_meeting_settings,
            sender=get_user_model(),
            dispatch_uid="meetings.create_meeting_settings",
        )
