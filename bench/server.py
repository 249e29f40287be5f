"""The server the HTTP benchmarks measure: gunicorn with `config.settings.production` on
loopback, and the CPU time its workers and their PostgreSQL backends spend.

Importing this module sets the production environment (a fresh secret key, Redis on the bench's
own database, no e-mail), so the scripts importing it also run Django with those settings.
"""

import base64
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Another port and Redis database let two checkouts measure at once without meeting.
PORT = int(os.environ.get("BENCH_PORT", "8768"))
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
BASE = f"http://127.0.0.1:{PORT}"
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    SECRET_KEY=secrets.token_urlsafe(60),
    STRIPE_WEBHOOK_SECRET="whsec_" + secrets.token_urlsafe(32),
    SSO_ENCRYPTION_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    ALLOWED_HOSTS="127.0.0.1",
    SECURE_SSL_REDIRECT="false",
    CACHE_URL=REDIS,
    REDIS_URL=REDIS,
    EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
)


def serve(environment, options):
    """gunicorn on PORT with `options` and `environment` over the production one, once it
    answers /healthz."""
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            *options,
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            # A worker booting on a loaded machine may take longer than gunicorn's 30 s, which
            # would kill it and boot another, forever.
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # a loaded machine boots the workers slowly
    while True:
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=1).close()
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)


def cpu_seconds(pid):
    """User and system CPU time of a process so far (0 once it is gone), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def serving_pids(server):
    """gunicorn's workers, and the PostgreSQL backends of the bench database (theirs)."""
    from django.db import connection

    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [row[0] for row in cursor.fetchall()]
    return {"gunicorn": [int(pid) for pid in children], "postgresql": backends}
