"""Tenant isolation in one place: every tenant-owned row is read through `for_tenant`."""

from django.db import models


class TenantScopedQuerySet(models.QuerySet):
    """QuerySet of a model with a `tenant` foreign key.

    Views of the admin portal read only through `for_tenant(request.tenant)`; a row of another
    tenant is then simply not found (404), never shown.
    """

    tenant_field = "tenant"

    def for_tenant(self, tenant):
        return self.filter(**{self.tenant_field: tenant})
