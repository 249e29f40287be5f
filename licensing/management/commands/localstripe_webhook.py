import urllib.parse
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Ask localstripe (development only) to send its events to our webhook URL."

    def add_arguments(self, parser):
        parser.add_argument("url", help="e.g. http://127.0.0.1:8000/stripe/webhook/")

    def handle(self, *args, url, **options):
        if not settings.DEBUG:
            raise CommandError("localstripe webhooks are for development (DEBUG) only.")
        data = urllib.parse.urlencode({"url": url, "secret": settings.STRIPE_WEBHOOK_SECRET})
        endpoint = f"{settings.STRIPE_API_BASE}/_config/webhooks/quorum"
        request = urllib.request.Request(endpoint, data=data.encode())  # noqa: S310 (localstripe)
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            self.stdout.write(f"localstripe sends its events to {url}")
