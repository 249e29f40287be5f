"""Merging an unmanaged tenant into a managed one is one transaction whose query count does not
depend on the number of members (`make bench` times it at 100,000: bench/merge.py)."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.seed import seed_tenant
from domains import services
from domains.models import DomainClaim, MergeNotice
from domains.signals import members_merged
from licensing.models import Licence
from licensing.services.seats import change_seat_count
from tenancy.models import Membership, Tenant
from tests.fixtures.purchases import managed_tenant


def verified_domain_claim(admin, domain):
    """An admin's claim of another domain whose DNS check succeeded (tests/domains prove it)."""
    now = timezone.now()
    return DomainClaim.objects.unscoped().create(
        tenant=admin.membership.tenant,
        claimant=admin,
        domain=domain,
        purpose=DomainClaim.Purpose.ADD_DOMAIN,
        status=DomainClaim.Status.VERIFIED,
        verified_at=now,
        expires_at=now + timedelta(days=7),
    )


def merge_counting_queries(admin, domain, members):
    seed_tenant(domain, members)
    claim = verified_domain_claim(admin, domain)
    with CaptureQueriesContext(connection) as queries:
        merged = services.attach_domain(claim=claim)
    assert merged.status == DomainClaim.Status.USED
    return len(queries)


@pytest.mark.django_db
def test_a_merge_makes_the_same_number_of_queries_at_10_and_1000_members(localstripe):
    rob, _people, _subscription = managed_tenant(localstripe, "contoso.com")
    change_seat_count(tenant=rob.membership.tenant, actor=rob, quantity=2 + 1010)

    small = merge_counting_queries(rob, "small.example", 10)
    large = merge_counting_queries(rob, "large.example", 1000)

    assert small == large
    contoso = rob.membership.tenant
    assert Membership.objects.unscoped().filter(tenant=contoso).count() == 2 + 10 + 1000
    assert Licence.objects.unscoped().filter(user__email__endswith="@large.example").count() == 1000
    assert MergeNotice.objects.unscoped().count() == 1010
    assert Tenant.objects.filter(state=Tenant.State.CLOSED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_merge_is_one_transaction(localstripe, settings):
    """Seen from another connection while the merge runs, nothing has changed yet."""
    rob, _people, _subscription = managed_tenant(localstripe, "contoso.com")
    seed_tenant("fabrikam.example", 20)
    claim = verified_domain_claim(rob, "fabrikam.example")
    database = connection.settings_dict
    seen = {}

    def look_from_outside(sender, tenant, user_ids, **kwargs):
        seen["in_a_transaction"] = connection.in_atomic_block
        with (
            psycopg.connect(
                dbname=database["NAME"],
                user=database["USER"] or "postgres",
                password=database["PASSWORD"] or None,
                host=database["HOST"] or "127.0.0.1",
                port=database["PORT"] or 5432,
            ) as other,
            other.cursor() as cursor,
        ):
            cursor.execute("SELECT state FROM tenancy_tenant WHERE domain = 'fabrikam.example'")
            seen["state"] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM tenancy_membership m JOIN tenancy_tenant t"
                " ON t.id = m.tenant_id WHERE t.domain = 'fabrikam.example'"
            )
            seen["members"] = cursor.fetchone()[0]
        other.close()

    members_merged.connect(look_from_outside)
    try:
        services.attach_domain(claim=claim)
    finally:
        members_merged.disconnect(look_from_outside)

    assert seen == {"in_a_transaction": True, "state": "unmanaged", "members": 20}
    assert Tenant.objects.get(domain="fabrikam.example").state == Tenant.State.CLOSED
