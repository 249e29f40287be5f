"""Scoping a service to the tenant of the person it acts for (see core.scoping)."""

from collections.abc import Callable
from functools import wraps

from core.errors import QuorumError
from core.scoping import tenant_scope

from .models import User
from .selectors import tenant_of


def in_tenant_of[**P, R](
    argument: str, *, refusal: type[QuorumError]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a service in the scope of the tenant of its keyword `argument` (a user); a user
    with no tenant gets `refusal` (an error with a class-level message) instead."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
            user: User = kwargs[argument]  # type: ignore[assignment]
            tenant = tenant_of(user)
            if tenant is None:
                raise refusal
            with tenant_scope(tenant):
                return function(*args, **kwargs)

        return scoped

    return decorate
