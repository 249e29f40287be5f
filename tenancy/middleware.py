from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from core.scoping import tenant_scope

from .selectors import membership_of


class TenantMiddleware:
    """Sets `request.membership` and `request.tenant` (None for users without a tenant) and
    opens the tenant scope (core.scoping) for the whole request, a streamed body included.

    This is the only place that decides which tenant a request acts for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = membership_of(request.user)  # type: ignore[attr-defined]
        tenant = request.membership.tenant if request.membership else None  # type: ignore[attr-defined]
        request.tenant = tenant  # type: ignore[attr-defined]
        with tenant_scope(tenant):
            response = self.get_response(request)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _in_scope(tenant, response.streaming_content)
        return response


def _in_scope(tenant: object, chunks: Iterator[bytes]) -> Iterator[bytes]:
    # A streamed body (the CSV export) is read after the view returned: keep its scope.
    with tenant_scope(tenant):  # type: ignore[arg-type]
        yield from chunks
