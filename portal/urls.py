from django.urls import path

from .views import (
    announcements,
    audit,
    dashboard,
    licences,
    policies,
    provisioning,
    sso,
    subscription,
    support,
    users,
)

app_name = "portal"

# Every page here is for admins of a managed tenant only (portal.access.admin_required);
# tests/portal/test_access.py walks this list, so a new page is covered automatically.
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("users/", users.users, name="users"),
    path("users/export.csv", users.users_csv, name="users_csv"),
    path("users/invite/", users.invite, name="invite"),
    path("users/<int:pk>/password-reset/", users.password_reset, name="password_reset"),
    path("users/<int:pk>/join/<str:decision>/", users.join_request, name="join_request"),
    path("users/<int:pk>/<str:action>/", users.user_action, name="user_action"),
    path("licences/", licences.licences, name="licences"),
    path("subscription/", subscription.subscription, name="subscription"),
    path("policies/", policies.policies, name="policies"),
    path("announcements/new/", announcements.announce, name="announce"),
    path("announcements/<int:pk>/", announcements.announcement, name="announcement"),
    path("audit/", audit.audit, name="audit"),
    path("provisioning/", provisioning.provisioning, name="provisioning"),
    path("provisioning/tokens/", provisioning.create_token, name="create_token"),
    path("provisioning/tokens/<int:pk>/revoke/", provisioning.revoke_token, name="revoke_token"),
    path("sso/", sso.sso, name="sso"),
    path("sso/test/", sso.sso_test, name="sso_test"),
    path("sso/enforce/", sso.sso_enforce, name="sso_enforce"),
    path("support/", support.support, name="support"),
    path("support/<int:pk>/", support.support_request, name="support_request"),
]
