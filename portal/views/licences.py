"""The licences page: how many are bought and assigned, and buying more or fewer. Added
licences are paid before they are used; a payment the bank must authenticate runs Stripe.js
here, then comes back to settle."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from licensing.exceptions import LicensingError, PaymentError
from licensing.gateway import card_form_csp
from licensing.selectors import licence_counts, licence_holders, paid_subscription
from licensing.services import seats
from portal.access import admin_required, recent_authentication_required
from portal.forms import SeatCountForm

HOLDERS_LISTED = 50


@admin_required
@recent_authentication_required
@require_http_methods(["GET", "POST"])
def licences(request):
    form, status, payment_secret = None, 200, None
    if request.method == "POST" and request.POST.get("action") == "settle":
        # Back from the bank's authentication of the payment for added licences.
        try:
            seats.settle_seat_change(tenant=request.tenant, actor=request.user)
        except LicensingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The payment went through: the licences are yours."))
        return redirect("portal:licences")
    if request.method == "POST":
        form = SeatCountForm(request.POST)
        quantity = form.cleaned_data["quantity"] if form.is_valid() else None
        if quantity:
            try:
                seats.change_seat_count(
                    tenant=request.tenant, actor=request.user, quantity=quantity
                )
            except PaymentError as error:
                if error.client_secret:  # the bank asks to authenticate the payment first
                    messages.warning(request, error.message)
                    payment_secret = error.client_secret
                else:
                    messages.error(request, error.message)
            except LicensingError as error:  # shown on the page with the number asked for
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("Your organisation now has %(n)d licences.") % {"n": quantity}
                )
                return redirect("portal:licences")
        status = 400
    subscription = paid_subscription(request.tenant)  # read after the change, if any
    if form is None:
        form = SeatCountForm(initial={"quantity": subscription.quantity})
    context = {
        "portal_section": "licences",
        "subscription": subscription,
        "plan": subscription.plan_details,
        "counts": licence_counts(subscription),
        "form": form,
        "holders": licence_holders(subscription, limit=HOLDERS_LISTED),
        "payment_secret": payment_secret,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    response = render(request, "portal/licences.html", context, status=status)
    if payment_secret:
        response._csp_config = card_form_csp()  # type: ignore[attr-defined]
    return response
