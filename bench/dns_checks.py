"""Benchmark 4: DNS queries per check, counted at a real DNS server, and the number of checks
the retry schedule makes over a claim's 72-hour window.

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
                "checks_in_72h": {
                    "min": min(runs),
                    "max": max(runs),
                    "mean": round(sum(runs) / len(runs), 1),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
