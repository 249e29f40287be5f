"""Contract tests: the gateway reads what Stripe's current API sends (Stripe's own example
objects) and sends only parameters the stripe library's typed parameters know.

localstripe answers in the 2017 API shape, so what these tests prove cannot be proven against
it: here Stripe's example objects are served by a loopback stand-in (tests/fixtures/
stripe_stub.py) and read by the unchanged gateway."""

import importlib
import types
import typing
from datetime import UTC, datetime
from typing import Any, Union, get_args, get_origin

import pytest
import stripe.params
from typing_extensions import get_type_hints, is_typeddict

from licensing import gateway
from licensing.exceptions import LicensingError, PaymentError
from licensing.models import Purchase, Subscription
from licensing.services.purchase import purchase_seats
from licensing.services.seats import change_seat_count, settle_seat_change
from tenancy.models import AuditEvent, Tenant
from tests.fixtures import stripe_examples as examples

SUB = r"/v1/subscriptions/sub_quorum"
VERSION = "2026-10-28.endive"


# The readers, fed Stripe's examples


def test_the_version_spoken_is_the_one_the_stripe_library_pins(settings):
    settings.STRIPE_API_VERSION = ""
    assert gateway.api_version() == "2026-10-28.endive" == VERSION
    settings.STRIPE_API_VERSION = "2026-11-17.endive"
    assert gateway.api_version() == "2026-11-17.endive"


def test_a_subscription_is_read_from_its_item(settings):
    settings.STRIPE_LOCALSTRIPE = False
    raw = examples.example("subscription")
    assert "current_period_end" not in raw  # the current API has it on each item only
    read = gateway.read_subscription(raw)
    item = raw["items"]["data"][0]
    assert read == gateway.StripeSubscription(
        id="sub_1Pgc6rB7WZ01zgkWNy0Cn5nw",
        customer_id="cus_QXg1o8vcGmoR32",
        status="active",
        item_id=item["id"],
        price_id="price_1PgafmB7WZ01zgkW6dKueIc5",
        price_lookup_key=None,
        quantity=1,
        current_period_end=datetime.fromtimestamp(976287773, tz=UTC),
        cancel_at_period_end=True,
        purchase_id=None,
        latest_invoice_id=None,
        has_pending_update=True,
    )


def test_the_subscription_item_example_gives_quantity_price_and_period():
    raw = examples.subscription(quantity=7, item_id="si_7", metadata={"quorum_purchase": "12"})
    read = gateway.read_subscription(raw)
    assert (read.item_id, read.quantity, read.price_id, read.purchase_id) == (
        "si_7",
        7,
        "price_quorum",
        "12",
    )
    assert read.price_lookup_key == "quorum-essentials-eur-600-month"
    assert read.current_period_end == datetime.fromtimestamp(976287773, tz=UTC)
    assert read.has_pending_update is False


def test_an_invoice_names_its_subscription_under_parent():
    raw = examples.example("invoice")
    assert raw["subscription"] is None and "payment_intent" not in raw
    raw["parent"]["subscription_details"]["subscription"] = "sub_quorum"
    read = gateway.read_invoice(raw)
    assert read == gateway.StripeInvoice(
        id="in_1Pgc6tB7WZ01zgkWu9fdqL6I",
        number=None,
        created=1234567890,
        amount_paid=0,
        amount_due=1000,
        currency="usd",
        status="draft",
        subscription_id="sub_quorum",
        billing_reason="manual",
        hosted_invoice_url=None,
    )


@pytest.mark.parametrize(
    ("status", "decline", "expected"),
    [
        ("succeeded", None, gateway.PaymentOutcome(status="paid")),
        (
            "requires_action",
            None,
            gateway.PaymentOutcome(status="requires_action", client_secret="pi_q_secret_quorum"),
        ),
        (
            "requires_payment_method",
            "Your card has insufficient funds.",
            gateway.PaymentOutcome(
                status="declined", decline_reason="Your card has insufficient funds."
            ),
        ),
        (
            "processing",
            None,
            gateway.PaymentOutcome(status="processing", client_secret="pi_q_secret_quorum"),
        ),
    ],
)
def test_an_invoice_payment_gives_the_outcome_of_its_payment_intent(status, decline, expected):
    intent = examples.payment_intent(id="pi_q", status=status, decline=decline)
    payment = examples.invoice_payment(intent=intent)
    assert payment["object"] == "invoice_payment"
    assert gateway.read_invoice_payments([payment]) == expected


def test_an_invoice_without_payments_was_not_paid():
    assert gateway.read_invoice_payments([]) == gateway.PaymentOutcome(status="declined")


def test_a_setup_intent_gives_the_card_form_outcome():
    raw = examples.example("setup_intent")
    raw.update(status="succeeded", customer="cus_quorum", payment_method="pm_quorum")
    assert gateway.read_setup_intent(raw) == gateway.CardSetup(
        id="seti_1Pgag7B7WZ01zgkWSgwGdb8Z",
        customer_id="cus_quorum",
        status="succeeded",
        payment_method_id="pm_quorum",
    )


def test_an_event_in_our_version_is_read_and_one_in_another_is_not(settings):
    settings.STRIPE_API_VERSION = ""
    import json

    ours = gateway.read_event(
        json.loads(examples.event("customer.subscription.updated", examples.subscription()))
    )
    assert ours.trusted and ours.subscription is not None
    assert (ours.subscription.id, ours.subscription.quantity) == ("sub_quorum", 2)

    as_published = examples.example("event")  # Stripe's example names no version
    other = gateway.read_event(as_published)
    assert not other.trusted
    assert (other.type, other.object_type, other.object_id) == (
        "plan.created",
        "plan",
        "price_1PgafmB7WZ01zgkW6dKueIc5",
    )
    assert other.subscription is None and other.invoice is None


# The gateway against Stripe's examples over HTTP


def test_every_request_names_our_api_version(stripe_stub, settings):
    stripe_stub.answer("GET", SUB, "SubscriptionRetrieveParams", examples.subscription())
    gateway.retrieve_subscription("sub_quorum")
    settings.STRIPE_API_VERSION = "2026-11-17.endive"
    gateway.retrieve_subscription("sub_quorum")
    assert [r.headers["Stripe-Version"] for r in stripe_stub.requests] == [
        "2026-10-28.endive",
        "2026-11-17.endive",
    ]


def test_the_webhook_endpoint_is_registered_in_our_version(stripe_stub):
    endpoint = examples.example("webhook_endpoint")
    endpoint.update(secret="whsec_from_stripe", api_version=VERSION)
    stripe_stub.answer("POST", "/v1/webhook_endpoints", "WebhookEndpointCreateParams", endpoint)
    from licensing.services.webhooks import HANDLED_EVENTS, register_webhook_endpoint

    secret = register_webhook_endpoint(url="https://quorum.example/stripe/webhook/")
    assert secret == "whsec_from_stripe"
    [request] = stripe_stub.requests
    assert request.params == {
        "url": "https://quorum.example/stripe/webhook/",
        "enabled_events": sorted(HANDLED_EVENTS),
        "api_version": VERSION,
    }


@pytest.fixture
def managed(db):
    """A tenant that bought 2 licences (rows as the purchase leaves them) for Stripe's ids."""
    from tests.factories import member

    rob = member("rob@contoso.com", name="Rob Martin")
    member("sara@contoso.com")
    tenant = rob.membership.tenant
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.MANAGED)
    subscription = Subscription.objects.unscoped().create(
        tenant=tenant,
        plan="essentials",
        quantity=2,
        status=Subscription.Status.ACTIVE,
        stripe_customer_id="cus_quorum",
        stripe_subscription_id="sub_quorum",
        stripe_item_id="si_quorum",
    )
    return rob, subscription


def _seat_invoice(stripe_stub, intent):
    stripe_stub.answer(
        "GET",
        "/v1/invoice_payments",
        "InvoicePaymentListParams",
        examples.listing("/v1/invoice_payments", examples.invoice_payment(intent=intent)),
    )


def test_added_seats_paid_at_once_apply(stripe_stub, managed):
    rob, subscription = managed
    stripe_stub.answer("POST", SUB, "SubscriptionUpdateParams", examples.subscription(quantity=5))
    change_seat_count(tenant=subscription.tenant, actor=rob, quantity=5)
    subscription.refresh_from_db()
    assert subscription.quantity == 5
    [update] = stripe_stub.requests
    assert update.params == {
        "items": [{"id": "si_quorum", "quantity": "5"}],
        "proration_behavior": "always_invoice",
        "payment_behavior": "pending_if_incomplete",
    }


def test_a_declined_seat_payment_changes_nothing_and_says_why(stripe_stub, managed):
    rob, subscription = managed
    pending = examples.subscription(quantity=2, pending_update=True, latest_invoice="in_seats")
    stripe_stub.answer("POST", SUB, "SubscriptionUpdateParams", pending)
    _seat_invoice(
        stripe_stub,
        examples.payment_intent(
            status="requires_payment_method", decline="Your card has insufficient funds."
        ),
    )
    voided = examples.invoice(id="in_seats", status="void", billing_reason="subscription_update")
    stripe_stub.answer("POST", "/v1/invoices/in_seats/void", "InvoiceVoidInvoiceParams", voided)

    with pytest.raises(PaymentError, match="insufficient funds") as refusal:
        change_seat_count(tenant=subscription.tenant, actor=rob, quantity=5)

    assert not refusal.value.needs_authentication
    subscription.refresh_from_db()
    assert subscription.quantity == 2
    assert not AuditEvent.objects.unscoped().filter(action="licences.quantity_changed").exists()
    assert [(r.method, r.path) for r in stripe_stub.requests] == [
        ("POST", "/v1/subscriptions/sub_quorum"),
        ("GET", "/v1/invoice_payments"),
        ("POST", "/v1/invoices/in_seats/void"),
    ]
    assert stripe_stub.requests[1].params == {
        "invoice": "in_seats",
        "expand": ["data.payment.payment_intent"],
    }


def test_a_seat_payment_needing_3d_secure_applies_once_authenticated(stripe_stub, managed):
    """The `requires_action` branch of "add seats", with Stripe's objects: the count stays
    until Stripe applied the pending update, then follows."""
    rob, subscription = managed
    pending = examples.subscription(quantity=2, pending_update=True, latest_invoice="in_seats")
    stripe_stub.answer("POST", SUB, "SubscriptionUpdateParams", pending)
    _seat_invoice(stripe_stub, examples.payment_intent(id="pi_seats", status="requires_action"))

    with pytest.raises(PaymentError, match="authenticate") as refusal:
        change_seat_count(tenant=subscription.tenant, actor=rob, quantity=5)
    assert refusal.value.client_secret == "pi_seats_secret_quorum"
    subscription.refresh_from_db()
    assert subscription.quantity == 2

    stripe_stub.answer("GET", SUB, "SubscriptionRetrieveParams", pending)
    with pytest.raises(LicensingError, match="not through yet"):
        settle_seat_change(tenant=subscription.tenant, actor=rob)

    stripe_stub.answer("GET", SUB, "SubscriptionRetrieveParams", examples.subscription(quantity=5))
    settle_seat_change(tenant=subscription.tenant, actor=rob)
    subscription.refresh_from_db()
    assert subscription.quantity == 5
    assert AuditEvent.objects.unscoped().get(action="licences.quantity_changed").after == {
        "quantity": 5
    }


@pytest.fixture
def buying(db):
    """Rob with a verified claim and a purchase attempt whose Stripe customer is cus_quorum."""
    from tests.factories import member
    from tests.fixtures.purchases import verified_claim

    rob = member("rob@contoso.com", name="Rob Martin")
    member("sara@contoso.com")
    claim = verified_claim(rob)
    purchase = Purchase.objects.unscoped().create(
        tenant=claim.tenant,
        buyer=rob,
        claim=claim,
        entry="admin",
        seats=2,
        stripe_customer_id="cus_quorum",
    )
    return rob, purchase


def _first_purchase_routes(stripe_stub, intent):
    prices = examples.listing("/v1/prices", examples.price())
    stripe_stub.answer("GET", "/v1/prices", "PriceListParams", prices)
    setup = examples.example("setup_intent")
    setup.update(id="seti_q", status="succeeded", customer="cus_quorum", payment_method="pm_q")
    method = {"id": "pm_q", "object": "payment_method", "customer": "cus_quorum"}
    customer = examples.example("customer")
    customer.update(id="cus_quorum")
    stripe_stub.answer(
        "GET", "/v1/subscriptions", "SubscriptionListParams", examples.listing("/v1/subscriptions")
    )
    stripe_stub.answer("GET", "/v1/setup_intents/seti_q", "SetupIntentRetrieveParams", setup)
    stripe_stub.answer(
        "POST", "/v1/payment_methods/pm_q/attach", "PaymentMethodAttachParams", method
    )
    stripe_stub.answer("POST", "/v1/customers/cus_quorum", "CustomerUpdateParams", customer)
    incomplete = examples.subscription(status="incomplete", latest_invoice="in_first")
    stripe_stub.answer("POST", "/v1/subscriptions", "SubscriptionCreateParams", incomplete)
    _seat_invoice(stripe_stub, intent)
    canceled = examples.subscription(status="canceled")
    stripe_stub.answer("DELETE", SUB, "SubscriptionCancelParams", canceled)


def _buy(rob, purchase):
    return purchase_seats(
        buyer=rob,
        purchase_id=purchase.pk,
        plan_key="essentials",
        confirmed_seats=2,
        setup_intent_id="seti_q",
    )


def test_a_first_payment_needing_3d_secure_keeps_the_subscription_for_it(stripe_stub, buying):
    """The wizard's `requires_action` branch with Stripe's objects."""
    rob, purchase = buying
    _first_purchase_routes(
        stripe_stub, examples.payment_intent(id="pi_first", status="requires_action")
    )

    with pytest.raises(PaymentError, match="authenticate") as refusal:
        _buy(rob, purchase)

    assert refusal.value.client_secret == "pi_first_secret_quorum"
    purchase.refresh_from_db()
    assert purchase.state == Purchase.State.REQUIRES_ACTION
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
    assert not Subscription.objects.unscoped().exists()
    assert "DELETE" not in [r.method for r in stripe_stub.requests]
    create = next(
        r for r in stripe_stub.requests if r.route.params_type == "SubscriptionCreateParams"
    )
    assert create.params["payment_behavior"] == "allow_incomplete"
    assert create.headers["Idempotency-Key"] == f"quorum-purchase-{purchase.pk}-essentials-2-seti_q"


def test_a_declined_first_payment_cancels_the_subscription(stripe_stub, buying):
    rob, purchase = buying
    _first_purchase_routes(
        stripe_stub,
        examples.payment_intent(
            status="requires_payment_method", decline="Your card was declined."
        ),
    )
    with pytest.raises(PaymentError, match=r"declined \(Your card was declined\.\)"):
        _buy(rob, purchase)
    assert ("DELETE", "/v1/subscriptions/sub_quorum") in [
        (r.method, r.path) for r in stripe_stub.requests
    ]
    purchase.refresh_from_db()
    assert purchase.state == Purchase.State.FAILED
    assert not Subscription.objects.unscoped().exists()


def test_a_paid_first_payment_makes_the_tenant_managed(stripe_stub, buying):
    rob, purchase = buying
    _first_purchase_routes(stripe_stub, examples.payment_intent(status="succeeded"))
    stripe_stub.answer(
        "POST", "/v1/subscriptions", "SubscriptionCreateParams", examples.subscription()
    )
    assert _buy(rob, purchase).state == Purchase.State.SUCCEEDED
    subscription = Subscription.objects.unscoped().get()
    assert subscription.current_period_end == datetime.fromtimestamp(976287773, tz=UTC)
    assert (subscription.stripe_item_id, subscription.quantity) == ("si_quorum", 2)


# Every parameter the gateway sends is one the stripe library's typed parameters know


def unknown_parameters(value: Any, hint: Any, path: str = "") -> list[str]:
    """The keys of `value` that `hint` (a TypedDict, possibly in a Union or List) lacks."""
    members = _members(hint)
    if isinstance(value, list):
        elements = [get_args(m)[0] for m in members if get_origin(m) is list]
        return [
            problem
            for index, item in enumerate(value)
            for problem in unknown_parameters(item, Union[tuple(elements)], f"{path}[{index}]")  # noqa: UP007
        ]
    typed = [m for m in members if is_typeddict(m)]
    if not isinstance(value, dict) or not typed:
        return []  # a scalar, or a free mapping such as metadata
    return min((_unknown_keys(value, t, path) for t in typed), key=len)


def _unknown_keys(value: dict[str, Any], typed: Any, path: str) -> list[str]:
    # The keys inherited from RequestOptions name types its own module imports.
    hints = get_type_hints(typed, localns={"StripeContext": stripe.StripeContext, **OPTIONS})
    problems = []
    for key, item in value.items():
        named = f"{path}.{key}" if path else key
        problems += unknown_parameters(item, hints[key], named) if key in hints else [named]
    return problems


OPTIONS = vars(importlib.import_module("stripe._request_options"))


def _members(hint: Any) -> list[Any]:
    if get_origin(hint) in (Union, types.UnionType):
        return [member for arg in get_args(hint) for member in _members(arg)]
    return [hint]


def test_the_checker_catches_a_misspelt_parameter():
    typed = stripe.params.SubscriptionUpdateParams
    assert unknown_parameters({"items": [{"id": "si", "quantity": 2}]}, typed) == []
    assert unknown_parameters({"proration": "always_invoice"}, typed) == ["proration"]
    assert unknown_parameters({"items": [{"id": "si", "quantity_": 2}]}, typed) == [
        "items[0].quantity_"
    ]


def _run_every_call(stripe_stub, settings):
    """Call every gateway function that talks to Stripe, against Stripe's examples."""
    answer = stripe_stub.answer
    product = examples.example("product")
    product["metadata"] = {"quorum_plan": "essentials"}
    answer("GET", "/v1/products", "ProductListParams", examples.listing("/v1/products", product))
    answer("POST", "/v1/products", "ProductCreateParams", product)
    prices = examples.listing("/v1/prices", examples.price())
    answer("GET", "/v1/prices", "PriceListParams", prices)
    answer("POST", "/v1/prices", "PriceCreateParams", examples.price("quorum-x"))
    customer = examples.example("customer")
    answer("POST", "/v1/customers", "CustomerCreateParams", customer)
    answer("POST", "/v1/customers/cus_quorum", "CustomerUpdateParams", customer)
    setup = examples.example("setup_intent")
    answer("POST", "/v1/setup_intents", "SetupIntentCreateParams", setup)
    answer("GET", "/v1/setup_intents/seti_q", "SetupIntentRetrieveParams", setup)
    method = {"id": "pm_q", "object": "payment_method"}
    answer("POST", "/v1/payment_methods/pm_q/attach", "PaymentMethodAttachParams", method)
    sub = examples.subscription()
    answer(
        "GET",
        "/v1/subscriptions",
        "SubscriptionListParams",
        examples.listing("/v1/subscriptions", sub),
    )
    answer("GET", SUB, "SubscriptionRetrieveParams", sub)
    answer("POST", "/v1/subscriptions", "SubscriptionCreateParams", sub)
    answer("POST", SUB, "SubscriptionUpdateParams", sub)
    answer("DELETE", SUB, "SubscriptionCancelParams", examples.subscription(status="canceled"))
    payment = examples.invoice_payment(intent=examples.payment_intent())
    answer(
        "GET",
        "/v1/invoice_payments",
        "InvoicePaymentListParams",
        examples.listing("/v1/invoice_payments", payment),
    )
    answer(
        "GET",
        "/v1/invoices",
        "InvoiceListParams",
        examples.listing("/v1/invoices", examples.invoice()),
    )
    answer("GET", "/v1/invoices/in_quorum", "InvoiceRetrieveParams", examples.invoice())
    endpoint = examples.example("webhook_endpoint")
    endpoint["secret"] = "whsec_x"
    answer("POST", "/v1/webhook_endpoints", "WebhookEndpointCreateParams", endpoint)

    gateway.quorum_products()
    gateway.create_product(name="Business Essentials", plan_key="essentials")
    gateway.price_id("quorum-essentials-eur-600-month")
    gateway.create_price(lookup_key="quorum-x", product_id="prod_q", amount=600, currency="eur")
    gateway.create_customer(
        email="rob@contoso.com", name="Rob", metadata={"a": "b"}, idempotency_key="k"
    )
    gateway.create_setup_intent(customer_id="cus_quorum")
    gateway.retrieve_setup_intent("seti_q")
    gateway.use_payment_method(customer_id="cus_quorum", payment_method_id="pm_q")
    gateway.subscriptions_of("cus_quorum")
    gateway.retrieve_subscription("sub_quorum")
    gateway.create_subscription(
        customer_id="cus_quorum",
        price_lookup_key="quorum-essentials-eur-600-month",
        quantity=2,
        purchase_id="1",
        idempotency_key="k2",
    )
    gateway.payment_of_invoice("in_quorum")
    gateway.change_quantity(subscription_id="sub_quorum", item_id="si_quorum", quantity=3)
    gateway.change_plan(
        subscription_id="sub_quorum",
        item_id="si_quorum",
        price_lookup_key="quorum-essentials-eur-600-month",
        quantity=3,
    )
    gateway.set_cancel_at_period_end(subscription_id="sub_quorum", cancel=True)
    gateway.cancel_subscription("sub_quorum")
    gateway.invoices_of("cus_quorum")
    gateway.retrieve_invoice("in_quorum")
    gateway.register_webhook_endpoint(
        url="https://quorum.example/stripe/webhook/", events=["invoice.paid"]
    )
    # The voiding of a declined seat payment's invoice.
    pending = examples.subscription(pending_update=True, latest_invoice="in_quorum")
    answer("POST", SUB, "SubscriptionUpdateParams", pending)
    declined = examples.payment_intent(status="requires_payment_method", decline="No.")
    answer(
        "GET",
        "/v1/invoice_payments",
        "InvoicePaymentListParams",
        examples.listing("/v1/invoice_payments", examples.invoice_payment(intent=declined)),
    )
    answer(
        "POST",
        "/v1/invoices/in_quorum/void",
        "InvoiceVoidInvoiceParams",
        examples.invoice(status="void"),
    )
    with pytest.raises(PaymentError):
        gateway.change_quantity(subscription_id="sub_quorum", item_id="si_quorum", quantity=3)


def test_every_parameter_sent_is_a_typed_parameter_of_its_method(stripe_stub, settings):
    _run_every_call(stripe_stub, settings)
    assert all(request.route is not None for request in stripe_stub.requests)
    typed = {request.route.params_type for request in stripe_stub.requests}
    assert typed == {route.params_type for route in stripe_stub.routes}
    assert len(typed) == 19
    for request in stripe_stub.requests:
        params_type = getattr(stripe.params, request.route.params_type)
        assert unknown_parameters(request.params, params_type) == [], request.path
    assert {r.headers["Stripe-Version"] for r in stripe_stub.requests} == {VERSION}


def test_every_gateway_call_is_covered_by_the_typed_check():
    talks_to_stripe = {
        name
        for name, function in vars(gateway).items()
        if isinstance(function, types.FunctionType)
        and function.__module__ == gateway.__name__
        and not name.startswith(("_", "read_"))
    } - {"api_version", "card_form_csp", "construct_webhook_event"}
    source = typing.cast(Any, _run_every_call).__code__.co_names
    assert talks_to_stripe <= set(source)


def _older_shape_subscription(metadata: dict[str, str]) -> dict[str, Any]:
    """A subscription as localstripe 1.15 answers it (2017-08-15 shape)."""
    plan = {"id": "quorum-essentials-eur-600-month", "object": "plan", "amount": 600}
    plan["currency"] = "eur"
    item = {"id": "si_quorum", "object": "subscription_item", "plan": plan, "quantity": 2}
    return {
        "id": "sub_quorum",
        "object": "subscription",
        "customer": "cus_quorum",
        "status": "active",
        "current_period_end": 1_900_000_000,
        "cancel_at_period_end": False,
        "latest_invoice": "in_quorum",
        "metadata": metadata,
        "items": examples.listing("/v1/subscription_items", item),
    }


def test_the_localstripe_adapter_sends_only_typed_parameters_too(stripe_stub, settings):
    settings.STRIPE_LOCALSTRIPE = True
    answer = stripe_stub.answer
    answer("GET", SUB, "SubscriptionRetrieveParams", _older_shape_subscription({}))
    answer("POST", SUB, "SubscriptionUpdateParams", _older_shape_subscription({}))
    intent = examples.payment_intent(id="pi_q")
    answer("GET", "/v1/payment_intents/pi_q", "PaymentIntentRetrieveParams", intent)
    answer("POST", "/v1/payment_intents", "PaymentIntentCreateParams", intent)
    customer = examples.example("customer")
    customer.update(id="cus_quorum")
    customer["invoice_settings"]["default_payment_method"] = "pm_q"
    customer["metadata"] = {"quorum_pending_quantity": "3", "quorum_pending_payment": "pi_q"}
    answer("GET", "/v1/customers/cus_quorum", "CustomerRetrieveParams", customer)
    answer("POST", "/v1/customers/cus_quorum", "CustomerUpdateParams", customer)
    older_invoice = {"id": "in_quorum", "object": "invoice", "payment_intent": intent}
    answer("GET", "/v1/invoices/in_quorum", "InvoiceRetrieveParams", older_invoice)

    applied = gateway.retrieve_subscription("sub_quorum")
    assert applied.current_period_end == datetime.fromtimestamp(1_900_000_000, tz=UTC)
    gateway.change_quantity(subscription_id="sub_quorum", item_id="si_quorum", quantity=4)
    assert gateway.payment_of_invoice("in_quorum") == gateway.PaymentOutcome(status="paid")

    typed = {request.route.params_type for request in stripe_stub.requests}
    assert typed == {route.params_type for route in stripe_stub.routes}
    for request in stripe_stub.requests:
        params_type = getattr(stripe.params, request.route.params_type)
        assert unknown_parameters(request.params, params_type) == [], request.path
    charge = next(r for r in stripe_stub.requests if r.path == "/v1/payment_intents")
    assert charge.params["amount"] == "1200"  # 2 added seats of 6.00 EUR
