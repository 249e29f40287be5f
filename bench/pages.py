"""Benchmark 2: admin pages of the largest upgraded tenant, server time over 200 requests each
(Django's test client in this process: no HTTP, the view, templates and queries only).

    python bench/pages.py DOMAIN   (prints one JSON line)
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
REQUESTS = 200


def admin_page_paths(domain):
    """The pages timed here (and counted by tests/perf), for the tenant of `domain`; the middle
    page is the one a Next link leads to from the member halfway down the list."""
    from tenancy.models import Membership

    members = (
        Membership.objects.unscoped()
        .filter(tenant__domain=domain)
        .order_by("user__name", "user__email")
    )
    halfway = members.values_list("user_id", flat=True)[members.count() // 2]
    return {
        "users, first page": "/admin/users/",
        "users, a search": "/admin/users/?q=User+000042",
        "users, a middle page": f"/admin/users/?after={halfway}",
        "users, by last sign-in": "/admin/users/?sort=last_login",
        "licences": "/admin/licences/",
        "dashboard": "/admin/",
    }


def main(domain):
    import django

    django.setup()
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from bench.seed import give_authenticator_app
    from tenancy.models import Membership

    # What building each page costs: a page served again from the cache (core.pagecache, the
    # dashboard) is benchmark 3's.
    override_settings(PAGE_CACHE=False).enable()

    admin = (
        Membership.objects.unscoped()
        .select_related("user")
        .get(tenant__domain=domain, role="admin")
        .user
    )
    members = Membership.objects.unscoped().filter(tenant__domain=domain).count()
    give_authenticator_app([admin])
    client = Client()
    client.force_login(admin)
    # A signed-in session's first request also notes its device and keeps its identity: not a
    # page's own queries.
    client.get("/healthz")
    client.get("/healthz")
    results = {}
    for name, path in admin_page_paths(domain).items():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200, path
        # Read now: the log the context slices is cleared when the next request starts.
        query_count = len(queries)
        timings = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(path)
            timings.append(time.perf_counter() - started)
        timings.sort()
        results[name] = {
            "queries": query_count,
            "p50_ms": round(timings[len(timings) // 2] * 1000, 1),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 1),
        }
    print(json.dumps({"members": members, "pages": results}))


if __name__ == "__main__":
    main(sys.argv[1])
