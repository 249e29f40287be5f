"""Who may use the admin centre: admins of a managed tenant, acting on that tenant only."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def admin_required(view):
    """403 for anyone but an admin of a managed tenant. Views run in the request's tenant scope
    (core.scoping), so another tenant's rows are never found (404)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        membership = request.membership
        if membership is None or not membership.is_admin or not membership.tenant.is_managed:
            raise PermissionDenied(
                "Only admins of a managed organisation may use the admin centre."
            )
        return view(request, *args, **kwargs)

    return wrapped
