from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from licensing.services.webhooks import register_webhook_endpoint


class Command(BaseCommand):
    help = (
        "Ask Stripe (or localstripe) to send Quorum's events to URL, in Quorum's Stripe API "
        "version, and print the endpoint's signing secret (STRIPE_WEBHOOK_SECRET)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="e.g. https://quorum.example/stripe/webhook/")

    def handle(self, *args: object, url: str, **options: object) -> None:
        secret = register_webhook_endpoint(url=url)
        if settings.STRIPE_LOCALSTRIPE:
            self.stdout.write(f"localstripe sends its events to {url}")
        else:
            self.stdout.write(
                f"Stripe sends its events to {url}; set STRIPE_WEBHOOK_SECRET={secret}"
            )
