#!/usr/bin/env bash
# `make run`: SQLite, demo data, local DNS, localstripe, Celery worker + beat, the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.local
mkdir -p .run/broker .run/broker-processed .run/broker-control .run/cache

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py load_demo
.venv/bin/python manage.py load_demo_meetings

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Local DNS for the demo domain: publish the wizard's record with `manage.py dev_dns add`.
export DNS_NAMESERVERS=127.0.0.1:5353
.venv/bin/python manage.py dev_dns add contoso.test "v=spf1 -all" >/dev/null
.venv/bin/python manage.py dev_dns serve --port 5353 >.run/dns.log 2>&1 &
pids+=($!)
echo "DNS server for contoso.test on 127.0.0.1:5353: log in .run/dns.log"

# localstripe: Stripe in test mode on loopback; its customers and subscriptions are kept in
# .run/localstripe.pickle from one run to the next (this checkout's, no other's).
LOCALSTRIPE_STORE=.run/localstripe.pickle .venv/bin/python scripts/run_localstripe.py --port 8420 \
  >.run/localstripe.log 2>&1 &
pids+=($!)
.venv/bin/python - <<'EOF'
import socket, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", 8420), timeout=0.2).close()
        break
    except OSError:
        time.sleep(0.1)
EOF
.venv/bin/python manage.py sync_stripe_plans
.venv/bin/python manage.py register_stripe_webhook http://127.0.0.1:8000/stripe/webhook/
echo "localstripe on 127.0.0.1:8420 (test card 4242 4242 4242 4242): log in .run/localstripe.log"

.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule=.run/celerybeat-schedule >.run/celery.log 2>&1 &
pids+=($!)
echo "Celery worker and beat: log in .run/celery.log"

echo "Quorum is on http://127.0.0.1:8000 (e-mails are printed below)"
.venv/bin/python manage.py runserver 127.0.0.1:8000
