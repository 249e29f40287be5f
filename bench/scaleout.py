"""Scale-out shown on one machine: two gunicorn instances behind HAProxy, two Celery worker nodes
and one beat, on loopback, with the production settings, driven by bench/load.py; then a second
beat started by mistake. Writes bench/results/scaleout.json and prints it.

    .venv/bin/python bench/scaleout.py [--users 100] [--seconds 30] [--claims 20]

What it checks (each figure is in the result, `problems` lists what failed):
- the load through the balancer has no errors, and both instances served it;
- a session made through the balancer is honoured by each instance called directly;
- failed sign-ins to one account count across both instances (allauth's limit, in Redis);
- an announcement to every member is mailed once, by the two worker nodes together;
- pending domain claims whose check is overdue are checked once each (DNS queries counted by
  the DNS server) while beat sweeps every 2 s, and the same with a second beat running, which
  sends no sweep while the first holds the lease (core/beat.py).

Needs PostgreSQL and Redis (scripts/ensure-services.sh) and HAProxy (Debian's package: `make
bench` installs it). Uses bench/load.py's database (quorum_load) and Redis database (5).
"""

import argparse
import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load as load_bench  # noqa: E402  (after the path)

BALANCER_PORT, INSTANCE_PORTS = 8770, (8771, 8772)
BASE = f"http://127.0.0.1:{BALANCER_PORT}"
QUEUE = "quorum-scaleout"
SWEEP_SECONDS = 2
VENV = ROOT / ".venv" / "bin"
HAPROXY = "/usr/sbin/haproxy"


class Sink:
    """Counts the recipients of every message the workers send."""

    def __init__(self):
        self.recipients = Counter()

    async def handle_DATA(self, server, session, envelope):
        self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def haproxy_config(folder):
    servers = "\n".join(
        f"  server web{index} 127.0.0.1:{port} check inter 2s fall 5"
        for index, port in enumerate(INSTANCE_PORTS, 1)
    )
    path = Path(folder) / "haproxy.cfg"
    path.write_text(
        f"""global
  maxconn 2000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  # A shared 2-core machine answers slowly while a wave of sign-ins hashes passwords: a probe
  # waits up to 10 s and an instance is out after 5 failed probes, not at the first slow one.
  timeout check 10s
frontend quorum
  bind 127.0.0.1:{BALANCER_PORT}
  # As in production: the balancer adds the address it saw to X-Forwarded-For.
  option forwardfor
  default_backend web
backend web
  balance roundrobin
  option httpchk GET /healthz
  # Which instance answered, for the figures.
  http-response set-header X-Served-By %s
{servers}
"""
    )
    return path


def wait_until(condition, what, timeout=300):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout} s")
        time.sleep(0.2)


def answers(url):
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except OSError:
        return False


def get(url, cookie="", forwarded="198.51.100.250"):
    """(status, body, instance) of a GET; `forwarded` as the balancer would write it."""
    headers = {"Cookie": cookie, "X-Forwarded-For": forwarded}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), response.headers["X-Served-By"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers["X-Served-By"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_form(url, fields, cookies, forwarded):
    """POST a form with its CSRF token (from `cookies`, a dict kept up to date)."""
    from urllib.parse import urlencode

    data = urlencode({**fields, "csrfmiddlewaretoken": cookies.get("csrftoken", "")}).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "X-Forwarded-For": forwarded,
            "Referer": url,
        },
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    return response.status, response.read().decode(), response.headers["X-Served-By"]


def sign_in(email, password, forwarded):
    """Sign in through the balancer; the cookies of the session."""
    cookies = {}
    _, _, _ = get_with_cookies(BASE + "/accounts/login/", cookies, forwarded)
    status, _, _ = post_form(
        BASE + "/accounts/login/", {"login": email, "password": password}, cookies, forwarded
    )
    return status, cookies


def get_with_cookies(url, cookies, forwarded):
    request = urllib.request.Request(
        url,
        headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "X-Forwarded-For": forwarded,
        },
    )
    with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        return response.status, response.read().decode(), response.headers["X-Served-By"]


def sessions_shared(email, password):
    """A session made through the balancer, used at each instance directly."""
    status, cookies = sign_in(email, password, "198.51.100.251")
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    direct = {
        f"127.0.0.1:{port}": get(
            f"http://127.0.0.1:{port}/meetings/", cookie, "198.51.100.251, 127.0.0.1"
        )[0]
        for port in INSTANCE_PORTS
    }
    return {"sign_in_status": status, "my_meetings_status_by_instance": direct}


def rate_limit_shared(email):
    """Wrong passwords for one account through the balancer: allauth allows 5 per 5 minutes per
    account (ACCOUNT_RATE_LIMITS' login_failed); the count must span both instances."""
    attempts = []
    cookies = {}
    get_with_cookies(BASE + "/accounts/login/", cookies, "198.51.100.252")  # the CSRF cookie
    for _ in range(8):  # round robin: each attempt goes to the other instance
        status, page, instance = post_form(
            BASE + "/accounts/login/",
            {"login": email, "password": "wrong-password"},
            cookies,
            "198.51.100.252",
        )
        limited = status == 429 or "Too many failed login attempts" in page
        attempts.append({"instance": instance, "status": status, "limited": limited})
    return attempts


def start(name, argv, environ, logs):
    log = open(Path(logs) / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(argv, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT), log


def worker_argv(name):
    return [
        str(VENV / "celery"),
        "-A",
        "config",
        "worker",
        "-Q",
        QUEUE,
        "--concurrency",
        "2",
        "--loglevel",
        "INFO",
        "--hostname",
        f"{name}@scaleout",
    ]


def beat_argv(folder, name):
    return [
        str(VENV / "celery"),
        "-A",
        "config",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(Path(folder) / f"{name}-schedule"),
    ]


def sweeps_sent(logs, name):
    text = (Path(logs) / f"{name}.log").read_text()
    return text.count("Sending due task")


def overdue_claims(count, dns_records):
    """`count` tenants with one pending claim each, its check overdue (a lost message) and its
    TXT record published: each needs exactly one DNS check to be verified."""
    from django.utils import timezone

    from domains.devdns import add_txt
    from domains.models import DomainClaim
    from tenancy.models import Membership, Tenant, User

    stamp = int(time.time())
    claims = []
    for index in range(count):
        tenant = Tenant.objects.create(domain=f"claim{index}-{stamp}.scaleout.test")
        user = User.objects.create_user(email=f"ann@{tenant.domain}", password=None)
        Membership.objects.unscoped().create(user=user, tenant=tenant)
        long_ago = timezone.now() - timedelta(minutes=10)
        claim = DomainClaim.objects.unscoped().create(
            tenant=tenant,
            claimant=user,
            created_at=long_ago,
            next_check_at=long_ago,
            expires_at=timezone.now() + timedelta(days=3),
        )
        add_txt(dns_records, tenant.domain, claim.record_value)
        claims.append(claim.pk)
    return claims


def claims_checked(claim_ids):
    from domains.models import DomainClaim

    rows = DomainClaim.objects.unscoped().filter(pk__in=claim_ids)
    return {
        "verified": rows.filter(status=DomainClaim.Status.VERIFIED).count(),
        "checks": sum(rows.values_list("attempts", flat=True)),
    }


def announce_to_everyone(sink):
    from config.celery import app
    from tenancy.models import AnnouncementDelivery, Membership
    from tenancy.services.announcements import create_announcement
    from tenancy.tasks import queue_announcement

    author = (
        Membership.objects.unscoped()
        .select_related("user", "tenant")
        .filter(tenant__domain="contoso.load", role=Membership.Role.ADMIN)
        .first()
    )
    announcement = create_announcement(
        tenant=author.tenant, actor=author.user, subject="Scale-out", body="Mailed once each."
    )
    started = time.monotonic()
    queue_announcement(announcement.pk)
    unsent = AnnouncementDelivery.objects.unscoped().filter(
        announcement=announcement, sent_at=None, failed_at=None
    )
    wait_until(lambda: not unsent.exists(), "the announcement's delivery", timeout=300)
    workers = app.control.inspect(destination=["worker1@scaleout", "worker2@scaleout"]).stats()
    recipients = AnnouncementDelivery.objects.unscoped().filter(announcement=announcement)
    return {
        "recipients": recipients.count(),
        "seconds": round(time.monotonic() - started, 1),
        "mails_received": sum(sink.recipients.values()),
        "mailed_twice": sum(1 for count in sink.recipients.values() if count > 1),
        "not_mailed": recipients.count() - len(sink.recipients),
        "tasks_by_worker_node": {
            name: sum(stats.get("total", {}).values()) for name, stats in (workers or {}).items()
        },
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--claims", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="quorum-scaleout-")
    dns_records = Path(folder) / "dns.json"
    dns_records.write_text("{}")
    smtp_port = free_port()
    environ = {
        **load_bench.ENV,
        "CELERY_BROKER_URL": load_bench.ENV["REDIS_URL"],
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "BEAT_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        # The simulated people's own address, then the one HAProxy saw (127.0.0.1) and added.
        "ALLAUTH_TRUSTED_PROXY_COUNT": "2",
    }
    processes = []

    def run(name, argv):
        processes.append((name, *start(name, argv, environ, folder)))

    stripe = subprocess.Popen(
        [str(VENV / "localstripe"), "--port", str(load_bench.STRIPE_PORT), "--from-scratch"],
        cwd="/tmp",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        load_bench.prepare(args.users)
        os.environ.update(environ)
        import django

        django.setup()
        from aiosmtpd.controller import Controller

        from config.celery import app
        from domains.devdns import DevDNSServer

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        app.control.purge()
        sink = Sink()
        smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        dns = DevDNSServer(str(dns_records))
        dns.start()
        environ["DNS_NAMESERVERS"] = dns.address
        for index, port in enumerate(INSTANCE_PORTS, 1):
            run(
                f"web{index}",
                [
                    str(VENV / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--worker-class",
                    "gthread",
                    "--log-level",
                    "warning",
                ],
            )
        run("haproxy", [HAPROXY, "-f", str(haproxy_config(folder)), "-db"])
        run("worker1", worker_argv("worker1"))
        run("worker2", worker_argv("worker2"))
        for port in (*INSTANCE_PORTS, BALANCER_PORT):
            wait_until(
                lambda port=port: answers(f"http://127.0.0.1:{port}/healthz"), f"web on {port}"
            )
        wait_until(
            lambda: len(app.control.ping(timeout=1) or []) >= 2, "two worker nodes answering"
        )

        started = time.monotonic()
        table = asyncio.run(load_bench.load(args.users, args.seconds, BASE))
        elapsed = time.monotonic() - started
        served = Counter(get(BASE + "/healthz")[2] for _ in range(20))
        from bench.seed_load import emails

        people = emails(args.users)
        sessions = sessions_shared(people[-1], load_bench.PASSWORD)
        limits = rate_limit_shared(people[-2])
        mail = announce_to_everyone(sink)

        # DNS checks, first with one beat, then with a second one started by mistake.
        run("beat1", beat_argv(folder, "beat1"))
        rounds = {}
        for label in ("one beat", "two beats"):
            if label == "two beats":
                run("beat2", beat_argv(folder, "beat2"))
                wait_until(
                    lambda: "waits: another beat sends" in (Path(folder) / "beat2.log").read_text(),
                    "the second beat's first tick",
                )
            queries_before = dns.query_count
            sweeps_before = {
                name: sweeps_sent(folder, name)
                for name in ("beat1", "beat2")
                if (Path(folder) / f"{name}.log").exists()
            }
            claims = overdue_claims(args.claims, str(dns_records))
            wait_until(
                lambda claims=claims: claims_checked(claims)["verified"] == len(claims),
                f"claims verified ({label})",
                timeout=120,
            )
            time.sleep(3 * SWEEP_SECONDS)  # more sweeps: none may check a claim again
            rounds[label] = {
                "claims": len(claims),
                **claims_checked(claims),
                "dns_queries": dns.query_count - queries_before,
                "sweeps_sent_by": {
                    name: sweeps_sent(folder, name) - sweeps_before.get(name, 0)
                    for name in ("beat1", "beat2")
                    if (Path(folder) / f"{name}.log").exists()
                },
            }
    finally:
        for _name, process, _log in reversed(processes):
            process.terminate()
        for _name, process, log in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
        stripe.terminate()
        stripe.wait(timeout=20)
    total = sum(row["requests"] for row in table.values())
    result = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "cores": os.cpu_count(),
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "instances": {"gunicorn": 2, "workers_each": 2, "threads_each": 4},
        "requests": total,
        "errors": sum(row["errors"] for row in table.values()),
        "requests_per_second": round(total / elapsed, 1),
        "healthz_served_by": dict(served),
        "by_kind": table,
        "sessions": sessions,
        "failed_sign_ins": limits,
        "announcement": mail,
        "dns_checks": rounds,
    }
    result["problems"] = problems(result)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scaleout.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def problems(result):
    found = []
    if result["errors"]:
        found.append(f"{result['errors']} errors under load")
    if len(result["healthz_served_by"]) != 2:
        found.append("the balancer did not use both instances")
    if set(result["sessions"]["my_meetings_status_by_instance"].values()) != {200}:
        found.append("a session was not honoured by both instances")
    limits = result["failed_sign_ins"]
    first_limited = next((i for i, row in enumerate(limits) if row["limited"]), None)
    if first_limited is None or first_limited > 5 or len({r["instance"] for r in limits}) != 2:
        found.append("failed sign-ins were not counted across instances")
    mail = result["announcement"]
    if mail["mailed_twice"] or mail["not_mailed"]:
        found.append("the announcement was not mailed exactly once to everyone")
    for label, row in result["dns_checks"].items():
        if row["checks"] != row["claims"] or row["dns_queries"] != row["claims"]:
            found.append(f"DNS checks doubled or missing with {label}")
    if result["dns_checks"].get("two beats", {}).get("sweeps_sent_by", {}).get("beat2"):
        found.append("the second beat sent sweeps")
    return found


if __name__ == "__main__":
    main()
