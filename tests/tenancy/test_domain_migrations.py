"""The migrations to several domains per tenant keep every existing tenant as it was: its domain
becomes its primary one (verified, with its proof's code, when the tenant is managed), and each
claim names its tenant's domain."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from domains.models import DomainClaim
from domains.services import daily_slot
from tenancy.models import TenantDomain
from tenancy.selectors import tenant_for_domain

BEFORE = [
    ("tenancy", "0008_merge_actor_label_and_two_factor"),
    ("domains", "0003_claims_expire_unused"),
]


@pytest.mark.django_db(transaction=True)
def test_existing_tenants_keep_their_domain_as_their_primary_one():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Tenant, User = old.get_model("tenancy", "Tenant"), old.get_model("tenancy", "User")
    Claim = old.get_model("domains", "DomainClaim")
    now = timezone.now()
    managed = Tenant.objects.create(domain="contoso.com", state="managed", created_at=now)
    free = Tenant.objects.create(domain="fabrikam.com", state="unmanaged", created_at=now)
    rob = User.objects.create(email="rob@contoso.com", name="Rob", password="!")
    fay = User.objects.create(email="fay@fabrikam.com", name="Fay", password="!")
    used = Claim.objects.create(
        tenant=managed,
        claimant=rob,
        token="the-code",
        status="used",
        verified_at=now - timedelta(days=30),
        closed_at=now - timedelta(days=29),
        expires_at=now,
    )
    pending = Claim.objects.create(tenant=free, claimant=fay, token="other", expires_at=now)

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    contoso = TenantDomain.objects.unscoped().get(domain="contoso.com")
    assert (contoso.tenant_id, contoso.is_primary, contoso.status) == (managed.pk, True, "verified")
    assert (contoso.token, contoso.verified_at) == ("the-code", used.verified_at)
    assert contoso.next_check_at > now
    midnight = contoso.next_check_at.replace(hour=0, minute=0, second=0, microsecond=0)
    assert (contoso.next_check_at - midnight).seconds == daily_slot(contoso.pk)
    fabrikam = TenantDomain.objects.unscoped().get(domain="fabrikam.com")
    assert (fabrikam.tenant_id, fabrikam.is_primary, fabrikam.status) == (
        free.pk,
        True,
        "unverified",
    )
    assert tenant_for_domain("fabrikam.com").pk == free.pk
    assert tenant_for_domain("eu.contoso.com").pk == managed.pk
    claims = dict(DomainClaim.objects.unscoped().values_list("pk", "domain"))
    assert claims == {used.pk: "contoso.com", pending.pk: "fabrikam.com"}
