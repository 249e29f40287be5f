"""Licences and subscription pages: reads from licensing, writes through licensing.services."""

from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from licensing.exceptions import LicensingError, PaymentError
from licensing.gateway import card_form_csp
from licensing.plans import ENTRY_PLANS, plan_by_key
from licensing.selectors import invoices_of, licence_counts, live_subscription
from licensing.services import seats
from portal.access import admin_required


class SeatCountForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("Number of licences"), min_value=1, max_value=seats.MAX_SEATS
    )


class PlanForm(forms.Form):
    plan = forms.ChoiceField(
        label=_("Plan"),
        choices=[(key, plan_by_key(key).name) for key in ENTRY_PLANS["meetings"]],
        widget=forms.RadioSelect,
    )


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
@require_http_methods(["GET", "POST"])
def licences(request):
    subscription = live_subscription(request.tenant)
    form = SeatCountForm(request.POST or None, initial={"quantity": subscription.quantity})
    status, payment_secret = 200, None
    if request.method == "POST" and request.POST.get("action") == "settle":
        # Back from the bank's authentication of the payment for added licences.
        if _act(request, seats.settle_seat_change):
            messages.success(request, _("The payment went through: the licences are yours."))
        return redirect("portal:licences")
    if request.method == "POST":
        quantity = form.cleaned_data["quantity"] if form.is_valid() else None
        try:
            if quantity and _act(request, seats.change_seat_count, quantity=quantity):
                messages.success(
                    request, _("Your organisation now has %(n)d licences.") % {"n": quantity}
                )
                return redirect("portal:licences")
        except PaymentError as error:  # the bank asks to authenticate the payment first
            messages.warning(request, error.message)
            payment_secret = error.client_secret
        status = 400
    subscription.refresh_from_db()
    context = {
        "portal_section": "licences",
        "subscription": subscription,
        "plan": subscription.plan_details,
        "counts": licence_counts(subscription),
        "form": form,
        "holders": subscription.licences.select_related("user").order_by("user__name")[:50],
        "payment_secret": payment_secret,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    response = render(request, "portal/licences.html", context, status=status)
    if payment_secret:
        response._csp_config = card_form_csp()
    return response


@admin_required
@require_http_methods(["GET", "POST"])
def subscription(request):
    current = live_subscription(request.tenant)
    plan_form = PlanForm(initial={"plan": current.plan})
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
    current.refresh_from_db()
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
                "amount": (invoice.get("amount_paid") or invoice.get("amount_due") or 0) / 100,
                "currency": invoice.get("currency", "").upper(),
                "status": invoice.get("status"),
            }
            for invoice in invoices_of(subscription)
        ]
    except PaymentError:  # an unreachable Stripe must not break the page
        messages.warning(request, _("Invoices cannot be shown right now; try again later."))
        return []
