"""Benchmark 3: requests per second of the dashboard, "my meetings" and a meeting's join page,
under gunicorn with the production settings and wrk's concurrent clients, next to /healthz (a
bare Django view returning "ok") on the same server in the same run.

    python bench/throughput.py DOMAIN     (an upgraded tenant of the bench database; JSON line)
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORT = 8768
BASE = f"http://127.0.0.1:{PORT}"
# As docker-compose.yml runs the web service; 5 (gunicorn's 2 x cores + 1) measured lower here.
WORKERS = 3
CONNECTIONS, SECONDS = 16, 10
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    SECRET_KEY=secrets.token_urlsafe(60),
    ALLOWED_HOSTS="127.0.0.1",
    SECURE_SSL_REDIRECT="false",
    CACHE_URL="redis://127.0.0.1:6379/8",
    REDIS_URL="redis://127.0.0.1:6379/8",
    EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
)


def prepare(domain):
    """Sessions for the tenant's admin and for one of its members, and a meeting to join."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
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
    for name, user in (("admin", admin), ("member", member)):
        client = Client()
        client.force_login(user)
        cookies[name] = f"sessionid={client.cookies['sessionid'].value}"
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


def main(domain):
    cookies, join_token = prepare(domain)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(WORKERS),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pages = {
        "dashboard (admin)": ("/admin/", cookies["admin"]),
        "my meetings": ("/meetings/", cookies["admin"]),
        "join page (member)": (f"/meetings/j/{join_token}/", cookies["member"]),
    }
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(BASE + "/healthz", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        for path, cookie in [("/healthz", cookies["admin"]), *pages.values()]:
            request = urllib.request.Request(BASE + path, headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200, (path, response.status)
        # The bare view before and after the pages: the machine's drift shows between the two.
        before = wrk("/healthz", cookies["admin"])
        results = {name: wrk(path, cookie) for name, (path, cookie) in pages.items()}
        after = wrk("/healthz", cookies["admin"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare = (before["requests_per_second"] + after["requests_per_second"]) / 2
    for row in results.values():
        row["percent_of_bare_view"] = round(100 * row["requests_per_second"] / bare, 1)
    print(
        json.dumps(
            {
                "gunicorn_workers": WORKERS,
                "wrk_connections": CONNECTIONS,
                "seconds_each": SECONDS,
                "bare_view_before": before,
                "bare_view_after": after,
                "pages": results,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
