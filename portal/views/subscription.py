"""The subscription page: plan, cancellation and invoices, written through the seat services."""

from datetime import UTC, datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from core.money import from_cents
from licensing.exceptions import LicensingError, PaymentError
from licensing.models import InvoiceStatus
from licensing.selectors import invoices_of, paid_subscription
from licensing.services import seats
from portal.access import admin_required, recent_authentication_required
from portal.forms import PlanForm


def _act(request, action, **kwargs):
    """Run one licensing service; its refusal becomes a message, never a 500. A payment the
    bank must authenticate first is left to the caller (PaymentError with its client secret)."""
    try:
        action(tenant=request.tenant, actor=request.user, **kwargs)
    except PaymentError as error:
        if error.client_secret:
            raise
        messages.error(request, error.message)
        return False
    except LicensingError as error:
        messages.error(request, error.message)
        return False
    return True


@admin_required
@recent_authentication_required
@require_http_methods(["GET", "POST"])
def subscription(request):
    plan_form = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "change_plan":
            plan_form = PlanForm(request.POST)
            if plan_form.is_valid() and _act(
                request, seats.change_plan, plan_key=plan_form.cleaned_data["plan"]
            ):
                messages.success(request, _("Your plan was changed."))
                return redirect("portal:subscription")
        elif action in ("cancel", "undo_cancel"):
            if _act(request, seats.set_cancel_at_period_end, cancel=action == "cancel"):
                messages.success(
                    request,
                    _("Your subscription will end at the end of the paid period.")
                    if action == "cancel"
                    else _("Your subscription will go on."),
                )
                return redirect("portal:subscription")
        else:
            messages.error(request, _("Unknown action."))
    current = paid_subscription(request.tenant)  # read after the change, if any
    if plan_form is None:
        plan_form = PlanForm(initial={"plan": current.plan})
    context = {
        "portal_section": "subscription",
        "subscription": current,
        "plan": current.plan_details,
        "plan_form": plan_form,
        "invoices": _invoices(request, current),
    }
    return render(request, "portal/subscription.html", context)


def _invoices(request, subscription):
    try:
        return [
            {
                "id": invoice["id"],
                "number": invoice.get("number") or invoice["id"],
                "created": datetime.fromtimestamp(invoice["created"], tz=UTC),
                "amount": from_cents(invoice.get("amount_paid") or invoice.get("amount_due")),
                "currency": invoice.get("currency", "").upper(),
                "status": _invoice_status(invoice.get("status")),
            }
            for invoice in invoices_of(subscription)
        ]
    except PaymentError:  # an unreachable Stripe must not break the page
        messages.warning(request, _("Invoices cannot be shown right now; try again later."))
        return []


def _invoice_status(status: str | None) -> str:
    """Stripe's status in the person's words; one Stripe added after this list shows as is."""
    return str(InvoiceStatus(status).label) if status in InvoiceStatus.values else status or ""
