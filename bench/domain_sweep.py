"""Benchmark 8: the shape of the daily re-verification of 100,000 verified domains.

Each domain is checked at its own time of day (`domains.services.daily_slot`); the beat job
runs every minute and queues, each with its ETA, the checks due before its next run. This seeds
N verified domains of managed tenants, then measures how many checks fall in each minute and
each second of the day, what one run of the beat job costs, and how long one check takes (the
flat dnslib server answering), so that the worker time a day needs can be read off.

    python bench/domain_sweep.py N     (prints one JSON line)
"""

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHECKS_TIMED = 200


def seed_domains(count):
    """One managed tenant holding `count` verified domains, each due at its daily slot."""
    from django.db import connection

    from bench.seed import seed_tenant

    suffix = f"{int(time.time())}.sweep"
    seed_tenant(f"owner-{suffix}", 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tenancy_tenant SET state = 'managed' WHERE domain = %s RETURNING id",
            [f"owner-{suffix}"],
        )
        tenant_id = cursor.fetchone()[0]
        # The slot of domains.services.daily_slot, computed by the database.
        cursor.execute(
            "INSERT INTO tenancy_tenantdomain (tenant_id, domain, is_primary, status, token,"
            " added_at, verified_at, servers_seen, check_failures, last_outcome)"
            " SELECT %s, 'd' || g || '-' || %s, false, 'verified', 'code-' || g, now(), now(),"
            " '[]', 0, '' FROM generate_series(1, %s) g",
            [tenant_id, suffix, count],
        )
        cursor.execute(
            "UPDATE tenancy_tenantdomain SET next_check_at = date_trunc('day', now())"
            " + make_interval(secs => (id * 2654435761) %% 86400)"
            " + CASE WHEN date_trunc('day', now()) + make_interval(secs =>"
            " (id * 2654435761) %% 86400) <= now() THEN interval '1 day' ELSE interval '0' END"
            " WHERE tenant_id = %s",
            [tenant_id],
        )
        cursor.execute("ANALYZE tenancy_tenantdomain")
    return tenant_id


def shape(tenant_id):
    from django.db import connection

    with connection.cursor() as cursor:
        # By time of day: the next checks fall partly today, partly tomorrow.
        cursor.execute(
            "SELECT count(*) FROM tenancy_tenantdomain WHERE tenant_id = %s"
            " AND status = 'verified' GROUP BY date_trunc('minute', next_check_at)::time",
            [tenant_id],
        )
        per_minute = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT max(n) FROM (SELECT count(*) n FROM tenancy_tenantdomain"
            " WHERE tenant_id = %s AND status = 'verified' GROUP BY next_check_at::time(0)) s",
            [tenant_id],
        )
        busiest_second = cursor.fetchone()[0]
    return {
        "minutes_with_checks": len(per_minute),
        "checks_per_minute": {
            "min": min(per_minute),
            "max": max(per_minute),
            "mean": round(sum(per_minute) / len(per_minute), 1),
        },
        "busiest_second": busiest_second,
    }


def main(count):
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from domains import services
    from domains.devdns import DevDNSServer, add_txt
    from tenancy.models import TenantDomain

    tenant_id = seed_domains(count)
    sample = TenantDomain.objects.unscoped().filter(tenant_id=tenant_id, status="verified")[:50]
    now = timezone.now()
    assert all(
        domain.next_check_at == services.next_daily_check(domain.pk, after=now)
        or domain.next_check_at - now < services.MIN_CHECK_GAP
        for domain in sample
    ), "the database's slots differ from domains.services.daily_slot"

    # One run of the beat job: take what is due in the coming minute.
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        queued = services.take_due_domain_checks()
    beat_seconds = time.perf_counter() - started

    # One check at a time, as a worker process makes them, against the flat dnslib server.
    records = Path(tempfile.mkdtemp()) / "records.json"
    domains = TenantDomain.objects.unscoped().filter(tenant_id=tenant_id, status="verified")
    timed = list(domains[:CHECKS_TIMED])
    for domain in timed:
        add_txt(records, domain.domain, f"quorum-verification={domain.token}")
    server = DevDNSServer(records).start()
    settings.DNS_NAMESERVERS = [server.address]
    TenantDomain.objects.unscoped().filter(pk__in=[d.pk for d in timed]).update(
        next_check_at=timezone.now()
    )
    started = time.perf_counter()
    outcomes = [services.check_domain(domain_id=domain.pk).last_outcome for domain in timed]
    check_seconds = (time.perf_counter() - started) / len(timed)
    server.stop()
    assert set(outcomes) == {"found"}, set(outcomes)

    per_day = shape(tenant_id)
    print(
        json.dumps(
            {
                "domains": count,
                **per_day,
                "beat_run": {
                    "queued": len(queued),
                    "seconds": round(beat_seconds, 4),
                    "queries": len(queries),
                },
                "one_check_ms": round(check_seconds * 1000, 1),
                "worker_seconds_per_day": round(check_seconds * count),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
