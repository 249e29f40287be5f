"""Benchmark 4: DNS queries per check, counted at real DNS servers: the flat development server
(no zones: the check asks it as the resolver) and a hierarchy on loopback (root, TLD, the
domain's servers on port 53, a caching resolver: the check asks the authoritative servers); and
the number of checks the retry schedule makes over a claim's 72-hour window.

    python bench/dns_checks.py   (prints one JSON line)
"""

import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    import django

    django.setup()
    from django.conf import settings

    from domains.devdns import DevDNSServer, add_txt
    from domains.dnscheck import lookup_txt
    from domains.services import CLAIM_WINDOW, retry_delay

    records = Path(tempfile.mkdtemp()) / "records.json"
    add_txt(records, "contoso.bench", "v=spf1 -all")
    add_txt(records, "contoso.bench", "quorum-verification=x")
    server = DevDNSServer(records)
    server.start()
    settings.DNS_NAMESERVERS = [server.address]
    per_outcome = {}
    for name, domain in (("record found", "contoso.bench"), ("NXDOMAIN", "nowhere.bench")):
        before = server.query_count
        lookup_txt(domain)
        per_outcome[name] = server.query_count - before
    server.silent = True
    before = server.query_count
    lookup_txt("contoso.bench")
    per_outcome["server silent (timeout)"] = server.query_count - before
    server.stop()
    authoritative = hierarchy_queries(settings)

    window = CLAIM_WINDOW.total_seconds()
    runs = []
    for seed in range(200):
        rng, elapsed, checks, step = random.Random(seed), 0.0, 1, 0
        while True:
            elapsed += retry_delay(step, rng=rng)
            if elapsed >= window:
                break
            checks, step = checks + 1, step + 1
        runs.append(checks + 1)  # the last check lands when the window ends
    print(
        json.dumps(
            {
                "queries_per_check": per_outcome,
                "queries_per_check_authoritative": authoritative,
                "checks_in_72h": {
                    "min": min(runs),
                    "max": max(runs),
                    "mean": round(sum(runs) / len(runs), 1),
                },
            }
        )
    )


def hierarchy_queries(settings):
    """Queries a check sends in the loopback hierarchy, counted where they arrive (the resolver's
    own walks excluded), and the slowest check's seconds."""
    import time

    from domains.devdns import LoopbackHierarchy
    from domains.dnscheck import MAX_QUERIES, lookup_txt

    hierarchy = LoopbackHierarchy()
    hierarchy.add_tld("com")
    hierarchy.add_domain("contoso.com", servers=("ns1", "ns2"), lame=("ns3",))
    hierarchy.add_domain("fabrikam.com")
    hierarchy.add_domain("northwind.com", servers=tuple(f"ns{n}" for n in range(1, 7)))
    hierarchy.start()
    settings.DNS_NAMESERVERS = [f"{hierarchy.RESOLVER}:53"]
    settings.DNS_TIMEOUT, settings.DNS_LIFETIME = 0.5, 3.0
    counts = {}

    def count(name, domain):
        hierarchy.forget_queries()
        started = time.perf_counter()
        lookup = lookup_txt(domain)
        counts[name] = {
            "queries": len(hierarchy.queries_from_outside()),
            "outcome": lookup.outcome,
            "fell_back": lookup.fell_back,
            "seconds": round(time.perf_counter() - started, 3),
        }

    try:
        hierarchy.set_txt("contoso.com", "quorum-verification=x", on=("ns1",))
        count("record on 1 of 3 servers (1 lagging, 1 lame)", "contoso.com")
        hierarchy.undelegate("fabrikam.com")
        lookup_txt("fabrikam.com")  # the resolver now holds an NXDOMAIN for an hour
        hierarchy.delegate("fabrikam.com")
        hierarchy.set_txt("fabrikam.com", "quorum-verification=x")
        count("resolver holding a cached NXDOMAIN", "fabrikam.com")
        lookup_txt("northwind.com")  # the resolver keeps the NS set
        for server in hierarchy.domains["northwind.com"].values():
            server.silent = True
        count("6 servers, all silent", "northwind.com")
    finally:
        hierarchy.stop()
    counts["max_queries"] = MAX_QUERIES
    return counts


if __name__ == "__main__":
    main()
