"""Benchmark 1, one N per process (so peak RSS is this N's): the whole purchase service for a
tenant of N members, next to hand-written SQL making the same row changes on a twin tenant.

    python bench/upgrade.py N     (prints one JSON line)
"""

import json
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(members):
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.seed import seed_tenant
    from bench.stripe_card import confirm_card
    from domains.models import DomainClaim
    from licensing.services.purchase import purchase_seats, start_purchase
    from tenancy.models import Membership

    suffix = f"{members}-{int(time.time())}.bench"
    buyer_id = seed_tenant(f"n{suffix}", members)
    twin_buyer_id = seed_tenant(f"sql-{suffix}", members)
    now = timezone.now()
    for user_id in (buyer_id, twin_buyer_id):
        membership = (
            Membership.objects.unscoped().select_related("user", "tenant").get(user_id=user_id)
        )
        DomainClaim.objects.unscoped().create(
            tenant=membership.tenant,
            claimant=membership.user,
            status="verified",
            verified_at=now,
            expires_at=now + timedelta(hours=72),
        )
    buyer = Membership.objects.unscoped().select_related("user").get(user_id=buyer_id).user
    purchase, secret = start_purchase(buyer=buyer, entry="admin")
    confirm_card(secret)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        done = purchase_seats(
            buyer=buyer,
            purchase_id=purchase.pk,
            plan_key="essentials",
            confirmed_seats=members,
            setup_intent_id=secret.split("_secret_")[0],
        )
    service_seconds = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert done.state == "succeeded", done.error

    twin_tenant = Membership.objects.unscoped().get(user_id=twin_buyer_id).tenant_id
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_tenant WHERE id = %s FOR UPDATE", [twin_tenant])
        cursor.execute(
            "SELECT count(*) FROM tenancy_membership WHERE tenant_id = %s", [twin_tenant]
        )
        cursor.execute(
            "INSERT INTO licensing_subscription (tenant_id, plan, quantity, status,"
            " stripe_customer_id, stripe_subscription_id, stripe_item_id, cancel_at_period_end,"
            " unpaid_invoice_url, created_at) VALUES (%s, 'essentials', %s, 'active', 'cus_sql',"
            " %s, 'si_sql', false, '', now()) RETURNING id",
            [twin_tenant, members, f"sub_sql_{suffix}"],
        )
        subscription_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO licensing_licence (subscription_id, user_id, assigned_at)"
            " SELECT %s, user_id, now() FROM tenancy_membership WHERE tenant_id = %s",
            [subscription_id, twin_tenant],
        )
        cursor.execute(
            "UPDATE tenancy_membership SET role = 'admin' WHERE user_id = %s", [twin_buyer_id]
        )
        cursor.execute("UPDATE tenancy_tenant SET state = 'managed' WHERE id = %s", [twin_tenant])
        cursor.execute(
            "UPDATE domains_domainclaim SET status = 'used' WHERE tenant_id = %s", [twin_tenant]
        )
        cursor.execute(
            "UPDATE meetings_meetingsettings SET licensed_cap = 300, migrated_at = now()"
            " WHERE user_id IN (SELECT user_id FROM tenancy_membership WHERE tenant_id = %s)",
            [twin_tenant],
        )
    sql_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "members": members,
                "domain": f"n{suffix}",
                "service_seconds": round(service_seconds, 3),
                "sql_baseline_seconds": round(sql_seconds, 3),
                "ratio_to_sql": round(service_seconds / sql_seconds, 2),
                "queries": len(queries),
                "peak_rss_mb": round(peak_rss_mb, 1),
                "rss_before_mb": round(rss_before / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
