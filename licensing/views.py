import stripe
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import process_stripe_event


@csrf_exempt  # Stripe cannot send our CSRF token; its signature is checked instead.
@require_POST
def stripe_webhook(request):
    """Stripe's events: refused with 400 unless signed with STRIPE_WEBHOOK_SECRET."""
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
        )
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("Invalid Stripe webhook: bad payload or signature.")
    process_stripe_event(event=event.to_dict())
    return HttpResponse("ok")
