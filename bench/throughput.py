"""Benchmark 3: requests per second of the dashboard, "my meetings" and a meeting's join page,
under gunicorn with the production settings and wrk's concurrent clients, next to /healthz (a
bare Django view returning "ok") on the same server in the same run.

Each lever (docs/PERFORMANCE.md) runs as its own server in the same run, next to the baseline,
each with the bare view measured before and after its pages. The machine's state is reported
(load average, cores); a ratio is refused when the two bare-view figures of a server differ by
more than NOISE (the machine was disturbed), so no figure is read from a disturbed run. Each
figure also has the CPU time per request of gunicorn's workers and of their PostgreSQL backends,
and the share of the bare view's that bounds (load from elsewhere disturbs it far less).

    python bench/throughput.py DOMAIN     (an upgraded tenant of the bench database; JSON line)
"""

import json
import os
import re
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import BASE, cpu_seconds, serve, serving_pids  # (sets the environment)

# Sync workers, as many as docker-compose.yml's web service runs (config/gunicorn.py, each with
# threads there); 5 (gunicorn's 2 x cores + 1) measured lower here.
WORKERS = 3
CONNECTIONS, SECONDS = 16, 10
NOISE = 0.15
# Each lever alone, as environment settings of its own server; "baseline" changes nothing.
LEVERS = {
    "baseline": {},
    # The baseline reads sessions from the cache in front of the database (cached_db): these
    # read them from the database alone, as before, or from the cache alone.
    "sessions in the database": {"SESSION_ENGINE": "django.contrib.sessions.backends.db"},
    "sessions in the cache": {"SESSION_ENGINE": "django.contrib.sessions.backends.cache"},
    # The baseline borrows connections from psycopg 3's pool; this server connects anew for
    # every request, as before the pool (docs/PERFORMANCE.md, "With and without the pool").
    "without the pool": {"DB_POOL": "false"},
    # Kept, so on by default since issue 22: this measures the baseline without it.
    "identity from the database": {"IDENTITY_CACHE": "false"},
    # The baseline serves a page again while nothing it was built from changed (core.pagecache):
    # this server builds every page every time.
    "pages built every time": {"PAGE_CACHE": "false"},
}


def prepare(domain):
    """Sessions (for each lever's session store) for the tenant's admin and for one of its
    members, and a meeting to join."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client, override_settings
    from django.utils import timezone

    from bench.seed import give_authenticator_app
    from meetings.services import schedule_meeting
    from tenancy.models import Membership

    call_command("collectstatic", "--noinput", verbosity=0)
    members = Membership.objects.unscoped().filter(tenant__domain=domain).select_related("user")
    admin = members.get(role=Membership.Role.ADMIN).user
    give_authenticator_app([admin])
    member = members.exclude(role=Membership.Role.ADMIN).order_by("pk").first().user
    soon = timezone.now() + timedelta(days=1)
    meetings = [
        schedule_meeting(
            organiser=admin,
            title=f"Weekly review {index}",
            starts_at=soon + timedelta(days=7 * index),
            duration_minutes=30,
            lobby_bypass="organisation",
            anonymous_join_allowed=True,
            recording_allowed=True,
        )
        for index in range(5)
    ]
    cookies = {}
    for lever, environment in LEVERS.items():
        engine = environment.get("SESSION_ENGINE", settings.SESSION_ENGINE)
        with override_settings(SESSION_ENGINE=engine):
            for name, user in (("admin", admin), ("member", member)):
                client = Client()
                client.force_login(user)
                cookies[lever, name] = f"sessionid={client.cookies['sessionid'].value}"
    return cookies, meetings[0].join_token


def wrk(path, cookie):
    output = subprocess.run(
        [
            "wrk",
            "--threads",
            "2",
            "--connections",
            str(CONNECTIONS),
            "--duration",
            f"{SECONDS}s",
            "--latency",
            "--header",
            f"Cookie: {cookie}",
            BASE + path,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    # "Socket errors: connect 0, read 2, write 0, timeout 3": each one counts.
    socket_errors = re.search(r"Socket errors: (.*)", output)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1)
    return {
        "requests_per_second": rate,
        "requests": requests,
        "errors": (int(bad_status.group(1)) if bad_status else 0)
        + (sum(map(int, re.findall(r"\d+", socket_errors.group(1)))) if socket_errors else 0),
        "p99": p99,
    }


def timed(server, path, cookie):
    """wrk's figures, and the CPU time per request of the server and its database: that says
    what a request costs whatever else the machine runs, where requests/s cannot."""
    pids = serving_pids(server)
    before = {pid: cpu_seconds(pid) for group in pids.values() for pid in group}
    row = wrk(path, cookie)
    pids = serving_pids(server)  # connections opened meanwhile count from zero
    requests = max(row["requests"], 1)
    row["cpu_ms_per_request"] = {
        group: round(
            1000 * sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in group_pids) / requests,
            3,
        )
        for group, group_pids in pids.items()
    }
    return row


def ratios(before, after, results):
    """Each page's share of the bare view's requests/s, or the reason none is given: the bare
    view drifted by more than NOISE between before and after its pages."""
    # What the CPU time per request bounds (server and database, both bare views' mean): a ratio
    # a loaded machine disturbs far less than requests/s, given even when those are refused.
    bare_cpu = sum(sum(row["cpu_ms_per_request"].values()) for row in (before, after)) / 2
    for row in results.values():
        row["cpu_bound_percent_of_bare_view"] = round(
            100 * bare_cpu / max(sum(row["cpu_ms_per_request"].values()), 0.001), 1
        )
    low, high = sorted((before["requests_per_second"], after["requests_per_second"]))
    drift = round((high - low) / high, 3) if high else 1.0
    if drift > NOISE:
        return {"bare_view_drift": drift, "refused": f"bare view drifted {drift:.0%} > {NOISE:.0%}"}
    bare = (low + high) / 2
    for row in results.values():
        row["percent_of_bare_view"] = round(100 * row["requests_per_second"] / bare, 1)
    return {"bare_view_drift": drift}


def as_browser(cookie):
    """`cookie` and the CSRF cookie a browser is given with its first page of forms."""
    request = urllib.request.Request(BASE + "/meetings/", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        given = " ".join(response.headers.get_all("Set-Cookie") or [])
    csrf = re.search(r"csrftoken=(\w+)", given)
    return f"{cookie}; csrftoken={csrf.group(1)}"


def pages_of(admin, member, join_token):
    """The three pages, each with who opens it: {name: (path, cookie)}."""
    return {
        "dashboard (admin)": ("/admin/", admin),
        "my meetings": ("/meetings/", admin),
        "join page (member)": (f"/meetings/j/{join_token}/", member),
    }


def measure(lever, environment, cookies, join_token):
    server = serve(environment, ["--workers", str(WORKERS)])
    try:
        admin, member = as_browser(cookies[lever, "admin"]), as_browser(cookies[lever, "member"])
        pages = pages_of(admin, member, join_token)
        for path, cookie in [("/healthz", admin), *pages.values()]:
            request = urllib.request.Request(BASE + path, headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200, (path, response.status)
        # The bare view before and after the pages: the machine's drift shows between the two.
        before = timed(server, "/healthz", admin)
        results = {name: timed(server, path, cookie) for name, (path, cookie) in pages.items()}
        after = timed(server, "/healthz", admin)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "settings": environment,
        "bare_view_before": before,
        "bare_view_after": after,
        "pages": results,
        **ratios(before, after, results),
    }


def main(domain):
    cookies, join_token = prepare(domain)
    load_before = os.getloadavg()
    levers = {
        lever: measure(lever, environment, cookies, join_token)
        for lever, environment in LEVERS.items()
    }
    print(
        json.dumps(
            {
                "gunicorn_workers": WORKERS,
                "wrk_connections": CONNECTIONS,
                "seconds_each": SECONDS,
                "cores": os.cpu_count(),
                "load_average_before": [round(value, 2) for value in load_before],
                "load_average_after": [round(value, 2) for value in os.getloadavg()],
                "levers": levers,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
