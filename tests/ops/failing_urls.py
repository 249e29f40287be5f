"""The project's URLs and one view that fails, for the Sentry test (tests/ops/test_errors.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

FAILURE = "A view failed on purpose (tests/ops/test_errors.py)"


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(FAILURE)


urlpatterns = [*project_urlpatterns, path("failing", failing_view)]
