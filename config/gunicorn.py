"""gunicorn's settings for the web service (Dockerfile, docker-compose.yml), from the environment.

gunicorn --config python:config.gunicorn config.wsgi:application
"""

import os

from core.logging import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gthread: a slow request (Stripe, DNS) holds a thread, not a whole process.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

# gunicorn's own lines (errors, and one access line per request, carrying the request's context)
# through the same handler as Django's: JSON unless LOG_FORMAT says "text".
logconfig_dict = logging_config(
    json=os.environ.get("LOG_FORMAT", "json") == "json",
    level=os.environ.get("LOG_LEVEL", "INFO"),
)
logconfig_dict["loggers"] |= {
    "gunicorn.error": {"propagate": True},
    "gunicorn.access": {"propagate": True},
}
