"""Kept counts (core.counts): read from the cache until a committed change renews them, the
changing transaction counting its own rows meanwhile. These tests commit (transaction=True), as
production does, so that the versions move."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.versioned import current_versions
from tenancy.models import Tenant
from tenancy.selectors import member_count, member_count_key
from tests.factories import member
from tests.fixtures.cache import CacheCalls

pytestmark = pytest.mark.django_db(transaction=True)


def counted(tenant):
    """The member count, and whether it took a query."""
    with CaptureQueriesContext(connection) as queries:
        count = member_count(tenant)
    return count, any("COUNT(" in query["sql"] for query in queries)


def test_a_count_is_kept_until_a_committed_join_and_then_counted_anew():
    member("ann@contoso.com")
    tenant = Tenant.objects.get(domain="contoso.com")
    assert counted(tenant) == (1, True)
    assert counted(tenant) == (1, False)

    member("bob@contoso.com")

    assert counted(tenant) == (2, True)
    assert counted(tenant) == (2, False)


def test_the_changing_transaction_counts_its_own_rows_and_a_rollback_leaves_the_kept_count():
    member("ann@contoso.com")
    tenant = Tenant.objects.get(domain="contoso.com")
    assert counted(tenant) == (1, True)

    with transaction.atomic():
        member("bob@contoso.com")
        assert counted(tenant) == (2, True)
        assert counted(tenant) == (2, True)  # not kept: others do not see Bob yet
        transaction.set_rollback(True)

    assert counted(tenant) == (1, False)


def test_forgetting_a_count_deletes_nothing_and_renews_its_version_with_the_commit(monkeypatch):
    """The count's version joins the versions the transaction renews in one call once it
    commits (core.versioned.renew_at_commit): no call of its own. (A spy notes the calls; each
    goes through.)"""
    member("ann@contoso.com")
    tenant = Tenant.objects.get(domain="contoso.com")
    assert counted(tenant) == (1, True)
    version = [f"count:{member_count_key(tenant.pk)}"]
    before = current_versions(version)
    calls = CacheCalls(monkeypatch, ["delete", "delete_many"])

    with transaction.atomic():
        member("bob@contoso.com")
        assert current_versions(version) == before

    assert calls.made == []
    assert current_versions(version) != before
    assert counted(tenant) == (2, True)


def test_a_kept_count_comes_with_its_versions_token_in_one_cache_call(monkeypatch):
    """(A spy counts the calls; each goes through.)"""
    member("ann@contoso.com")
    tenant = Tenant.objects.get(domain="contoso.com")
    assert counted(tenant) == (1, True)
    calls = CacheCalls(monkeypatch, ["get", "get_many"])

    assert counted(tenant) == (1, False)

    assert calls.made == ["get_many"]
