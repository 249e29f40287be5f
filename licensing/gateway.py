"""The one place that talks to Stripe (real Stripe in production, localstripe elsewhere).

Every call is a named function here; every Stripe failure leaves as a `PaymentError` with a
sentence for the user; what Stripe answers comes back as Quorum's own small value objects, so
no other module imports `stripe` or reads Stripe's dictionaries."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings

from .exceptions import InvalidStripeEvent, PaymentError

# The metadata key naming the Quorum plan of a Stripe product, and the purchase attempt of a
# Stripe customer or subscription.
PLAN_KEY = "quorum_plan"
PURCHASE_KEY = "quorum_purchase"


@dataclass(frozen=True)
class StripeSubscription:
    id: str
    customer_id: str | None
    status: str
    item_id: str
    plan_id: str | None
    quantity: int
    current_period_end: datetime | None
    cancel_at_period_end: bool
    purchase_id: str | None
    latest_invoice_id: str | None


@dataclass(frozen=True)
class CardSetup:
    """What the buyer's card form did with its SetupIntent."""

    id: str
    customer_id: str | None
    status: str
    payment_method_id: str | None


@dataclass(frozen=True)
class PaymentOutcome:
    """The payment of one invoice: its status and, when it failed, the card's reason."""

    status: str
    decline_reason: str | None


@dataclass(frozen=True)
class StripeInvoice:
    # Named as Stripe names them: the admin centre lists them as they are.
    id: str
    number: str | None
    created: int
    amount_paid: int
    amount_due: int
    currency: str
    status: str | None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created: datetime
    # The subscription the event is about, and its new state when the event carries it.
    subscription_id: str | None
    subscription: StripeSubscription | None


def _client() -> stripe.StripeClient:
    # Built from the current settings on each call, so tests can point it at their localstripe.
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY or "sk_test_quorum_local",
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


@contextmanager
def _payment_errors() -> Iterator[None]:
    """Stripe's errors as the one PaymentError, each cause with its own sentence."""
    try:
        yield
    except stripe.CardError as error:
        if error.code == "authentication_required":
            raise PaymentError.authentication_needed() from error
        raise PaymentError.declined(error.user_message) from error
    except stripe.StripeError as error:
        raise PaymentError.unreachable() from error


# The catalogue


def quorum_products() -> dict[str, str]:
    """The Stripe products of Quorum's plans: plan key -> product id."""
    with _payment_errors():
        products = _client().v1.products.list(params={"limit": 100}).auto_paging_iter()
        return {
            _metadata(product, PLAN_KEY): product.id
            for product in products
            if _metadata(product, PLAN_KEY)
        }


def create_product(*, name: str, plan_key: str) -> str:
    with _payment_errors():
        product = _client().v1.products.create(
            params={"name": name, "metadata": {PLAN_KEY: plan_key}}
        )
    return product.id


def plan_exists(plan_id: str) -> bool:
    with _payment_errors():
        try:
            _client().v1.plans.retrieve(plan_id)
        except stripe.InvalidRequestError:
            return False
    return True


def create_plan(*, plan_id: str, product_id: str, amount: int, currency: str) -> None:
    """A per-seat monthly plan of `amount` (smallest currency unit) per seat."""
    with _payment_errors():
        _client().v1.plans.create(
            params={
                "id": plan_id,
                "product": product_id,
                "amount": amount,
                "currency": currency,
                "interval": "month",
            }
        )


# Customers and cards


def create_customer(
    *, email: str, name: str, metadata: dict[str, str], idempotency_key: str
) -> str:
    with _payment_errors():
        customer = _client().v1.customers.create(
            params={"email": email, "name": name, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    return customer.id


def create_setup_intent(*, customer_id: str) -> str:
    """A SetupIntent for the card form; returns its client secret (for Stripe.js)."""
    with _payment_errors():
        setup_intent = _client().v1.setup_intents.create(
            params={"customer": customer_id, "usage": "off_session"}
        )
    return setup_intent.client_secret


def retrieve_setup_intent(setup_intent_id: str) -> CardSetup:
    with _payment_errors():
        setup_intent = _client().v1.setup_intents.retrieve(setup_intent_id)
    return CardSetup(
        id=setup_intent.id,
        customer_id=setup_intent.customer,
        status=setup_intent.status,
        payment_method_id=setup_intent.payment_method,
    )


def use_payment_method(*, customer_id: str, payment_method_id: str) -> None:
    """Attach the confirmed card to the customer and make it the default for invoices."""
    with _payment_errors():
        client = _client()
        client.v1.payment_methods.attach(payment_method_id, params={"customer": customer_id})
        client.v1.customers.update(
            customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
        )


# Subscriptions


def subscriptions_of(customer_id: str) -> list[StripeSubscription]:
    with _payment_errors():
        listing = _client().v1.subscriptions.list(params={"customer": customer_id})
        return [_subscription(item) for item in listing.auto_paging_iter()]


def create_subscription(
    *, customer_id: str, plan_id: str, quantity: int, purchase_id: str, idempotency_key: str
) -> StripeSubscription:
    with _payment_errors():
        subscription = _client().v1.subscriptions.create(
            params={
                "customer": customer_id,
                "items": [{"plan": plan_id, "quantity": quantity}],
                "payment_behavior": "error_if_incomplete",
                "metadata": {PURCHASE_KEY: purchase_id},
            },
            options={"idempotency_key": idempotency_key},
        )
    return _subscription(subscription)


def cancel_subscription(subscription_id: str) -> None:
    with _payment_errors():
        _client().v1.subscriptions.cancel(subscription_id)


def invoice_payment(invoice_id: str) -> PaymentOutcome:
    """How the payment of an invoice went (why an incomplete subscription is unpaid)."""
    with _payment_errors():
        invoice = (
            _client()
            .v1.invoices.retrieve(invoice_id, params={"expand": ["payment_intent"]})
            .to_dict()
        )
    payment_intent = invoice.get("payment_intent") or {}
    return PaymentOutcome(
        status=payment_intent.get("status") or "requires_payment_method",
        decline_reason=(payment_intent.get("last_payment_error") or {}).get("message"),
    )


def change_quantity(*, subscription_id: str, item_id: str, quantity: int) -> StripeSubscription:
    return _update_subscription(subscription_id, {"items": [{"id": item_id, "quantity": quantity}]})


def change_plan(
    *, subscription_id: str, item_id: str, plan_id: str, quantity: int
) -> StripeSubscription:
    return _update_subscription(
        subscription_id, {"items": [{"id": item_id, "plan": plan_id, "quantity": quantity}]}
    )


def set_cancel_at_period_end(*, subscription_id: str, cancel: bool) -> StripeSubscription:
    """Cancel at the end of the paid period (cancel=True), or undo that (cancel=False)."""
    return _update_subscription(subscription_id, {"cancel_at_period_end": cancel})


def _update_subscription(subscription_id: str, params: dict[str, Any]) -> StripeSubscription:
    with _payment_errors():
        updated = _client().v1.subscriptions.update(subscription_id, params=params)
    return _subscription(updated)


# Invoices


def invoices_of(customer_id: str, *, limit: int = 24) -> list[StripeInvoice]:
    """The customer's last `limit` invoices, newest first."""
    with _payment_errors():
        listing = _client().v1.invoices.list(params={"customer": customer_id, "limit": limit})
    invoices = [_invoice(invoice.to_dict()) for invoice in listing.data]
    return sorted(invoices, key=lambda invoice: invoice.created, reverse=True)


# Webhooks


def construct_webhook_event(payload: bytes, signature: str) -> WebhookEvent:
    """The event of a webhook request, once its signature by our webhook secret is checked."""
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET
        ).to_dict()
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidStripeEvent("Invalid Stripe webhook: bad payload or signature.") from error
    obj = event["data"]["object"]
    is_subscription = obj.get("object") == "subscription"
    return WebhookEvent(
        id=event["id"],
        type=event["type"],
        created=_at(event["created"]),
        subscription_id=obj.get("id") if is_subscription else obj.get("subscription"),
        subscription=_subscription(obj) if is_subscription else None,
    )


# The card form


def card_form_csp() -> dict[str, list[str]]:
    """The page's Content-Security-Policy, widened just enough for Stripe.js and its frames."""
    stripe_js = _origin(settings.STRIPE_JS_URL)
    api = _origin(settings.STRIPE_API_BASE)
    policy = {directive: list(values) for directive, values in settings.SECURE_CSP.items()}
    policy["script-src"] = [*policy.get("script-src", []), stripe_js]
    policy["connect-src"] = [*policy.get("connect-src", ["'self'"]), api, stripe_js]
    policy["frame-src"] = [*policy.get("frame-src", []), stripe_js, "https://hooks.stripe.com"]
    return policy


# Readers: Stripe's objects as Quorum's value objects


def _subscription(stripe_object: Any) -> StripeSubscription:
    details = stripe_object if isinstance(stripe_object, dict) else stripe_object.to_dict()
    item = details["items"]["data"][0]
    return StripeSubscription(
        id=details["id"],
        customer_id=details.get("customer"),
        status=details["status"],
        item_id=item["id"],
        plan_id=(item.get("plan") or {}).get("id"),
        quantity=item["quantity"],
        current_period_end=_from_timestamp(details.get("current_period_end")),
        cancel_at_period_end=bool(details.get("cancel_at_period_end")),
        purchase_id=(details.get("metadata") or {}).get(PURCHASE_KEY),
        latest_invoice_id=details.get("latest_invoice"),
    )


def _invoice(details: dict[str, Any]) -> StripeInvoice:
    return StripeInvoice(
        id=details["id"],
        number=details.get("number"),
        created=details["created"],
        amount_paid=details.get("amount_paid") or 0,
        amount_due=details.get("amount_due") or 0,
        currency=details.get("currency", ""),
        status=details.get("status"),
    )


def _metadata(stripe_object: Any, key: str) -> str | None:
    return (stripe_object.to_dict().get("metadata") or {}).get(key)


def _from_timestamp(value: int | None) -> datetime | None:
    return _at(value) if value else None


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
