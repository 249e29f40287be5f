"""Django's admin as support staff's read-only window on every tenant (`/django-admin/`).

Staff sign in through allauth like everyone, with a second factor (tenancy.staff: the admin's
own login page sends them there). What they see cannot be changed here: every write goes
through a service, with its rules and its audit event."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.scoping import TenantScopedManager


# ModelAdmin is generic for django-stubs only (no run-time subscript without django_stubs_ext).
class SupportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A read-only, searchable list and detail page of one model, for staff users only."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        manager = self.model._default_manager
        # Support looks across every tenant on purpose: a tenant-owned model's manager refuses
        # to answer without a tenant in scope, so the admin crosses tenants explicitly.
        queryset = manager.unscoped() if isinstance(manager, TenantScopedManager) else manager.all()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)
