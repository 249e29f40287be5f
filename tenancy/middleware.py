from .selectors import membership_of


class TenantMiddleware:
    """Sets `request.membership` and `request.tenant` (None for users without a tenant).

    This is the only place that decides which tenant a request acts for.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = membership_of(request.user)
        request.tenant = request.membership.tenant if request.membership else None
        return self.get_response(request)
