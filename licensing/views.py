from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.metrics import count_webhook_results

from .exceptions import InvalidStripeEvent, PaymentError
from .gateway import construct_webhook_event
from .services.webhooks import process_stripe_event


@csrf_exempt  # Stripe cannot send our CSRF token; its signature is checked instead.
@count_webhook_results
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: refused with 400 unless signed with STRIPE_WEBHOOK_SECRET."""
    try:
        event = construct_webhook_event(request.body, request.headers.get("Stripe-Signature", ""))
    except InvalidStripeEvent as error:
        return HttpResponseBadRequest(error.message)
    try:
        process_stripe_event(event=event)
    except PaymentError:
        # Stripe could not be read back: nothing was recorded, and Stripe delivers it again.
        return HttpResponse("Stripe is unreachable; send the event again.", status=503)
    return HttpResponse("ok")
