"""gunicorn's settings for the web service (Dockerfile, docker-compose.yml), from the environment.

gunicorn --config python:config.gunicorn config.wsgi:application
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gthread: a slow request (Stripe, DNS) holds a thread, not a whole process.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
