from django.urls import path

from .views import activity, billing, dashboard, domains, people, rules

app_name = "portal"

# Every page here is for admins of a managed tenant only (portal.access.admin_required);
# tests/portal/test_access.py walks this list, so a new page is covered automatically.
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("users/", people.users, name="users"),
    path("users/export.csv", people.users_csv, name="users_csv"),
    path("users/invite/", people.invite, name="invite"),
    path("users/<int:pk>/password-reset/", people.password_reset, name="password_reset"),
    path("users/<int:pk>/join/<str:decision>/", people.join_request, name="join_request"),
    path("users/<int:pk>/<str:action>/", people.user_action, name="user_action"),
    path("licences/", billing.licences, name="licences"),
    path("subscription/", billing.subscription, name="subscription"),
    path("policies/", rules.policies, name="policies"),
    path("announcements/new/", activity.announce, name="announce"),
    path("announcements/<int:pk>/", activity.announcement, name="announcement"),
    path("audit/", activity.audit, name="audit"),
    path("domains/", domains.domains, name="domains"),
    path("domains/add/", domains.add_domain, name="add_domain"),
    path("domains/<int:pk>/remove/", domains.remove_domain, name="remove_domain"),
    path("domains/proofs/<int:pk>/", domains.domain_claim, name="domain_claim"),
    path("domains/proofs/<int:pk>/status/", domains.domain_claim_status, name="claim_status"),
    path("domains/proofs/<int:pk>/check/", domains.check_domain_claim, name="check_claim"),
]
