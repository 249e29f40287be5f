from django.urls import path

from .views import billing, dashboard

app_name = "portal"

# Every page here is for admins of a managed tenant only (portal.access.admin_required);
# tests/portal/test_access.py walks this list, so a new page is covered automatically.
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("licences/", billing.licences, name="licences"),
    path("subscription/", billing.subscription, name="subscription"),
]
