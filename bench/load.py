"""Load held: simulated users sign in, open their pages, schedule and join meetings, against
gunicorn with the production settings on loopback. Writes figures to bench/results/load.json.

    .venv/bin/python bench/load.py [--users 200] [--seconds 60]

Needs the machine's PostgreSQL and Redis (scripts/ensure-services.sh); starts its own
localstripe and gunicorn, and uses its own database (quorum_load) and Redis database (5).
"""

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORT, STRIPE_PORT = 8765, 8766
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "Load-Test-Pass-2468"
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/quorum_load",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
    "CACHE_URL": "redis://127.0.0.1:6379/5",
    "STRIPE_API_BASE": f"http://127.0.0.1:{STRIPE_PORT}",
    "STRIPE_LOCALSTRIPE": "true",
    "STRIPE_SECRET_KEY": "sk_test_load",
    "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(32),
    "SSO_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    # As behind a load balancer: each simulated person has an address of their own (from the
    # documentation range 198.51.100.0/24 and up: a header value, never contacted).
    "ALLAUTH_TRUSTED_PROXY_COUNT": "1",
}


def run(*argv):
    subprocess.run(argv, cwd=ROOT, env=ENV, check=True)


def prepare(users):
    """A fresh database with one managed tenant of `users` members, bought through localstripe."""
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "quorum_load"], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "quorum_load"], check=True)
    python = str(ROOT / ".venv" / "bin" / "python")
    run(python, "manage.py", "migrate", "-v0")
    run(python, "manage.py", "collectstatic", "--noinput", "-v0")
    run(python, "manage.py", "sync_stripe_plans")
    run(python, "bench/seed_load.py", str(users), PASSWORD)


class Client:
    """One simulated person: own cookies (kept by hand: the production cookies are Secure)."""

    def __init__(self, session, email, index, base=BASE):
        self.session, self.email, self.cookies, self.base = session, email, {}, base
        self.address = f"198.51.{100 + index // 250}.{index % 250 + 1}"

    def _headers(self):
        return {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-Forwarded-For": self.address,
        }

    def _keep(self, response):
        for header in response.headers.getall("Set-Cookie", []):
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]

    async def request(self, method, path, data=None):
        async with self.session.request(
            method, self.base + path, data=data, headers=self._headers(), allow_redirects=False
        ) as response:
            body = await response.text()
            self._keep(response)
            return response.status, body

    async def post_form(self, path, fields):
        fields = {**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        return await self.request("POST", path, fields)


async def person(session, index, email, is_admin, deadline, record, base=BASE):
    client = Client(session, email, index, base)

    async def timed(kind, method, path, data=None):
        started = time.perf_counter()
        try:
            status, body = await (
                client.post_form(path, data) if method == "POST" else client.request("GET", path)
            )
        except (aiohttp.ClientError, TimeoutError):  # counted as an error, the run goes on
            status, body = 599, ""
        record(kind, time.perf_counter() - started, status)
        return status, body

    await timed("login page", "GET", "/accounts/login/")
    status, _ = await timed(
        "sign-in", "POST", "/accounts/login/", {"login": email, "password": PASSWORD}
    )
    if status != 302:
        return
    links = []
    while time.monotonic() < deadline:
        await timed(
            "dashboard" if is_admin else "my meetings",
            "GET",
            "/admin/" if is_admin else "/meetings/",
        )
        await timed("schedule page", "GET", "/meetings/new/")
        status, _page = await timed(
            "schedule",
            "POST",
            "/meetings/new/",
            {
                "title": "Load test",
                "starts_at": "2031-01-15T10:00",
                "ends_at": "2031-01-15T10:30",
                "lobby_bypass": "everyone",
            },
        )
        if status == 302:
            _, page = await client.request("GET", "/meetings/")
            links += re.findall(r"/meetings/j/[\w-]+/", page)[:1]
        if links:
            await timed("join page", "GET", links[-1])


async def load(users, seconds, base=BASE):
    """`users` people at once for `seconds` against `base` (this script's gunicorn, or the load
    balancer of bench/scaleout.py); requests, errors and latencies by kind."""
    from bench.seed_load import emails

    samples, errors = {}, {}

    def record(kind, elapsed, status):
        samples.setdefault(kind, []).append(elapsed)
        if status >= 500 or status in (403, 404, 429, 599):
            errors[kind] = errors.get(kind, 0) + 1

    connector = aiohttp.TCPConnector(limit=users)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *[
                person(session, index, email, index < users // 5, deadline, record, base)
                for index, email in enumerate(emails(users))
            ]
        )
    table = {}
    for kind, values in sorted(samples.items()):
        values.sort()
        table[kind] = {
            "requests": len(values),
            "errors": errors.get(kind, 0),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(values[int(len(values) * 0.95) - 1] * 1000, 1),
        }
    return table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    venv = ROOT / ".venv" / "bin"
    stripe = subprocess.Popen(
        [str(venv / "localstripe"), "--port", str(STRIPE_PORT), "--from-scratch"],
        cwd="/tmp",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    gunicorn = None
    try:
        time.sleep(2)
        prepare(args.users)
        gunicorn = subprocess.Popen(
            [
                str(venv / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(args.workers),
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=ENV,
        )
        time.sleep(3)
        started = time.monotonic()
        table = asyncio.run(load(args.users, args.seconds))
        elapsed = time.monotonic() - started
    finally:
        for process in (gunicorn, stripe):
            if process:
                process.terminate()
                process.wait(timeout=20)
    total = sum(row["requests"] for row in table.values())
    result = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "gunicorn_workers": args.workers,
        "requests": total,
        "errors": sum(row["errors"] for row in table.values()),
        "requests_per_second": round(total / elapsed, 1),
        "by_kind": table,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
