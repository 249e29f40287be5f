#!/usr/bin/env bash
# The tests need PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379): start them if down.
# Services already answering are left as they are, so running this twice changes nothing.
set -euo pipefail
sudo=$( [ "$(id -u)" -eq 0 ] || echo sudo )

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "Starting PostgreSQL"
  # Debian's packages made the cluster "<version>/main"; no systemd is needed to start it.
  $sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  $sudo mkdir -p /var/lib/redis /var/log/redis
  $sudo redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
