"""Two of allauth's pages taken over (included before allauth's own under accounts/): the
sign-in page, whose first step is the address, and the SAML answer page."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.login),
    path("saml/<str:organization_slug>/acs/finish/", views.saml_answer),
]
