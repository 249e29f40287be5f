FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . \
    && DJANGO_SETTINGS_MODULE=config.settings.local python manage.py compilemessages --ignore=.venv \
    && SECRET_KEY=build-only-$(head -c 64 /dev/urandom | base64 | tr -d '\n') \
       STRIPE_WEBHOOK_SECRET=whsec_build-only-$(head -c 32 /dev/urandom | base64 | tr -d '\n') \
       python manage.py collectstatic --noinput --settings=config.settings.production
EXPOSE 8000
