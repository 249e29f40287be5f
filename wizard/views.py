"""The upgrade wizard's pages. They own no business rules: they call domains and licensing."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from domains import selectors as claims
from domains import services as claim_services
from domains.exceptions import DomainsError, ManagedTenantError
from licensing import services as purchase_services
from licensing.exceptions import LicensingError
from licensing.gateway import card_form_csp
from licensing.models import PLAN_CHOICES
from licensing.plans import plan_by_key, plans_for_entry
from licensing.selectors import live_subscription, seat_holders

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


def _claim_context(request, claim, **extra):
    others = [other for other in claims.claims_of_tenant(claim.tenant) if other.pk != claim.pk]
    return _wizard_context(
        request,
        step=4 if claim.is_verified else 3,
        claim=claim,
        others=others,
        seen=claims.seen_records_explained(claim),
        admins=claims.tenant_admins(claim.tenant),
        dev_dns=settings.DEBUG,
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
    refusal = admins = None
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
    return render(request, "wizard/_claim_status.html", _claim_context(request, claim))


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
            request, "wizard/_claim_status.html", _claim_context(request, claim, notice=notice)
        )
    if notice:
        messages.warning(request, notice)
    return redirect("wizard:domain")


SEATS_LISTED = 50


class PurchaseForm(forms.Form):
    purchase = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    seats = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    setup_intent = forms.CharField(max_length=255, widget=forms.HiddenInput)
    plan = forms.ChoiceField(choices=PLAN_CHOICES, widget=forms.RadioSelect)


def _purchase_page(request, *, claim, purchase=None, notice=None, confirm=None, status=200):
    """Step 4: the seats (every verified member), the plan choice, the card form from Stripe.js.

    Each showing opens (or resumes) the purchase attempt with a fresh SetupIntent."""
    try:
        purchase, client_secret = purchase_services.start_purchase(
            buyer=request.user, entry=request.session.get(ENTRY_SESSION_KEY, "admin")
        )
    except LicensingError as error:
        messages.error(request, error.message)
        return redirect("wizard:start")
    holders = seat_holders(request.tenant)
    plans = [
        {"plan": plan, "price": plan.amount / 100, "total": plan.total(purchase.seats) / 100}
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
            stripe_js_url=settings.STRIPE_JS_URL,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        ),
        status=status,
    )
    response._csp_config = card_form_csp()
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
        purchase = purchase_services.purchase_seats(
            buyer=request.user,
            purchase_id=form.cleaned_data["purchase"],
            plan_key=form.cleaned_data["plan"],
            confirmed_seats=form.cleaned_data["seats"],
            setup_intent_id=form.cleaned_data["setup_intent"],
        )
    except (LicensingError, DomainsError) as error:
        return _purchase_page(request, claim=claim, notice=error.message, status=400)
    if purchase.state == purchase.State.NEEDS_CONFIRMATION:
        # The card is confirmed already: only the new total needs the buyer's yes.
        plan = plan_by_key(purchase.plan)
        confirm = {
            "purchase": purchase,
            "plan": plan,
            "total": plan.total(purchase.seats) / 100,
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
    subscription = live_subscription(request.tenant)
    return render(
        request,
        "wizard/done.html",
        _wizard_context(
            request,
            step=5,
            subscription=subscription,
            plan=subscription.plan_details,
            total=subscription.plan_details.total(subscription.quantity) / 100,
        ),
    )
