"""Benchmark 6: SCIM provisioning. An identity provider provisions 10,000 people, one POST each
(as Entra and Okta do), over HTTP to gunicorn run as in production, from a few client processes
at once as their provisioning services do; then the filtered lists an identity provider sends
are timed, one at a time, on a tenant whose 100,000 members are all provisioned.

    python bench/provisioning.py [PEOPLE] [MEMBERS] [CONNECTIONS]   (prints one JSON line; the
                                                         bench's settings and database)

Both tenants are managed with a live subscription of enough seats (inserted, no Stripe call):
every provisioned person takes the full path, membership and licence included. Goals
(docs/PERFORMANCE.md): at least 100 people a second, and a filtered list's p95 at most 100 ms.
"""

import http.client
import json
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import PORT, cpu_seconds, serve, serving_pids  # (sets the environment)

LIST_REQUESTS = 200
PROBE_QUERIES = 2_000
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


def managed_tenant(domain, members):
    """A managed tenant of `members` seeded members (the first its admin) with a live
    subscription of as many seats as it will need, and a provisioning token's secret."""
    from django.db import connection
    from django.utils import timezone

    from bench.seed import seed_tenant
    from licensing.models import Subscription
    from provisioning.services.tokens import create_token
    from tenancy.models import Membership, Tenant, TenantDomain

    admin_id = seed_tenant(domain, members)
    tenant = Tenant.objects.get(domain=domain)
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.MANAGED)
    # A managed tenant's domain was proven: SCIM provisions only at verified domains.
    TenantDomain.objects.unscoped().filter(tenant=tenant).update(
        status=TenantDomain.Status.VERIFIED, verified_at=timezone.now()
    )
    tenant.refresh_from_db()
    Membership.objects.unscoped().filter(user_id=admin_id).update(role=Membership.Role.ADMIN)
    Subscription.objects.unscoped().create(
        tenant=tenant,
        plan="essentials",
        quantity=1_000_000,
        status=Subscription.Status.ACTIVE,
        stripe_customer_id=f"cus_{domain}",
        stripe_subscription_id=f"sub_{domain}",
    )
    admin = Membership.objects.unscoped().select_related("user").get(user_id=admin_id).user
    _token, secret = create_token(tenant=tenant, actor=admin, name="Bench IdP")
    connection.close()
    return tenant, secret


def orm_probe():
    """CPU seconds to compile the SCIM list's query to SQL PROBE_QUERIES times, with no database:
    work shaped like a creation's (the ORM), whose speed on this machine moves with the host
    while bench/run.py's pure-Python calibration loop may not. Taken before and after the
    creations, so that two runs' rates compare with the machine's speed at the time."""
    from provisioning.models import ProvisionedUser

    started = time.process_time()
    for index in range(PROBE_QUERIES):
        users = ProvisionedUser.objects.unscoped().select_related("user")
        str(users.filter(external_id=f"ext-{index}").order_by("pk").query)
    return round(time.process_time() - started, 3)


def entra_user(address, index):
    return {
        "schemas": [CORE],
        "externalId": f"ext-{index}",
        "userName": address,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": address}],
        "name": {"formatted": f"Person {index}", "givenName": "Person", "familyName": str(index)},
    }


def provision(secret, domain, people, connections):
    """Seconds to provision `people`, each with one POST over HTTP to gunicorn as production
    runs it (config/gunicorn.py), from `connections` client processes at once; and the CPU time
    the server's workers, their PostgreSQL backends and the clients spent."""
    from django.db import connection

    connection.close()  # the clients are forked: none may share this process's connection
    server = serve({"GUNICORN_BIND": f"127.0.0.1:{PORT}"}, ["--config", "python:config.gunicorn"])
    try:
        pids = serving_pids(server)
        before = {pid: cpu_seconds(pid) for group in pids.values() for pid in group}
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(connections) as clients:
            client_cpu = clients.starmap(
                send,
                [(secret, domain, first, people, connections) for first in range(connections)],
            )
        seconds = time.perf_counter() - started
        pids = serving_pids(server)  # connections opened meanwhile count from zero
        spent = {
            group: sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in group_pids)
            for group, group_pids in pids.items()
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"seconds": seconds, **spent, "clients": sum(client_cpu)}


def send(secret, domain, first, people, step):
    """One identity provider's connection: a POST for every `step`-th person from `first`,
    each answered before the next is sent. Returns the CPU seconds the client spent."""
    started = time.process_time()
    for index in range(first, people, step):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        connection.request(
            "POST",
            "/scim/v2/Users",
            json.dumps(entra_user(f"person{index}@{domain}", index)),
            {"Authorization": f"Bearer {secret}", "Content-Type": "application/scim+json"},
        )
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 201, body
    return time.process_time() - started


def link_every_member(tenant):
    """Every member of the tenant as a provisioned user, in SQL (as a first sync would leave
    them), with their address as work e-mail and an external id."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO provisioning_provisioneduser (scim_id, tenant_id, user_id, external_id,"
            " attributes, version, created_at, updated_at)"
            " SELECT gen_random_uuid(), %s, m.user_id, 'ext-' || m.user_id,"
            " jsonb_build_object('active', true, 'emails', jsonb_build_array(jsonb_build_object("
            "'value', u.email, 'type', 'work', 'primary', true))), 1, now(), now()"
            " FROM tenancy_membership m JOIN tenancy_user u ON u.id = m.user_id"
            " WHERE m.tenant_id = %s",
            [tenant.pk, tenant.pk],
        )
        cursor.execute(
            "INSERT INTO provisioning_provisionedemail"
            ' (tenant_id, resource_id, value, type, "primary")'
            " SELECT p.tenant_id, p.id, u.email, 'work', true FROM provisioning_provisioneduser p"
            " JOIN tenancy_user u ON u.id = p.user_id WHERE p.tenant_id = %s",
            [tenant.pk],
        )
        cursor.execute("ANALYZE provisioning_provisioneduser, provisioning_provisionedemail")


def timed_lists(client, domain, members):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def some_member():
        return f"user{random.randint(1, members)}@{domain}"

    filters = {
        "userName eq": lambda: f'userName eq "{some_member()}"',
        "externalId eq": lambda: f'externalId eq "ext-{random.randint(1, members)}"',
        'emails[type eq "work"].value eq': lambda: (
            f'emails[type eq "work"].value eq "{some_member()}"'
        ),
        "userName sw": lambda: f'userName sw "user{random.randint(1, members)}"',
        "no filter, first 100": lambda: None,
    }
    results = {}
    for name, make in filters.items():
        timings, queries = [], 0
        for request in range(LIST_REQUESTS):
            expression = make()
            query = {"filter": expression} if expression else {"count": 100}
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get("/scim/v2/Users", query)
                timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content
            if expression and name.endswith("eq") and "externalId" not in name:
                assert response.json()["totalResults"] == 1, (expression, response.content)
            queries = max(queries, len(captured)) if request else len(captured)
        timings.sort()
        results[name] = {
            "queries": queries,
            "p50_ms": round(timings[len(timings) // 2] * 1000, 1),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 1),
        }
    return results


def main(people, members, connections):
    import django

    django.setup()
    from django.test import Client

    suffix = int(time.time())
    domain = f"scim-{suffix}.bench"
    _tenant, secret = managed_tenant(domain, 1)
    probe_before = orm_probe()
    spent = provision(secret, domain, people, connections)
    probe_after = orm_probe()
    seconds = spent["seconds"]
    server_ms = (spent["gunicorn"] + spent["postgresql"]) * 1000 / people

    large_domain = f"scim-large-{suffix}.bench"
    large, large_secret = managed_tenant(large_domain, members)
    link_every_member(large)
    # In this process, as the production settings' host (the list's own time, no HTTP).
    lister = Client(HTTP_AUTHORIZATION=f"Bearer {large_secret}", HTTP_HOST="127.0.0.1")
    lists = timed_lists(lister, large_domain, members)
    print(
        json.dumps(
            {
                "people_provisioned": people,
                "connections": connections,
                "provisioning_seconds": round(seconds, 1),
                "people_per_second": round(people / seconds, 1),
                # CPU time per person of gunicorn's workers and their PostgreSQL backends:
                # what the work costs whatever else runs, and the rate 2 cores would bound
                # with nothing else on them (the clients took their share of the measured rate).
                "cpu_ms_per_person": {
                    group: round(spent[group] * 1000 / people, 2)
                    for group in ("gunicorn", "postgresql", "clients")
                },
                "people_per_second_bound_by_2_cores": round(2000 / server_ms, 1),
                # The machine's speed for ORM-shaped work, just before and after.
                "orm_probe_cpu_seconds": {"before": probe_before, "after": probe_after},
                # The machine is shared: its load says how much of it the bench had.
                "load_average_at_end": [round(load, 1) for load in os.getloadavg()],
                "members_listed": members,
                "filtered_lists": lists,
            }
        )
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 10_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
        int(sys.argv[3]) if len(sys.argv) > 3 else 4,
    )
