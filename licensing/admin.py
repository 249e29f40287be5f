from django.contrib import admin

from core.admin import SupportAdmin

from .models import Purchase, StripeEvent, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(SupportAdmin):
    list_display = ["tenant", "plan", "quantity", "status", "current_period_end", "created_at"]
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["tenant__domain", "stripe_subscription_id", "stripe_customer_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"


@admin.register(Purchase)
class PurchaseAdmin(SupportAdmin):
    list_display = ["created_at", "tenant", "buyer", "plan", "seats", "state"]
    list_filter = ["state", "plan", "entry"]
    search_fields = ["tenant__domain", "buyer__email", "stripe_subscription_id"]
    list_select_related = ["tenant", "buyer"]
    date_hierarchy = "created_at"


@admin.register(StripeEvent)
class StripeEventAdmin(SupportAdmin):
    list_display = ["received_at", "type", "stripe_event_id", "tenant"]
    list_filter = ["type"]
    search_fields = ["stripe_event_id", "type", "tenant__domain"]
    list_select_related = ["tenant"]
    date_hierarchy = "received_at"
