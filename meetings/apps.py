from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save

        from .language import remember_on_sign_in
        from .signals import create_meeting_settings

        user_logged_in.connect(remember_on_sign_in, dispatch_uid="meetings.remember_language")

        post_save.connect(
            create_meeting_settings,
            sender=get_user_model(),
            dispatch_uid="meetings.create_meeting_settings",
        )
