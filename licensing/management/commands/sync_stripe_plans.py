from django.core.management.base import BaseCommand

from licensing.services.catalogue import sync_stripe_plans


class Command(BaseCommand):
    help = "Create, or find, the Stripe product and per-seat monthly price of each Quorum plan."

    def handle(self, *args, **options):
        for plan, created in sync_stripe_plans():
            verb = "created" if created else "found"
            self.stdout.write(f"{plan.price_lookup_key}: {verb}")
