"""The upgrade wizard's pages. They own no business rules: each one calls the domains app."""

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
            is_admin=request.membership is not None and request.membership.is_admin,
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


@login_required
@require_GET
def licences(request):
    """Step 4, until the licensing app provides it: the domain is confirmed, buying comes next."""
    claim = _own_claim(request)
    if claim is None or not claim.is_verified:
        return redirect("wizard:domain")
    return render(request, "wizard/licences.html", _wizard_context(request, step=4, claim=claim))
