from django.urls import path

from . import views

app_name = "wizard"

urlpatterns = [
    path("", views.start, name="start"),
    path("domain/", views.domain, name="domain"),
    path("domain/claim/", views.claim, name="claim"),
    path("domain/status/", views.domain_status, name="domain_status"),
    path("domain/record-added/", views.record_added, name="record_added"),
    path("domain/check/", views.check_now, name="check_now"),
    path("licences/", views.licences, name="licences"),
    path("licences/buy/", views.buy, name="buy"),
    path("done/", views.done, name="done"),
    path("getting-started/", views.getting_started, name="getting_started"),
    path(
        "getting-started/dismiss/",
        views.dismiss_getting_started,
        name="dismiss_getting_started",
    ),
]
