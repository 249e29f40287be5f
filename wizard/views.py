"""The upgrade wizard's pages. They own no business rules: they call domains and licensing."""

import shlex
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from core.metrics import count_purchase
from core.money import from_cents
from domains import selectors as claims
from domains import services as claim_services
from domains.exceptions import DomainsError, ManagedTenantError
from licensing.exceptions import LicensingError, PaymentError
from licensing.gateway import card_form_csp
from licensing.models import PLAN_CHOICES
from licensing.plans import plan_by_key, plans_for_entry
from licensing.selectors import paid_subscription, seat_holders
from licensing.services.purchase import purchase_seats, start_purchase
from tenancy.selectors import admins_of, has_second_factor, standing_of

from . import selectors
from .services import dismiss_welcome, welcome_members

# Where the user came from (the launcher's Admin tile or the Upgrade button of meetings) is
# kept for the whole run, so that every step leads back there.
ENTRY_SESSION_KEY = "wizard_entry"
ENTRIES = ("admin", "meetings")
STEPS = (
    (1, _("Sign up")),
    (2, _("Run the wizard")),
    (3, _("Confirm domain ownership")),
    (4, _("Buy licences")),
)


def _wizard_context(request, *, step, **extra):
    entry = request.session.get(ENTRY_SESSION_KEY, "admin")
    return {
        "entry": entry,
        "exit_url": reverse("meetings:list" if entry == "meetings" else "tenancy:home"),
        "steps": [
            {
                "number": number,
                "label": label,
                "state": "done" if number < step else "current" if number == step else "todo",
            }
            for number, label in STEPS
        ],
        **extra,
    }


def dev_dns_command(domain: str, value: str) -> str:
    """The command that publishes a TXT record on `make run`'s DNS server, as it is typed in the
    project folder: with this checkout's own Python (the system's has no Django)."""
    python = Path(sys.executable)
    if python.is_relative_to(settings.BASE_DIR):
        python = python.relative_to(settings.BASE_DIR)
    return shlex.join([str(python), "manage.py", "dev_dns", "add", domain, value])


def _claim_context(request, claim, **extra):
    others = [other for other in claims.claims_of_tenant(claim.tenant) if other.pk != claim.pk]
    dev_dns = None
    if settings.DEBUG:
        dev_dns = {
            "command": dev_dns_command(claim.record_name, claim.record_value),
            "folder": settings.BASE_DIR,
        }
    return _wizard_context(
        request,
        step=4 if claim.is_verified else 3,
        claim=claim,
        others=others,
        seen=claims.seen_records_explained(claim),
        admins=admins_of(claim.tenant),
        claim_window_hours=claim_services.CLAIM_WINDOW // timedelta(hours=1),
        verified_window_days=claim_services.VERIFIED_WINDOW.days,
        dev_dns=dev_dns,
        **extra,
    )


def _own_claim(request):
    if request.tenant is None:
        return None
    return claims.latest_claim(tenant=request.tenant, claimant=request.user)


@login_required
@require_GET
def start(request):
    """Step 2: what becoming the admin means, and whether this user may."""
    if request.GET.get("entry") in ENTRIES:
        request.session[ENTRY_SESSION_KEY] = request.GET["entry"]
    membership = request.membership
    if membership is not None and membership.is_admin and membership.tenant.is_managed:
        # The Admin tile of an admin leads to the admin centre, not to a wizard already done.
        return redirect("portal:dashboard")
    refusal = admins = standing = None
    if membership is None:
        # Not a member (yet): why, and what to do next, rather than a refusal to claim.
        standing = standing_of(request.user)
    else:
        try:
            claim_services.assert_may_claim(user=request.user)
        except ManagedTenantError as error:
            refusal, admins = error.message, error.admins
        except DomainsError as error:
            refusal = error.message
    return render(
        request,
        "wizard/start.html",
        _wizard_context(
            request,
            step=2,
            refusal=refusal,
            admins=admins,
            standing=standing,
            claim=_own_claim(request),
        ),
    )


@login_required
@require_POST
def claim(request):
    """Start (or resume, or start over) the claim of the user's domain."""
    try:
        claim_services.start_claim(user=request.user)
    except DomainsError as error:
        messages.error(request, error.message)
        return redirect("wizard:start")
    return redirect("wizard:domain")


@login_required
@require_GET
def domain(request):
    """Step 3: the record to publish and the live status of its checks."""
    claim = _own_claim(request)
    if claim is None:
        return redirect("wizard:start")
    return render(request, "wizard/domain.html", _claim_context(request, claim))


@login_required
@require_GET
def domain_status(request):
    """The status part of step 3 alone, polled by the page while the claim is pending."""
    claim = _own_claim(request)
    if claim is None:
        return redirect("wizard:start")
    return render(request, "wizard/_claim_status.html", _claim_context(request, claim, oob=True))


@login_required
@require_POST
def record_added(request):
    return _manual_check(request, claim_services.confirm_record_added)


@login_required
@require_POST
def check_now(request):
    return _manual_check(request, claim_services.request_check_now)


def _manual_check(request, service):
    claim = _own_claim(request)
    if claim is None:
        return redirect("wizard:start")
    notice = None
    try:
        claim = service(claim=claim, user=request.user)
    except DomainsError as error:
        notice = error.message
    if request.headers.get("HX-Request"):
        return render(
            request,
            "wizard/_claim_status.html",
            _claim_context(request, claim, notice=notice, oob=True),
        )
    if notice:
        messages.warning(request, notice)
    return redirect("wizard:domain")


SEATS_LISTED = 50

# What the card form says when Stripe.js cannot confirm the card (static/js/card-form.js picks
# one by the error's code).
CARD_MESSAGES = {
    "declined": _("Your card was declined. Try another card, or ask your bank why."),
    "number": _("Check the card number: the 16 digits printed on the card."),
    "expiry": _("Check the card's expiry date: a month and a year still to come."),
    "cvc": _("Check the security code: the 3 digits on the back of the card."),
    "details": _("Check the card number, the expiry date and the security code."),
    "incomplete": _("Enter the card number, the expiry date and the security code."),
    "processing": _("Your card could not be checked just now. Please try again in a moment."),
    "unreachable": _(
        "The payment service cannot be reached right now. Nothing was charged. Check your "
        "connection, then reload the page in a moment."
    ),
    "other": _("Your card could not be confirmed. Check its details, or try another card."),
}


class PurchaseForm(forms.Form):
    purchase = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    seats = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    setup_intent = forms.CharField(max_length=255, widget=forms.HiddenInput)
    plan = forms.ChoiceField(choices=PLAN_CHOICES, widget=forms.RadioSelect)


def _purchase_page(
    request, *, claim, purchase=None, notice=None, confirm=None, authenticate=None, status=200
):
    """Step 4: the seats (every verified member), the plan choice, the card form from Stripe.js.

    Each showing opens (or resumes) the purchase attempt with a fresh SetupIntent.
    `authenticate`: the first payment waits for the bank (3-D Secure), run by Stripe.js."""
    try:
        purchase, client_secret = start_purchase(
            buyer=request.user, entry=request.session.get(ENTRY_SESSION_KEY, "admin")
        )
    except LicensingError as error:
        messages.error(request, error.message)
        return redirect("wizard:start")
    holders = seat_holders(request.tenant)
    plans = [
        {
            "plan": plan,
            "price": from_cents(plan.amount),
            "total": from_cents(plan.total(purchase.seats)),
        }
        for plan in plans_for_entry(purchase.entry)
    ]
    response = render(
        request,
        "wizard/licences.html",
        _wizard_context(
            request,
            step=4,
            claim=claim,
            purchase=purchase,
            client_secret=client_secret,
            plans=plans,
            chosen=purchase.plan,
            holders=holders[:SEATS_LISTED],
            more_holders=max(purchase.seats - SEATS_LISTED, 0),
            notice=notice,
            confirm=confirm,
            authenticate=authenticate,
            stripe_js_url=settings.STRIPE_JS_URL,
            card_messages=CARD_MESSAGES,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        ),
        status=status,
    )
    response._csp_config = card_form_csp()  # type: ignore[attr-defined]
    return response


@login_required
@require_GET
def licences(request):
    """Step 4: buy one licence per person who signed up at the domain."""
    claim = _own_claim(request)
    if claim is None or not claim.is_verified:
        return redirect("wizard:domain")
    return _purchase_page(request, claim=claim)


@login_required
@require_POST
def buy(request):
    """Pay for the licences and become the admin: one step, or nothing at all."""
    claim = _own_claim(request)
    if claim is None or not claim.is_verified:
        return redirect("wizard:domain")
    form = PurchaseForm(request.POST)
    if not form.is_valid():
        return _purchase_page(
            request, claim=claim, notice=_("The purchase form was incomplete."), status=400
        )
    try:
        purchase = purchase_seats(
            buyer=request.user,
            purchase_id=form.cleaned_data["purchase"],
            plan_key=form.cleaned_data["plan"],
            confirmed_seats=form.cleaned_data["seats"],
            setup_intent_id=form.cleaned_data["setup_intent"],
            # Every member's Getting started, written in the purchase's own transaction.
            on_managed=partial(welcome_members, base_url=request.build_absolute_uri("/")),
        )
    except PaymentError as error:
        count_purchase(outcome="requires_action" if error.client_secret else "failed")
        authenticate = (
            {**form.cleaned_data, "client_secret": error.client_secret}
            if error.client_secret
            else None
        )
        return _purchase_page(
            request, claim=claim, notice=error.message, authenticate=authenticate, status=400
        )
    except (LicensingError, DomainsError) as error:
        count_purchase(outcome="refused")
        return _purchase_page(request, claim=claim, notice=error.message, status=400)
    count_purchase(outcome=purchase.state)
    if purchase.state == purchase.State.NEEDS_CONFIRMATION:
        # The card is confirmed already: only the new total needs the buyer's yes.
        plan = plan_by_key(purchase.plan)
        confirm = {
            "purchase": purchase,
            "plan": plan,
            "total": from_cents(plan.total(purchase.seats)),
            "shown": form.cleaned_data["seats"],
            "setup_intent": form.cleaned_data["setup_intent"],
        }
        return _purchase_page(request, claim=claim, confirm=confirm, status=409)
    return redirect("wizard:done")


@login_required
@require_GET
def done(request):
    """The end of the wizard: what was bought, and where the admin goes next."""
    membership = request.membership
    if membership is None or not membership.is_admin:
        return redirect("wizard:start")
    subscription = paid_subscription(request.tenant)
    return render(
        request,
        "wizard/done.html",
        _wizard_context(
            request,
            step=5,
            subscription=subscription,
            plan=subscription.plan_details,
            total=from_cents(subscription.plan_details.total(subscription.quantity)),
            # Admins need a second factor before the admin centre opens (portal.access).
            needs_second_factor=not has_second_factor(request.user),
        ),
    )


@login_required
@require_GET
def getting_started(request):
    """What changed for a member when their organisation became managed."""
    membership = request.membership
    if membership is None or not membership.tenant.is_managed:
        return redirect("tenancy:home")
    facts = selectors.getting_started(request.tenant, user=request.user)
    return render(request, "wizard/getting_started.html", {"facts": facts})


@login_required
@require_POST
def dismiss_getting_started(request):
    """Close the home page's Getting started card for good."""
    if request.membership is not None:
        dismiss_welcome(tenant=request.tenant, user=request.user)
    return redirect("tenancy:home")
