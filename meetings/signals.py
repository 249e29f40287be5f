from .models import MeetingSettings


def create_meeting_settings(sender, instance, created, raw=False, **kwargs):
    """Every user has personal meeting settings from the moment they exist. A user just
    created has none yet: one INSERT, not a look-up first (provisioning creates thousands)."""
    if created and not raw:
        MeetingSettings.objects.create(user=instance)
