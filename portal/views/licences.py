"""The licences page: how many are bought and assigned, and buying more or fewer."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from licensing.exceptions import LicensingError
from licensing.selectors import licence_counts, licence_holders, live_subscription
from licensing.services import seats
from portal.access import admin_required, recent_authentication_required
from portal.forms import SeatCountForm

HOLDERS_LISTED = 50


@admin_required
@recent_authentication_required
@require_http_methods(["GET", "POST"])
def licences(request):
    form, status = None, 200
    if request.method == "POST":
        form = SeatCountForm(request.POST)
        quantity = form.cleaned_data["quantity"] if form.is_valid() else None
        if quantity:
            try:
                seats.change_seat_count(
                    tenant=request.tenant, actor=request.user, quantity=quantity
                )
            except LicensingError as error:  # shown on the page with the number asked for
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("Your organisation now has %(n)d licences.") % {"n": quantity}
                )
                return redirect("portal:licences")
        status = 400
    subscription = live_subscription(request.tenant)  # read after the change, if any
    if form is None:
        form = SeatCountForm(initial={"quantity": subscription.quantity})
    context = {
        "portal_section": "licences",
        "subscription": subscription,
        "plan": subscription.plan_details,
        "counts": licence_counts(subscription),
        "form": form,
        "holders": licence_holders(subscription, limit=HOLDERS_LISTED),
    }
    return render(request, "portal/licences.html", context, status=status)
