"""The one place that talks to Stripe (real Stripe in production, localstripe elsewhere).

Every call is a named function here, sent in the one API version Quorum speaks (`api_version()`);
every Stripe failure leaves as a `PaymentError` with a sentence for the user; what Stripe answers
is read the way that API version sends it, into Quorum's own small value objects, so no other
module imports `stripe` or reads Stripe's dictionaries.

localstripe, the Stripe stand-in of development and tests, answers in an older API shape and
lacks a few endpoints: the section "localstripe adapter" at the end of this module is the one
place that knows it, used only when `settings.STRIPE_LOCALSTRIPE` is on."""

import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from stripe._api_version import _ApiVersion

from .exceptions import InvalidStripeEvent, PaymentError

logger = logging.getLogger(__name__)

# The metadata keys naming the Quorum plan of a Stripe product, and the purchase attempt of a
# Stripe customer or subscription.
PLAN_KEY = "quorum_plan"
PURCHASE_KEY = "quorum_purchase"


def api_version() -> str:
    """The Stripe API version Quorum speaks: STRIPE_API_VERSION, by default the version the
    installed stripe library is written for (its types and Quorum's readers match it)."""
    return settings.STRIPE_API_VERSION or _ApiVersion.CURRENT


# Quorum's value objects


@dataclass(frozen=True)
class StripeSubscription:
    id: str
    customer_id: str | None
    status: str
    item_id: str
    price_id: str | None
    # The price's lookup key names the Quorum plan (None on a legacy plan: its id does).
    price_lookup_key: str | None
    quantity: int
    current_period_end: datetime | None
    cancel_at_period_end: bool
    purchase_id: str | None
    latest_invoice_id: str | None
    # A change (more seats) waiting for its invoice to be paid; the items are still the old ones.
    has_pending_update: bool


@dataclass(frozen=True)
class CardSetup:
    """What the buyer's card form did with its SetupIntent."""

    id: str
    customer_id: str | None
    status: str
    payment_method_id: str | None


@dataclass(frozen=True)
class PaymentOutcome:
    """How the payment of an invoice went: paid, waiting for the bank's authentication
    (`client_secret` lets Stripe.js run it), processing, or declined (`decline_reason`)."""

    status: Literal["paid", "requires_action", "processing", "declined"]
    client_secret: str | None = None
    decline_reason: str | None = None


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
    subscription_id: str | None
    billing_reason: str | None
    hosted_invoice_url: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified event. Its `subscription` or `invoice` is read only when the event speaks our
    API version (`trusted`); otherwise only what every version spells the same is kept (id,
    type, creation time, the type and id of its object) and Quorum asks Stripe for the rest."""

    id: str
    type: str
    created: datetime
    api_version: str | None
    trusted: bool
    object_type: str
    object_id: str | None
    subscription: StripeSubscription | None
    invoice: StripeInvoice | None


def _client() -> stripe.StripeClient:
    # Built from the current settings on each call, so tests can point it at their localstripe.
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY or "sk_test_quorum_local",
        stripe_version=api_version(),
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


# The catalogue: a product per plan, and its per-seat monthly price found by lookup key


def quorum_products() -> dict[str, str]:
    """The Stripe products of Quorum's plans: plan key -> product id."""
    with _payment_errors():
        listing = _client().v1.products.list(params={"limit": 100})
        products = [product.to_dict() for product in listing.auto_paging_iter()]
    return {
        product["metadata"][PLAN_KEY]: product["id"]
        for product in products
        if (product.get("metadata") or {}).get(PLAN_KEY)
    }


def create_product(*, name: str, plan_key: str) -> str:
    with _payment_errors():
        product = _client().v1.products.create(
            params={"name": name, "metadata": {PLAN_KEY: plan_key}}
        )
    return str(product.id)


def price_id(lookup_key: str) -> str | None:
    """The id of the active price of this lookup key, if there is one."""
    if settings.STRIPE_LOCALSTRIPE:
        return _localstripe_plan_id(lookup_key)
    with _payment_errors():
        prices = _client().v1.prices.list(
            params={"lookup_keys": [lookup_key], "active": True, "limit": 1}
        )
    return str(prices.data[0].id) if prices.data else None


def create_price(*, lookup_key: str, product_id: str, amount: int, currency: str) -> str:
    """A per-seat monthly price of `amount` (smallest currency unit) per seat; returns its id."""
    if settings.STRIPE_LOCALSTRIPE:
        return _localstripe_create_plan(lookup_key, product_id, amount, currency)
    with _payment_errors():
        price = _client().v1.prices.create(
            params={
                "lookup_key": lookup_key,
                "product": product_id,
                "unit_amount": amount,
                "currency": currency,
                "recurring": {"interval": "month"},
            }
        )
    return str(price.id)


def _price(lookup_key: str) -> str:
    found = price_id(lookup_key)
    if found is None:
        logger.error("Stripe has no price %s: run `manage.py sync_stripe_plans`.", lookup_key)
        raise PaymentError.unreachable()
    return found


def _item(price: str, quantity: int, item_id: str | None = None) -> Any:
    """A subscription item of `quantity` seats at `price` (typed Any: the adapter renames it)."""
    item = {**({"id": item_id} if item_id else {}), "price": price, "quantity": quantity}
    return _adapted_item(item)


# Customers and cards


def create_customer(
    *, email: str, name: str, metadata: dict[str, str], idempotency_key: str
) -> str:
    with _payment_errors():
        customer = _client().v1.customers.create(
            params={"email": email, "name": name, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    return str(customer.id)


def create_setup_intent(*, customer_id: str) -> str:
    """A SetupIntent for the card form; returns its client secret (for Stripe.js)."""
    with _payment_errors():
        setup_intent = _client().v1.setup_intents.create(
            params={"customer": customer_id, "usage": "off_session"}
        )
    return str(setup_intent.client_secret)


def retrieve_setup_intent(setup_intent_id: str) -> CardSetup:
    with _payment_errors():
        setup_intent = _client().v1.setup_intents.retrieve(setup_intent_id)
    return read_setup_intent(setup_intent.to_dict())


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
        subscriptions = [item.to_dict() for item in listing.auto_paging_iter()]
    return [read_subscription(_adapted_subscription(details)) for details in subscriptions]


def retrieve_subscription(subscription_id: str) -> StripeSubscription:
    """The subscription as Stripe holds it now."""
    with _payment_errors():
        details = _client().v1.subscriptions.retrieve(subscription_id).to_dict()
    if settings.STRIPE_LOCALSTRIPE:
        return _localstripe_settled(details)
    return read_subscription(details)


def create_subscription(
    *,
    customer_id: str,
    price_lookup_key: str,
    quantity: int,
    purchase_id: str,
    idempotency_key: str,
) -> StripeSubscription:
    """Subscribe the customer and charge the first invoice to its default card at once.

    A first payment that needs the bank's authentication leaves the subscription `incomplete`
    (Stripe's `allow_incomplete`), so the buyer can authenticate and the same subscription then
    becomes active; `payment_of_invoice()` says how the payment went."""
    item = _item(_price(price_lookup_key), quantity)
    with _payment_errors():
        subscription = _client().v1.subscriptions.create(
            params={
                "customer": customer_id,
                "items": [item],
                "payment_behavior": "allow_incomplete",
                "metadata": {PURCHASE_KEY: purchase_id},
            },
            options={"idempotency_key": idempotency_key},
        )
    return read_subscription(_adapted_subscription(subscription.to_dict()))


def cancel_subscription(subscription_id: str) -> None:
    with _payment_errors():
        _client().v1.subscriptions.cancel(subscription_id)


def payment_of_invoice(invoice_id: str) -> PaymentOutcome:
    """How the payment of an invoice went. In the current API an invoice's payments are
    `invoice_payment` objects, each naming its PaymentIntent."""
    if settings.STRIPE_LOCALSTRIPE:
        return _localstripe_invoice_payment(invoice_id)
    with _payment_errors():
        listing = _client().v1.invoice_payments.list(
            params={"invoice": invoice_id, "expand": ["data.payment.payment_intent"]}
        )
        payments = [payment.to_dict() for payment in listing.data]
    return read_invoice_payments(payments)


def change_quantity(*, subscription_id: str, item_id: str, quantity: int) -> StripeSubscription:
    """Set the number of seats, paying first: the proration is invoiced and charged at once
    and Stripe applies the new quantity only once that invoice is paid (a pending update).

    Returns the subscription with the new quantity applied. A declined card discards the
    change (its invoice is voided) and raises PaymentError with the card's reason; a payment
    that needs the bank's authentication raises PaymentError with the `client_secret` that
    Stripe.js needs, and the change is applied when that payment succeeds."""
    if settings.STRIPE_LOCALSTRIPE:
        return _localstripe_change_quantity(subscription_id, item_id, quantity)
    with _payment_errors():
        updated = _client().v1.subscriptions.update(
            subscription_id,
            params={
                "items": [{"id": item_id, "quantity": quantity}],
                "proration_behavior": "always_invoice",
                "payment_behavior": "pending_if_incomplete",
            },
        )
    subscription = read_subscription(updated.to_dict())
    if not subscription.has_pending_update:
        return subscription
    if subscription.latest_invoice_id is None:
        raise PaymentError.declined(None)
    payment = payment_of_invoice(subscription.latest_invoice_id)
    if payment.status == "requires_action":
        raise PaymentError.authentication_needed(client_secret=payment.client_secret)
    if payment.status == "processing":
        raise PaymentError.processing()
    with _payment_errors():
        # Voiding the unpaid invoice discards the pending update: nothing is left to apply.
        _client().v1.invoices.void_invoice(subscription.latest_invoice_id)
    raise PaymentError.declined(payment.decline_reason)


def change_plan(
    *, subscription_id: str, item_id: str, price_lookup_key: str, quantity: int
) -> StripeSubscription:
    item = _item(_price(price_lookup_key), quantity, item_id)
    return _update_subscription(subscription_id, {"items": [item]})


def set_cancel_at_period_end(*, subscription_id: str, cancel: bool) -> StripeSubscription:
    """Cancel at the end of the paid period (cancel=True), or undo that (cancel=False)."""
    return _update_subscription(subscription_id, {"cancel_at_period_end": cancel})


def _update_subscription(subscription_id: str, params: Any) -> StripeSubscription:
    with _payment_errors():
        updated = _client().v1.subscriptions.update(subscription_id, params=params)
    return read_subscription(_adapted_subscription(updated.to_dict()))


# Invoices


def invoices_of(customer_id: str, *, limit: int = 24) -> list[StripeInvoice]:
    """The customer's last `limit` invoices, newest first."""
    with _payment_errors():
        listing = _client().v1.invoices.list(params={"customer": customer_id, "limit": limit})
        invoices = [read_invoice(invoice.to_dict()) for invoice in listing.data]
    return sorted(invoices, key=lambda invoice: invoice.created, reverse=True)


def retrieve_invoice(invoice_id: str) -> StripeInvoice:
    with _payment_errors():
        return read_invoice(_client().v1.invoices.retrieve(invoice_id).to_dict())


# Webhooks


def construct_webhook_event(payload: bytes, signature: str) -> WebhookEvent:
    """The event of a webhook request, once its signature by our webhook secret is checked."""
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET
        ).to_dict()
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidStripeEvent("Invalid Stripe webhook: bad payload or signature.") from error
    try:
        return read_event(event)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # Signed by our secret, yet not in the shape Stripe sends: refused, nothing recorded.
        raise InvalidStripeEvent("Invalid Stripe webhook: the event lacks a field.") from error


def register_webhook_endpoint(*, url: str, events: list[str]) -> str:
    """Ask Stripe to send these events to `url`, in Quorum's API version.

    Returns the endpoint's signing secret, to set as STRIPE_WEBHOOK_SECRET (Stripe shows it
    only once, when the endpoint is created)."""
    if settings.STRIPE_LOCALSTRIPE:
        return _localstripe_register_webhook(url, events)
    # Typed Any: the library types `api_version` as the literal of its own pinned version.
    params: Any = {"url": url, "enabled_events": events, "api_version": api_version()}
    with _payment_errors():
        endpoint = _client().v1.webhook_endpoints.create(params=params)
    return str(endpoint.secret)


# The card form


def card_form_csp() -> dict[str, list[str]]:
    """The page's Content-Security-Policy, widened just enough for Stripe.js and its frames."""
    stripe_js = _origin(settings.STRIPE_JS_URL)
    api = _origin(settings.STRIPE_API_BASE)
    configured = cast(dict[str, list[str]], settings.SECURE_CSP)
    policy = {directive: list(values) for directive, values in configured.items()}
    policy["script-src"] = [*policy.get("script-src", []), stripe_js]
    policy["connect-src"] = [*policy.get("connect-src", ["'self'"]), api, stripe_js]
    policy["frame-src"] = [*policy.get("frame-src", []), stripe_js, "https://hooks.stripe.com"]
    return policy


# Readers: Stripe's objects, in the shape of `api_version()`, as Quorum's value objects


def read_subscription(details: dict[str, Any]) -> StripeSubscription:
    # The period is on each subscription item (the subscription has none since 2025-03-31).
    item = details["items"]["data"][0]
    return StripeSubscription(
        id=details["id"],
        customer_id=_id(details.get("customer")),
        status=details["status"],
        item_id=item["id"],
        price_id=_id(item.get("price")),
        price_lookup_key=(item.get("price") or {}).get("lookup_key"),
        quantity=item["quantity"],
        current_period_end=_from_timestamp(item.get("current_period_end")),
        cancel_at_period_end=bool(details.get("cancel_at_period_end")),
        purchase_id=(details.get("metadata") or {}).get(PURCHASE_KEY),
        latest_invoice_id=_id(details.get("latest_invoice")),
        has_pending_update=details.get("pending_update") is not None,
    )


def read_invoice(details: dict[str, Any]) -> StripeInvoice:
    # The subscription of an invoice is under `parent` (there is no top-level `subscription`).
    parent = details.get("parent") or {}
    return StripeInvoice(
        id=details["id"],
        number=details.get("number"),
        created=details["created"],
        amount_paid=details.get("amount_paid") or 0,
        amount_due=details.get("amount_due") or 0,
        currency=details.get("currency") or "",
        status=details.get("status"),
        subscription_id=_id((parent.get("subscription_details") or {}).get("subscription")),
        billing_reason=details.get("billing_reason"),
        hosted_invoice_url=details.get("hosted_invoice_url"),
    )


def read_invoice_payments(payments: list[dict[str, Any]]) -> PaymentOutcome:
    """The outcome of an invoice's default payment (an `invoice_payment` whose `payment` names
    an expanded PaymentIntent); no payment at all means none could be attempted."""
    default = next((p for p in payments if p.get("is_default")), payments[0] if payments else None)
    payment = (default or {}).get("payment") or {}
    intent = payment.get("payment_intent") if payment.get("type") == "payment_intent" else None
    if not isinstance(intent, dict):
        return PaymentOutcome(status="declined")
    return read_payment_intent(intent)


def read_payment_intent(details: dict[str, Any]) -> PaymentOutcome:
    status = details.get("status")
    if status == "succeeded":
        return PaymentOutcome(status="paid")
    if status in ("requires_action", "requires_confirmation"):
        return PaymentOutcome(status="requires_action", client_secret=details.get("client_secret"))
    if status == "processing":
        return PaymentOutcome(status="processing", client_secret=details.get("client_secret"))
    reason = (details.get("last_payment_error") or {}).get("message")
    return PaymentOutcome(status="declined", decline_reason=reason)


def read_setup_intent(details: dict[str, Any]) -> CardSetup:
    return CardSetup(
        id=details["id"],
        customer_id=_id(details.get("customer")),
        status=details["status"],
        payment_method_id=_id(details.get("payment_method")),
    )


def read_event(details: dict[str, Any]) -> WebhookEvent:
    obj = details["data"]["object"]
    trusted = details.get("api_version") == api_version()
    object_type = str(obj.get("object", ""))
    return WebhookEvent(
        id=details["id"],
        type=details["type"],
        created=_at(details["created"]),
        api_version=details.get("api_version"),
        trusted=trusted,
        object_type=object_type,
        object_id=obj.get("id"),
        subscription=read_subscription(obj) if trusted and object_type == "subscription" else None,
        invoice=read_invoice(obj) if trusted and object_type == "invoice" else None,
    )


def _id(value: Any) -> str | None:
    """An expandable field: an id, or the expanded object (whose id is taken), or None."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else None


def _from_timestamp(value: int | None) -> datetime | None:
    return _at(value) if value else None


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# ---------------------------------------------------------------------------------------------
# localstripe adapter: the ONE place that knows localstripe (development and tests only, when
# settings.STRIPE_LOCALSTRIPE is on). localstripe 1.15 answers in the 2017-08-15 API shape and
# lacks some endpoints; the functions below give the rest of the gateway the current shape:
# - there are no Prices (404): a price is served as the legacy plan whose id is the price's
#   lookup key, and subscription items name a `plan`; a subscription's period end is
#   top-level, not on its items, and its items have a `plan` but no `price`;
# - an invoice names its `payment_intent`: there are no `invoice_payment` objects;
# - a subscription update takes neither `proration_behavior` nor `payment_behavior`, and there
#   are no pending updates: the adapter charges the added seats with a PaymentIntent first,
#   records the change in the customer's metadata while the bank's authentication is pending
#   (localstripe ignores a subscription's metadata updates), and applies it once that payment
#   succeeded, as Stripe does;
# - webhook endpoints are registered with `POST /_config/webhooks/<id>` (no API version).
# ---------------------------------------------------------------------------------------------

_PENDING_QUANTITY = "quorum_pending_quantity"
_PENDING_PAYMENT = "quorum_pending_payment"


def _adapted_subscription(details: dict[str, Any]) -> dict[str, Any]:
    """A subscription in the current shape (as it is, unless localstripe answered)."""
    if not settings.STRIPE_LOCALSTRIPE:
        return details
    items = [
        {
            "current_period_start": details.get("current_period_start"),
            "current_period_end": details.get("current_period_end"),
            "price": {**item["plan"], "lookup_key": item["plan"]["id"]},
            **item,
        }
        for item in details["items"]["data"]
    ]
    current = {
        key: value
        for key, value in details.items()
        if key not in ("current_period_start", "current_period_end", "plan", "quantity")
    }
    return {**current, "items": {**details["items"], "data": items}, "pending_update": None}


def _adapted_item(item: dict[str, Any]) -> dict[str, Any]:
    """A subscription item to send (as it is, unless to localstripe: a plan for the price)."""
    if not settings.STRIPE_LOCALSTRIPE:
        return item
    return {("plan" if key == "price" else key): value for key, value in item.items()}


def _localstripe_plan_id(lookup_key: str) -> str | None:
    with _payment_errors():
        try:
            return str(_client().v1.plans.retrieve(lookup_key).id)
        except stripe.InvalidRequestError:
            return None


def _localstripe_create_plan(lookup_key: str, product_id: str, amount: int, currency: str) -> str:
    with _payment_errors():
        _client().v1.plans.create(
            params={
                "id": lookup_key,
                "product": product_id,
                "amount": amount,
                "currency": currency,
                "interval": "month",
            }
        )
    return lookup_key


def _localstripe_invoice_payment(invoice_id: str) -> PaymentOutcome:
    with _payment_errors():
        invoice = (
            _client()
            .v1.invoices.retrieve(invoice_id, params={"expand": ["payment_intent"]})
            .to_dict()
        )
    intent = invoice.get("payment_intent")
    payments = (
        [{"is_default": True, "payment": {"type": "payment_intent", "payment_intent": intent}}]
        if intent
        else []
    )
    return read_invoice_payments(payments)


def _localstripe_change_quantity(
    subscription_id: str, item_id: str, quantity: int
) -> StripeSubscription:
    client = _client()
    with _payment_errors():
        details = client.v1.subscriptions.retrieve(subscription_id).to_dict()
        customer = client.v1.customers.retrieve(details["customer"]).to_dict()
    item = details["items"]["data"][0]
    added = quantity - item["quantity"]
    if added > 0:
        # Stripe would prorate to the end of the period; localstripe charges the whole month.
        with _payment_errors():
            intent = client.v1.payment_intents.create(
                params={
                    "amount": item["plan"]["amount"] * added,
                    "currency": item["plan"]["currency"],
                    "customer": customer["id"],
                    "payment_method": customer["invoice_settings"]["default_payment_method"],
                    "confirm": True,
                    "off_session": True,
                }
            ).to_dict()
        outcome = read_payment_intent(intent)
        if outcome.status in ("requires_action", "processing"):
            _localstripe_set_pending(customer["id"], str(quantity), intent["id"])
            if outcome.status == "processing":
                raise PaymentError.processing()
            raise PaymentError.authentication_needed(client_secret=outcome.client_secret)
        if outcome.status != "paid":
            raise PaymentError.declined(outcome.decline_reason)
    return _update_subscription(subscription_id, {"items": [{"id": item_id, "quantity": quantity}]})


def _localstripe_settled(details: dict[str, Any]) -> StripeSubscription:
    """The subscription once the seat change recorded while its payment waited for the bank is
    applied (paid), dropped (failed), or still pending (shown as Stripe's `pending_update`)."""
    client = _client()
    with _payment_errors():
        customer = client.v1.customers.retrieve(details["customer"]).to_dict()
        metadata = customer.get("metadata") or {}
        payment_id = metadata.get(_PENDING_PAYMENT)
        intent = client.v1.payment_intents.retrieve(payment_id).to_dict() if payment_id else None
    adapted = _adapted_subscription(details)
    if intent is None:
        return read_subscription(adapted)
    outcome = read_payment_intent(intent)
    if outcome.status in ("requires_action", "processing"):
        quantity = int(metadata[_PENDING_QUANTITY])
        adapted["pending_update"] = {"subscription_items": [{"quantity": quantity}]}
        return read_subscription(adapted)
    _localstripe_set_pending(customer["id"], "", "")
    if outcome.status != "paid":
        return read_subscription(adapted)
    item_id = details["items"]["data"][0]["id"]
    quantity = int(metadata[_PENDING_QUANTITY])
    return _update_subscription(details["id"], {"items": [{"id": item_id, "quantity": quantity}]})


def _localstripe_set_pending(customer_id: str, quantity: str, payment_id: str) -> None:
    with _payment_errors():
        _client().v1.customers.update(
            customer_id,
            params={"metadata": {_PENDING_QUANTITY: quantity, _PENDING_PAYMENT: payment_id}},
        )


def _localstripe_register_webhook(url: str, events: list[str]) -> str:
    secret = str(settings.STRIPE_WEBHOOK_SECRET)
    body = json.dumps({"url": url, "secret": secret, "events": events}).encode()
    request = urllib.request.Request(  # noqa: S310 (localstripe on the configured address)
        f"{settings.STRIPE_API_BASE}/_config/webhooks/quorum", data=body, method="POST"
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
    except OSError as error:
        raise PaymentError.unreachable() from error
    logger.info("localstripe sends its events to %s", url)
    return secret
