"""Who may use the admin centre: admins of a managed tenant, signed in with a second factor,
acting on that tenant only; and the recent proof of identity that sensitive actions ask for."""

from collections.abc import Callable
from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from tenancy.models import Membership, Tenant, User
from tenancy.selectors import has_second_factor


class AdminRequest(HttpRequest):
    """For type checking only: the request an `admin_required` view gets, with the admin, their
    membership and their managed tenant (set by tenancy.middleware)."""

    user: User  # signed in: never AnonymousUser here
    membership: Membership
    tenant: Tenant


def admin_required(view):
    """403 for anyone but an admin of a managed tenant. An admin without a second factor
    (authenticator app, passkey or security key) is sent to set one up first: no admin-centre
    page opens, and nothing is changed, before that. Views run in the request's tenant scope
    (core.scoping), so another tenant's rows are never found (404)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        membership = request.membership
        if membership is None or not membership.is_admin or not membership.tenant.is_managed:
            raise PermissionDenied(
                "Only admins of a managed organisation may use the admin centre."
            )
        if not has_second_factor(request.user):
            messages.warning(
                request,
                _(
                    "Admins sign in with a second factor. Set up an authenticator app or a "
                    "passkey to open the admin centre."
                ),
            )
            return redirect("mfa_index")
        return view(request, *args, **kwargs)

    return wrapped


def recent_authentication_required(view=None, *, when: Callable[[HttpRequest], bool] | None = None):
    """Ask for the password or a second factor again before a sensitive change, when the last
    time the person proved who they are (allauth's reauthentication) is older than
    ACCOUNT_REAUTHENTICATION_TIMEOUT. It is allauth's `reauthentication_required`:

    - GET requests pass: the page shows as usual; the change (POST) is what asks.
    - The POST is kept; the person goes to allauth's re-authentication page (password, or
      authenticator code, or passkey) and, once it succeeds, the kept POST runs: nothing is
      typed twice. Within the window, later changes go through without asking.
    - `when(request)`, if given, limits it to some requests of the view (e.g. some actions).

    Use it below `admin_required` (or `login_required`), e.g. on the SCIM token page:

        @admin_required
        @recent_authentication_required
        def tokens(request): ...
    """
    decorator = reauthentication_required(allow_get=True, enabled=when)
    return decorator(view) if view is not None else decorator
