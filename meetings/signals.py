from .services import ensure_meeting_settings


def create_meeting_settings(sender, instance, created, raw=False, **kwargs):
    """Every user has personal meeting settings from the moment they exist."""
    if created and not raw:
        ensure_meeting_settings(user=instance)
