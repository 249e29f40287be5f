from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.scoping import tenant_scope
from meetings import selectors, services
from tenancy.selectors import tenant_of

DEMO_SETTINGS = {
    "rob@contoso.test": {
        "time_zone": "Europe/Paris",
        "default_duration_minutes": 45,
        "announce_join_leave": True,
    },
    "sara@contoso.test": {
        "time_zone": "Europe/Paris",
        "language": "fr",
        "anonymous_join_allowed": False,
        "lobby_bypass": "invited",
    },
}
# (organiser, title, days from today, hour in UTC, minutes)
DEMO_MEETINGS = [
    ("rob@contoso.test", "Weekly sync", 1, 8, 30),
    ("rob@contoso.test", "Quarterly planning", 5, 13, 90),
    ("rob@contoso.test", "Project kickoff", -3, 9, 60),
    ("sara@contoso.test", "Design review", 2, 14, 45),
    ("sara@contoso.test", "1:1 Rob / Sara", -1, 15, 30),
]


class Command(BaseCommand):
    help = "Give the demo users of contoso.test meetings and personal settings (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {
            user.email: user
            for user in get_user_model().objects.filter(email__in=list(DEMO_SETTINGS))
        }
        if len(users) != len(DEMO_SETTINGS):
            raise CommandError("Run `manage.py load_demo` first: the demo users are missing.")
        for email, values in DEMO_SETTINGS.items():
            services.update_personal_settings(user=users[email], values=values)
        today = timezone.now().replace(minute=0, second=0, microsecond=0)
        created = 0
        for email, title, days, hour, minutes in DEMO_MEETINGS:
            organiser = users[email]
            with tenant_scope(tenant_of(organiser)):
                exists = selectors.organised_meetings(organiser).filter(title=title).exists()
            if exists:
                continue
            settings = services.ensure_meeting_settings(user=organiser)
            services.schedule_meeting(
                organiser=organiser,
                title=title,
                starts_at=today.replace(hour=hour) + timedelta(days=days),
                duration_minutes=minutes,
                lobby_bypass=settings.lobby_bypass,
                anonymous_join_allowed=settings.anonymous_join_allowed,
                recording_allowed=settings.recording_allowed,
            )
            created += 1
        self.stdout.write(self.style.SUCCESS(f"Demo meetings ready ({created} new)."))
