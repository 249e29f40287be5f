"""The support side of Help & support, in Django's admin: staff read every tenant's requests,
change their status and reply. Each change goes through portal.services (audited in the
tenant's log; a reply is mailed to the admin who opened the request)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from .models import SupportReply, SupportRequest
from .services import add_support_reply, set_support_request_status


class SupportReplyInline(admin.StackedInline):
    """Earlier replies read only; one empty form for the staff's answer."""

    model = SupportReply
    fields = ("body", "from_support", "author", "created_at")
    readonly_fields = ("from_support", "author", "created_at")
    extra = 1
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupportReply]:
        # Staff answer every tenant: the support side crosses tenants on purpose.
        return SupportReply.objects.unscoped().select_related("author")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a reply sent (and mailed) is not edited afterwards

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "body":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 6})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    list_display = ("subject", "tenant", "severity", "status", "created_at")
    list_filter = ("status", "severity")
    search_fields = ("subject", "tenant__domain", "opened_by__email")
    fields = ("tenant", "opened_by", "subject", "description", "severity", "created_at", "status")
    readonly_fields = ("tenant", "opened_by", "subject", "description", "severity", "created_at")
    inlines = [SupportReplyInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupportRequest]:
        # Staff answer every tenant: the support side crosses tenants on purpose.
        return SupportRequest.objects.unscoped().select_related("tenant", "opened_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an admin opens a request from the admin centre

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the tenant's record of its requests stays whole

    def save_model(
        self, request: HttpRequest, obj: SupportRequest, form: ModelForm, change: bool
    ) -> None:
        if "status" in form.changed_data:
            set_support_request_status(
                support_request=obj,
                actor=request.user,  # type: ignore[arg-type]
                status=obj.status,
            )

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        for reply in formset.save(commit=False):
            add_support_reply(
                support_request=form.instance,
                author=request.user,  # type: ignore[arg-type]
                body=reply.body,
                from_support=True,
                base_url=request.build_absolute_uri("/"),
            )
