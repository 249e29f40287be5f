"""`make run` as a newcomer starts it: its own settings (config/settings/local.py) on a SQLite
file, several writers at once, and localstripe's store kept in the checkout."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import stripe
from stripe._api_version import _ApiVersion

from tests.fixtures import stripe_examples as examples
from tests.fixtures.stripe import SECRET_KEY, free_port, start_localstripe

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec_make_run_test"
WEBHOOKS_PER_THREAD = 40
WEBHOOK_THREADS = 6
SIGN_UPS = 120

# The second process: people signing up (the worker's and the sign-up page's kind of write:
# a transaction that reads the tenant, then writes), while the web server takes webhooks.
SIGN_UP_SCRIPT = f"""
import json
from allauth.account.models import EmailAddress
from django.db import connection
from tenancy.models import User
from tenancy.services.membership import join_tenant_of_verified_email

errors = []
for number in range({SIGN_UPS}):
    email = f"person{{number}}@contoso.test"
    try:
        user = User.objects.create_user(email=email, name=f"Person {{number}}")
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        join_tenant_of_verified_email(user=user, email=email)
    except Exception as error:
        errors.append(repr(error))
with connection.cursor() as cursor:
    journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
print(json.dumps({{
    "errors": errors,
    "journal_mode": journal_mode,
    "transaction_mode": connection.transaction_mode,
}}))
"""


def make_run_env(tmp_path):
    """`make run`'s settings on a SQLite file of the test's own; no broker or store shared with
    a real `make run` of this checkout."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "QUORUM_RUN_DIR": str(tmp_path / "run"),
        "CELERY_BROKER_URL": "memory://",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def wait_for(url, process, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.2)


def signed_webhook(url, number):
    """A Stripe event as localstripe posts it, signed the way stripe.Webhook checks."""
    payload = json.dumps(
        {
            "id": f"evt_make_run_{number}",
            "object": "event",
            "type": "invoice.paid",
            "api_version": _ApiVersion.CURRENT,
            "created": int(time.time()),
            "data": {"object": examples.invoice(id=f"in_{number}", subscription_id="sub_x")},
        }
    )
    stamp = int(time.time())
    signature = hmac.new(
        WEBHOOK_SECRET.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        headers={"Stripe-Signature": f"t={stamp},v1={signature}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_make_run_takes_webhooks_and_sign_ups_at_once_without_database_is_locked(tmp_path):
    env = make_run_env(tmp_path)
    manage(env, "migrate", "--noinput", "-v0")
    port = free_port()
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        sign_ups = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-v0", "-c", SIGN_UP_SCRIPT],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}/stripe/webhook/"
        with ThreadPoolExecutor(WEBHOOK_THREADS) as pool:
            statuses = list(
                pool.map(
                    lambda number: signed_webhook(url, number),
                    range(WEBHOOKS_PER_THREAD * WEBHOOK_THREADS),
                )
            )
        out, err = sign_ups.communicate(timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()

    assert sign_ups.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == []
    assert (report["journal_mode"], report["transaction_mode"]) == ("wal", "IMMEDIATE")
    assert statuses == [200] * len(statuses)
    server_log = (tmp_path / "runserver.log").read_text()
    assert "database is locked" not in server_log
    assert "Traceback" not in server_log
    counted = manage(
        env,
        "shell",
        "-v0",
        "-c",
        "from licensing.models import StripeEvent; from tenancy.models import Membership;"
        "print(StripeEvent.objects.count(), Membership.objects.unscoped().count())",
    )
    assert counted.stdout.split() == [str(len(statuses)), str(SIGN_UPS)]


def test_the_dev_dns_command_the_wizard_shows_runs_in_this_checkout(tmp_path):
    """What the domain page tells a newcomer to type works as typed, from the project folder."""
    from wizard.views import dev_dns_command

    command = dev_dns_command("contoso.test", "quorum-verification=abc123")
    assert command.startswith(".venv/bin/python manage.py dev_dns add contoso.test ")
    env = make_run_env(tmp_path)
    subprocess.run(command, shell=True, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S602
    records = json.loads((tmp_path / "run" / "dns-records.json").read_text())
    assert records["txt"]["contoso.test"] == ["quorum-verification=abc123"]


def test_localstripe_keeps_its_data_in_the_store_it_is_given(tmp_path):
    first = tmp_path / "checkout"
    first.mkdir()
    server = start_localstripe(free_port(), first, from_scratch=False)
    try:
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": server.url})
        customer = client.v1.customers.create(params={"email": "rob@contoso.test"})
    finally:
        server.stop()
    assert (first / "localstripe.pickle").exists()

    again = start_localstripe(free_port(), first, from_scratch=False)
    try:
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": again.url})
        assert [c.id for c in client.v1.customers.list().data] == [customer.id]
    finally:
        again.stop()

    # Another checkout (a fresh clone) starts empty: nothing of the first one shows.
    other = tmp_path / "fresh-clone"
    other.mkdir()
    fresh = start_localstripe(free_port(), other, from_scratch=False)
    try:
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": fresh.url})
        assert client.v1.customers.list().data == []
    finally:
        fresh.stop()


def test_make_run_keeps_localstripe_under_run():
    script = (ROOT / "scripts" / "run-dev.sh").read_text()
    assert "LOCALSTRIPE_STORE=.run/localstripe.pickle" in script
    assert "scripts/run_localstripe.py" in script
    assert ".venv/bin/localstripe" not in script
