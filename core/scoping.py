"""Tenant isolation that fails closed, in the manner of PostHog's TeamScopedManager.

Every tenant-owned model's default manager filters by the tenant of the current scope. The
request middleware opens the scope for the signed-in person's tenant; services, tasks and
commands open it with `tenant_scope()`. A query with no scope open raises `TenantScopeMissing`
instead of reading every tenant's rows. The few reads that must cross tenants (finding the
tenant of a user, webhooks, beat sweeps, benchmarks) say so with `.unscoped()`, so that
`grep -rn "unscoped()"` lists every exception."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.db import models

_current_tenant_id: ContextVar[int | None] = ContextVar("quorum_tenant_id", default=None)


class TenantScopeMissing(RuntimeError):
    """A tenant-owned model was queried with no tenant in scope: a programming error."""


def current_tenant_id() -> int | None:
    """The id of the tenant whose rows the scoped managers return now (None: no scope)."""
    return _current_tenant_id.get()


@contextmanager
def tenant_scope(tenant: models.Model | int | None) -> Iterator[None]:
    """Scope every tenant-owned query inside the block to `tenant` (a Tenant or its id).

    None closes the scope: inside, scoped queries raise. Scopes nest; leaving restores the
    outer one."""
    tenant_id = tenant.pk if isinstance(tenant, models.Model) else tenant
    token = _current_tenant_id.set(tenant_id)
    try:
        yield
    finally:
        _current_tenant_id.reset(token)


def in_tenant_scope[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Run a service or selector in the scope of its `tenant` argument (by keyword, or first)."""

    @wraps(function)
    def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
        tenant = kwargs["tenant"] if "tenant" in kwargs else args[0]
        with tenant_scope(tenant):  # type: ignore[arg-type]
            return function(*args, **kwargs)

    return scoped


def in_scope_of[**P, R](argument: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a service in the scope of the tenant that owns its keyword `argument` (a row with a
    `tenant_id`, e.g. the meeting behind a link that a visitor of any tenant may open)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
            with tenant_scope(kwargs[argument].tenant_id):  # type: ignore[attr-defined]
                return function(*args, **kwargs)

        return scoped

    return decorate


class TenantScopedManager[M: models.Model](models.Manager[M]):
    """Default manager of a model with a `tenant` foreign key: only the scope's tenant's rows."""

    def get_queryset(self) -> models.QuerySet[M]:
        return super().get_queryset().filter(tenant_id=self._scope())

    # A new row needs a scope too, but not the filter that only reads use: building it is some
    # 40 µs of Python, five times for each person an identity provider provisions.
    def create(self, **kwargs: Any) -> M:
        self._scope()
        return super().get_queryset().create(**kwargs)

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        self._scope()
        return super().get_queryset().bulk_create(objs, *args, **kwargs)

    def _scope(self) -> int:
        tenant_id = _current_tenant_id.get()
        if tenant_id is None:
            raise TenantScopeMissing(
                f"{self.model.__name__} was queried with no tenant in scope: open one with "
                "core.scoping.tenant_scope(), or cross tenants explicitly with .unscoped()."
            )
        return tenant_id

    def unscoped(self) -> models.QuerySet[M]:
        """Every tenant's rows: say why at each call site."""
        queryset = super().get_queryset()
        # A related manager (tenant.memberships) keeps its own filter.
        apply_relation: Callable[[models.QuerySet[M]], models.QuerySet[M]] | None = getattr(
            self, "_apply_rel_filters", None
        )
        return apply_relation(queryset) if apply_relation else queryset
