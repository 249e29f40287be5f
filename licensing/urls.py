from django.urls import path

from .views import stripe_webhook

app_name = "licensing"

# Included under /stripe/ by config: Stripe and localstripe are registered with /stripe/webhook/.
urlpatterns = [path("webhook/", stripe_webhook, name="stripe_webhook")]
