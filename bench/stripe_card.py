import json
import urllib.request

from django.conf import settings


def confirm_card(client_secret, number="4242424242424242"):
    """What Stripe.js does in the card form, against the bench's localstripe."""
    setup_intent = client_secret.split("_secret_")[0]
    body = json.dumps(
        {
            "key": "pk_test_bench",
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2040", "cvc": "123"},
            },
        }
    ).encode()
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}/v1/setup_intents/{setup_intent}/confirm", data=body
    )
    urllib.request.urlopen(request, timeout=10).close()
