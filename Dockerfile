# syntax=docker/dockerfile:1
# Two images from one file: `app` (web, worker, beat and the one-shot migrate and stripe-setup of
# docker-compose.yml) and `localstripe` (Stripe in test mode). Versions are pinned: the base
# image by tag, Python packages by requirements/*.txt (scripts/pin-requirements.py), Debian's
# gettext by version. Both run as an unprivileged user.
FROM python:3.12.7-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 quorum \
    && useradd --system --uid 10001 --gid quorum --no-create-home --shell /usr/sbin/nologin quorum

FROM base AS localstripe
COPY requirements/localstripe.txt /tmp/requirements.txt
RUN pip install --no-deps -r /tmp/requirements.txt
USER quorum
# localstripe keeps its store in /tmp; --from-scratch starts empty at every start.
WORKDIR /tmp
EXPOSE 8420
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=12 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8420/js.stripe.com/v3/', timeout=2)"]
CMD ["localstripe", "--port", "8420", "--from-scratch"]

# Compiles the translations and collects the static files, with tools the app image leaves out.
FROM base AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext=0.21-12 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements/app.txt /tmp/requirements.txt
RUN pip install --no-deps -r /tmp/requirements.txt
WORKDIR /app
COPY . .
RUN DJANGO_SETTINGS_MODULE=config.settings.local python manage.py compilemessages -v0 \
    && SECRET_KEY=build-only-$(head -c 64 /dev/urandom | base64 | tr -d '\n') \
       STRIPE_WEBHOOK_SECRET=whsec_build-only-$(head -c 32 /dev/urandom | base64 | tr -d '\n') \
       SSO_ENCRYPTION_KEYS=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_') \
       python manage.py collectstatic --noinput -v0 --settings=config.settings.production

FROM base AS app
COPY requirements/app.txt /tmp/requirements.txt
RUN pip install --no-deps -r /tmp/requirements.txt
COPY --from=build /app /app
WORKDIR /app
ENV PYTHONPATH=/app DJANGO_SETTINGS_MODULE=config.settings.production
USER quorum
EXPOSE 8000
# Liveness only (no query); readiness is /readyz, for the orchestrator's own probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["gunicorn", "--config", "python:config.gunicorn", "config.wsgi:application"]
