"""The audit log's batch: the events of a block written together, in order, once it ends."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.scoping import tenant_scope
from tenancy.models import AuditEvent
from tenancy.services.audit import acting_as, audit_batch, record_audit
from tests.factories import member


def logged(tenant):
    return list(
        AuditEvent.objects.unscoped()
        .filter(tenant=tenant)
        .order_by("pk")
        .values_list("action", "actor_label")
    )


@pytest.mark.django_db
def test_a_batch_writes_its_events_in_one_insert_when_it_ends_in_the_order_recorded():
    tenant = member("rob@contoso.com").membership.tenant
    # The batch ends inside the action's transaction and its tenant's scope, as a service's does.
    with transaction.atomic(), tenant_scope(tenant), acting_as("Entra ID"):
        with CaptureQueriesContext(connection) as queries, audit_batch():
            first = record_audit(tenant=tenant, actor=None, action="test.first")
            record_audit(tenant=tenant, actor=None, action="test.second")
            assert len(queries) == 0  # nothing written yet
        assert [q["sql"].split()[0] for q in queries] == ["INSERT"]
    assert first.pk is not None
    assert logged(tenant) == [("test.first", "Entra ID"), ("test.second", "Entra ID")]


@pytest.mark.django_db
def test_a_batch_that_raises_writes_nothing_and_events_outside_a_batch_are_written_at_once():
    tenant = member("rob@contoso.com").membership.tenant
    with pytest.raises(RuntimeError), tenant_scope(tenant), audit_batch():
        record_audit(tenant=tenant, actor=None, action="test.refused")
        raise RuntimeError
    assert logged(tenant) == []

    with CaptureQueriesContext(connection) as queries:
        record_audit(tenant=tenant, actor=None, action="test.alone")
    assert len(queries) == 1
    assert logged(tenant) == [("test.alone", "")]
