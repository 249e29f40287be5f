import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from .load_demo import DEMO_ADMIN, DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the demo admin's current two-factor code (the demo's fixed secret only)."

    def handle(self, *args, **options):
        period = app_settings.TOTP_PERIOD
        now = int(time.time())
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, now // period))
        self.stdout.write(f"{DEMO_ADMIN}: {code} (valid for {period - now % period} s more)")
