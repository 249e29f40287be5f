from django.contrib import admin

from core.admin import SupportAdmin

from .models import DomainClaim


@admin.register(DomainClaim)
class DomainClaimAdmin(SupportAdmin):
    list_display = ["tenant", "claimant", "status", "last_outcome", "attempts", "created_at"]
    list_filter = ["status", "last_outcome"]
    search_fields = ["tenant__domain", "claimant__email", "token"]
    list_select_related = ["tenant", "claimant"]
    date_hierarchy = "created_at"
