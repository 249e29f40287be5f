from .selectors import meeting_settings_of


def create_meeting_settings(sender, instance, created, raw=False, **kwargs):
    """Every user has personal meeting settings from the moment they exist."""
    if created and not raw:
        meeting_settings_of(instance)
