"""The project's pages plus two that fail, for the tests of core.middleware."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from core.errors import QuorumError
from core.middleware import refusals_go_back_to


def refused(request):
    raise QuorumError("Only 3 people fit in this <meeting>.")


@refusals_go_back_to("refused")
def refused_from_a_page(request):
    raise QuorumError("Only 3 people fit in this <meeting>.")


def broken(request):
    raise ValueError("a programming error")


urlpatterns = [
    path("refused/", refused, name="refused"),
    path("refused-from-a-page/", refused_from_a_page),
    path("broken/", broken, name="broken"),
    *project_urlpatterns,
]
