"""Django's admin (`/django-admin/`) as support staff's site. Staff see every tenant, so they
sign in as everyone does, through allauth (its rate limits, its second factor), and like a
tenant's admins they need a second factor: a staff member without one is sent to set one up,
and no page of the site opens before that."""

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .models import User
from .selectors import has_second_factor


def _staff_without_second_factor(request: HttpRequest) -> bool:
    user = request.user
    return (
        isinstance(user, User) and user.is_active and user.is_staff and not has_second_factor(user)
    )


class StaffAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not _staff_without_second_factor(request)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """No login form of its own: allauth's sign-in, for signed-in staff with a second factor."""
        if _staff_without_second_factor(request):
            messages.warning(
                request,
                _(
                    "Support staff sign in with a second factor. Set up an authenticator app or "
                    "a passkey to open Django's admin."
                ),
            )
            return redirect("mfa_index")
        return secure_admin_login(super().login)(request, extra_context)
