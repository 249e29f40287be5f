#!/usr/bin/env bash
# `make run`: SQLite, demo data, a Celery worker with beat on a filesystem broker, the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.local
mkdir -p .run/broker .run/broker-processed .run/cache

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

.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule=.run/celerybeat-schedule >.run/celery.log 2>&1 &
pids+=($!)
echo "Celery worker and beat: log in .run/celery.log"

echo "Quorum is on http://127.0.0.1:8000 (e-mails are printed below)"
.venv/bin/python manage.py runserver 127.0.0.1:8000
