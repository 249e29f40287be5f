from django.contrib import admin

from core.admin import SupportAdmin

from .models import AuditEvent, Tenant


@admin.register(Tenant)
class TenantAdmin(SupportAdmin):
    list_display = ["domain", "state", "signup_mode", "two_factor_required", "created_at"]
    list_filter = ["state", "signup_mode", "two_factor_required"]
    search_fields = ["domain"]
    date_hierarchy = "created_at"


@admin.register(AuditEvent)
class AuditEventAdmin(SupportAdmin):
    list_display = ["created_at", "tenant", "action", "actor", "actor_label", "target"]
    list_filter = ["action"]
    search_fields = ["tenant__domain", "action", "target", "actor__email", "actor_label"]
    list_select_related = ["tenant", "actor"]
    date_hierarchy = "created_at"
