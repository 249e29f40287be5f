"""Benchmark 7, one N per process (so peak RSS is this N's): merging an unmanaged tenant of N
members into a managed one (`domains.services.attach_domain`, the transaction that runs when an
added domain's record is found), next to hand-written SQL making the same row changes on a twin
pair of tenants.

The managed tenant has 10 members and N/2 free licences: half of the newcomers get one, half
wait. A tenth of the newcomers organise a meeting, which moves with them.

    python bench/merge.py N     (prints one JSON line)
"""

import json
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MEMBERS = 10


def seed_managed(domain, members, seats):
    """A managed tenant as a purchase leaves it: its first member the admin, a live subscription
    of `seats` licences, one assigned to each member, its domain verified. Returns the admin's
    user id and the subscription's id."""
    from django.db import connection

    from bench.seed import seed_tenant

    admin_id = seed_tenant(domain, members)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tenancy_tenant SET state = 'managed' WHERE domain = %s RETURNING id", [domain]
        )
        tenant_id = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE tenancy_tenantdomain SET status = 'verified', token = %s, verified_at = now()"
            " WHERE tenant_id = %s",
            [f"code-{domain}", tenant_id],
        )
        cursor.execute(
            "UPDATE tenancy_membership SET role = 'admin' WHERE user_id = %s", [admin_id]
        )
        cursor.execute(
            "INSERT INTO licensing_subscription (tenant_id, plan, quantity, status,"
            " stripe_customer_id, stripe_subscription_id, stripe_item_id, cancel_at_period_end,"
            " unpaid_invoice_url, assigned, created_at) VALUES (%s, 'essentials', %s, 'active',"
            " 'cus_bench', %s, 'si_bench', false, '',"
            " (SELECT count(*) FROM tenancy_membership WHERE tenant_id = %s), now()) RETURNING id",
            [tenant_id, seats, f"sub_{domain}", tenant_id],
        )
        subscription_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO licensing_licence (tenant_id, subscription_id, user_id, assigned_at)"
            " SELECT %s, %s, user_id, now() FROM tenancy_membership WHERE tenant_id = %s",
            [tenant_id, subscription_id, tenant_id],
        )
    return admin_id, tenant_id, subscription_id


def seed_unmanaged(domain, members):
    """An unmanaged tenant of `members`, a tenth of whom organise a meeting. Returns its id."""
    from django.db import connection

    from bench.seed import seed_tenant

    seed_tenant(domain, members)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_tenant WHERE domain = %s", [domain])
        tenant_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO meetings_meeting (organiser_id, tenant_id, title, starts_at,"
            " duration_minutes, join_token, lobby_bypass, anonymous_join_allowed,"
            " recording_allowed, is_personal_room, created_at)"
            " SELECT user_id, tenant_id, 'Weekly', now() + interval '1 day', 30,"
            " md5(random()::text || user_id::text) || md5(user_id::text), 'organisation', false,"
            " true, false, now() FROM tenancy_membership"
            " WHERE tenant_id = %s AND user_id %% 10 = 0",
            [tenant_id],
        )
        cursor.execute("ANALYZE tenancy_membership, meetings_meeting, licensing_licence")
    return tenant_id


def main(members):
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from domains.models import DomainClaim
    from domains.services import attach_domain
    from tenancy.models import User

    suffix = f"{members}-{int(time.time())}.bench"
    seats = TARGET_MEMBERS + members // 2
    admin_id, _tenant_id, _subscription_id = seed_managed(f"t{suffix}", TARGET_MEMBERS, seats)
    seed_unmanaged(f"m{suffix}", members)
    twin_admin, twin_target, twin_subscription = seed_managed(
        f"sql-t{suffix}", TARGET_MEMBERS, seats
    )
    twin_source = seed_unmanaged(f"sql-m{suffix}", members)

    admin = User.objects.get(pk=admin_id)
    now = timezone.now()
    claim = DomainClaim.objects.unscoped().create(
        tenant=admin.membership.tenant,
        claimant=admin,
        domain=f"m{suffix}",
        purpose=DomainClaim.Purpose.ADD_DOMAIN,
        status=DomainClaim.Status.VERIFIED,
        verified_at=now,
        expires_at=now + timedelta(days=7),
    )
    # The twin's merge record needs a claim of its own (made before the timing starts).
    twin_claim = DomainClaim.objects.unscoped().create(
        tenant_id=twin_target,
        claimant_id=twin_admin,
        domain=f"sql-m{suffix}",
        purpose=DomainClaim.Purpose.ADD_DOMAIN,
        status=DomainClaim.Status.USED,
        verified_at=now,
        expires_at=now,
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        merged = attach_domain(claim=claim)
    service_seconds = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert merged.status == "used", merged.last_error
    merge = merged.merge

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_tenant WHERE id = %s FOR UPDATE", [twin_target])
        cursor.execute("SELECT id FROM tenancy_tenant WHERE id = %s FOR UPDATE", [twin_source])
        cursor.execute(
            "INSERT INTO domains_tenantmerge (tenant_id, claim_id, domain, merged_domains,"
            " merged_at, joined, waiting_for_approval, licensed) VALUES (%s, %s, %s, '[]', now(),"
            " 0, 0, 0) RETURNING id",
            [twin_target, twin_claim.pk, f"sql-m{suffix}"],
        )
        twin_merge = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO domains_mergenotice (tenant_id, merge_id, user_id, outcome)"
            " SELECT %s, %s, user_id, 'joined' FROM tenancy_membership WHERE tenant_id = %s",
            [twin_target, twin_merge, twin_source],
        )
        # As the service does (domains/services.py): the planner joins the new notices below.
        cursor.execute("ANALYZE domains_mergenotice")
        cursor.execute(
            "UPDATE tenancy_membership SET tenant_id = %s WHERE tenant_id = %s",
            [twin_target, twin_source],
        )
        cursor.execute(
            "UPDATE tenancy_tenant SET state = 'closed', merged_into_id = %s, closed_at = now()"
            " WHERE id = %s",
            [twin_target, twin_source],
        )
        cursor.execute(
            "UPDATE meetings_meeting SET tenant_id = %s WHERE tenant_id = %s",
            [twin_target, twin_source],
        )
        cursor.execute("DELETE FROM tenancy_tenantdomain WHERE tenant_id = %s", [twin_source])
        cursor.execute(
            "INSERT INTO tenancy_tenantdomain (tenant_id, domain, is_primary, status, token,"
            " added_at, verified_at, next_check_at, servers_seen, check_failures, last_outcome)"
            " VALUES (%s, %s, false, 'verified', 'code', now(), now(), now() + interval '1 day',"
            " '[]', 0, '')",
            [twin_target, f"sql-m{suffix}"],
        )
        # The newcomers join the licence queue; its head gets the free seats.
        cursor.execute(
            "INSERT INTO licensing_licencewait (tenant_id, user_id, since)"
            " SELECT %s, n.user_id, now() FROM domains_mergenotice n"
            " JOIN tenancy_membership m ON m.user_id = n.user_id"
            " WHERE n.merge_id = %s ORDER BY m.joined_at, m.user_id",
            [twin_target, twin_merge],
        )
        cursor.execute(
            "INSERT INTO licensing_licence (tenant_id, subscription_id, user_id, assigned_at)"
            " SELECT %s, %s, user_id, now() FROM licensing_licencewait"
            " WHERE tenant_id = %s ORDER BY since, id LIMIT %s",
            [twin_target, twin_subscription, twin_target, seats - TARGET_MEMBERS],
        )
        cursor.execute(
            "DELETE FROM licensing_licencewait w USING licensing_licence l"
            " WHERE w.tenant_id = %s AND l.subscription_id = %s AND l.user_id = w.user_id",
            [twin_target, twin_subscription],
        )
        cursor.execute(
            "UPDATE licensing_subscription SET assigned = %s WHERE id = %s",
            [seats, twin_subscription],
        )
        cursor.execute(
            "UPDATE meetings_meetingsettings SET licensed_cap = 300 WHERE user_id IN"
            " (SELECT l.user_id FROM licensing_licence l JOIN domains_mergenotice n"
            " ON n.user_id = l.user_id WHERE l.subscription_id = %s AND n.merge_id = %s)",
            [twin_subscription, twin_merge],
        )
        for tenant_id in (twin_target, twin_source):
            cursor.execute(
                "INSERT INTO tenancy_auditevent (tenant_id, action, target, before, after,"
                " created_at) VALUES (%s, 'domain.added', %s, '{}', '{}', now())",
                [tenant_id, f"sql-m{suffix}"],
            )
    sql_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "members": members,
                "service_seconds": round(service_seconds, 3),
                "sql_baseline_seconds": round(sql_seconds, 3),
                "ratio_to_sql": round(service_seconds / sql_seconds, 2),
                "queries": len(queries),
                "joined": merge.joined,
                "licensed": merge.licensed,
                "peak_rss_mb": round(peak_rss_mb, 1),
                "rss_before_mb": round(rss_before / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
