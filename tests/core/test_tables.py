"""Table versions (core.tables): every committed write renews the versions of the tables it
names, whichever way it is made; a rolled-back one renews nothing."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.tables import WRITE, kept_read, tables_in, version_name
from core.versioned import current_versions, renew, renew_at_commit, renewing_at_commit
from meetings.models import Meeting
from tenancy.models import Tenant
from tests.fixtures.cache import CacheCalls


def test_a_statements_tables_are_whole_names_of_ours():
    sql = (
        'SELECT "meetings_meetingsettings"."id" FROM "meetings_meetingsettings" '
        'INNER JOIN tenancy_user ON (tenancy_user.id = 1) WHERE "x"."meetings_meeting_id" = 2'
    )
    assert tables_in(sql) == {"meetings_meetingsettings", "tenancy_user"}
    assert tables_in("SELECT 1") == set()


@pytest.mark.parametrize(
    "sql",
    [
        'INSERT INTO "a" VALUES (1)',
        'UPDATE "a" SET "b" = 1',
        'DELETE FROM "a"',
        'WITH x AS (SELECT 1) INSERT INTO "a" SELECT * FROM x',
        'SELECT * FROM "a" FOR UPDATE',
        "TRUNCATE a",
    ],
)
def test_statements_that_may_change_rows_count_as_writes(sql):
    assert WRITE.search(sql)


@pytest.mark.parametrize(
    "sql", ['SELECT "updated_at", "deleted_count" FROM "a"', "SELECT 1 AS inserted"]
)
def test_reads_naming_columns_like_keywords_are_reads(sql):
    assert not WRITE.search(sql)


def written_here(connection):
    """The tables the connection's open transaction wrote, renewed once it commits."""
    prefix = version_name("")
    return {
        name.removeprefix(prefix)
        for name in renewing_at_commit(connection)
        if name.startswith(prefix)
    }


def version_of(table):
    return current_versions([version_name(table)])[version_name(table)]


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_renews_its_tables_once_committed():
    before = version_of("tenancy_tenant")
    with transaction.atomic():
        Tenant.objects.create(domain="example.org")
        assert written_here(connection) == {"tenancy_tenant"}
        assert version_of("tenancy_tenant") == before  # not yet: others read the old rows
    assert written_here(connection) == set()
    assert version_of("tenancy_tenant") != before


@pytest.mark.django_db(transaction=True)
def test_autocommitted_raw_sql_and_bulk_updates_renew_at_once():
    before = version_of("meetings_meeting"), version_of("tenancy_tenant")
    Meeting.objects.unscoped().filter(pk=-1).update(title="none")
    middle = version_of("meetings_meeting"), version_of("tenancy_tenant")
    assert middle[0] != before[0]
    assert middle[1] == before[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenancy_tenant SET domain = domain WHERE id = -1")
    assert version_of("tenancy_tenant") != middle[1]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_renews_nothing():
    before = version_of("tenancy_tenant")
    with pytest.raises(RuntimeError), transaction.atomic():
        Tenant.objects.create(domain="example.org")
        raise RuntimeError
    assert written_here(connection) == set()
    assert version_of("tenancy_tenant") == before


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rolled_back_forgets_only_its_own_writes():
    with transaction.atomic():
        Tenant.objects.create(domain="example.org")
        with pytest.raises(RuntimeError), transaction.atomic():
            Meeting.objects.unscoped().filter(pk=-1).update(title="none")
            raise RuntimeError
        assert "tenancy_tenant" in written_here(connection)


def test_every_table_of_ours_is_found_in_a_statement_naming_it():
    """The scan looks at words with an underscore: a table named otherwise would go unseen."""
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        statement = f'UPDATE "{table}" SET x = 1'  # noqa: S608 (never executed)
        assert tables_in(statement) == {table.lower()}


@pytest.mark.django_db(transaction=True)
def test_a_long_statement_renews_its_tables_and_is_not_kept():
    """Statements are read once and kept, but for long ones (one per length of a list of ids):
    an UPDATE of 2,000 ids renews the table's version, and leaves nothing kept."""
    from core.tables import KEPT_STATEMENT_LENGTH, _kept_reading

    ids = list(range(-2000, 0))  # no such tenants: the statement is what counts
    assert len(", ".join(["%s"] * len(ids))) > KEPT_STATEMENT_LENGTH
    Tenant.objects.filter(pk__in=ids).update(two_factor_required=True)
    before = version_of("tenancy_tenant")
    kept = _kept_reading.cache_info().currsize
    Tenant.objects.filter(pk__in=[*ids, -2001]).update(two_factor_required=True)
    assert version_of("tenancy_tenant") != before
    assert _kept_reading.cache_info().currsize == kept


def tenant_domains():
    return sorted(Tenant.objects.values_list("domain", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_kept_read_is_kept_until_its_table_is_written():
    Tenant.objects.create(domain="example.org")
    assert kept_read("domains", tenant_domains, 60) == ["example.org"]
    with CaptureQueriesContext(connection) as queries:
        assert kept_read("domains", tenant_domains, 60) == ["example.org"]
    assert len(queries) == 0
    Tenant.objects.create(domain="example.net")
    assert kept_read("domains", tenant_domains, 60) == ["example.net", "example.org"]


@pytest.mark.django_db(transaction=True)
def test_a_kept_read_is_not_served_over_this_connections_uncommitted_writes():
    assert kept_read("domains", tenant_domains, 60) == []
    with transaction.atomic():
        Tenant.objects.create(domain="example.org")
        assert kept_read("domains", tenant_domains, 60) == ["example.org"]
        transaction.set_rollback(True)
    assert kept_read("domains", tenant_domains, 60) == []


@pytest.mark.django_db(transaction=True)
def test_a_kept_read_asks_the_cache_once_and_a_lost_version_reads_it_anew(monkeypatch):
    """Once a key was kept, its value and its versions' tokens come in one cache call. (A spy
    counts the calls; each goes through.)"""
    Tenant.objects.create(domain="example.org")
    assert kept_read("domains", tenant_domains, 60) == ["example.org"]
    calls = CacheCalls(monkeypatch, ["get", "get_many"])
    with CaptureQueriesContext(connection) as queries:
        assert kept_read("domains", tenant_domains, 60) == ["example.org"]
    assert (calls.made, len(queries)) == (["get_many"], 0)
    cache.delete(f"version:{version_name('tenancy_tenant')}")  # evicted, say
    with CaptureQueriesContext(connection) as queries:
        assert kept_read("domains", tenant_domains, 60) == ["example.org"]
    assert len(queries) == 1


@pytest.mark.django_db(transaction=True)
def test_nothing_found_is_not_kept():
    assert kept_read("nobody", lambda: Tenant.objects.filter(domain="x.test").first(), 60) is None
    assert cache.get("nobody") is None


@pytest.mark.django_db(transaction=True)
def test_a_transactions_renewals_reach_the_cache_in_one_call(monkeypatch):
    """Its tables and the other versions it changes (an identity's, say) are renewed together once
    it commits: one cache call, not one per kind, and none before. (A spy counts the calls; each
    goes through.)"""
    renewed: list[set[str]] = []

    def spy(names):
        names = set(names)
        renewed.append(names)
        renew(names)

    monkeypatch.setattr("core.versioned.renew", spy)
    before = version_of("tenancy_tenant"), current_versions(["identity:user:-1"])
    with transaction.atomic():
        renew_at_commit(["identity:user:-1"])
        tenant = Tenant.objects.create(domain="example.org")  # its identity too (a signal)
        Meeting.objects.unscoped().filter(pk=-1).update(title="none")
        assert renewed == []
    assert renewed == [
        {
            "identity:user:-1",
            f"identity:tenant:{tenant.pk}",
            version_name("tenancy_tenant"),
            version_name("meetings_meeting"),
        }
    ]
    assert (version_of("tenancy_tenant"), current_versions(["identity:user:-1"])) != before


@pytest.mark.django_db(transaction=True)
def test_a_renewal_rolled_back_with_its_savepoint_is_made_anew_for_later_writes():
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            Meeting.objects.unscoped().filter(pk=-1).update(title="none")
            raise RuntimeError
        before = version_of("tenancy_tenant")
        Tenant.objects.create(domain="example.org")
        assert written_here(connection) == {"tenancy_tenant"}
    assert version_of("tenancy_tenant") != before
