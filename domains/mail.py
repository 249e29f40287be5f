"""Mails of the domains app, sent by beat jobs and tasks: each in its reader's language (their
personal meeting settings), with links to BASE_URL since no request is there to name the site."""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from meetings.selectors import meeting_settings_of
from tenancy.models import User


def absolute_url(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def mail_user(user: User, template: str, context: dict[str, Any]) -> None:
    """Render `<template>_subject.txt` and `<template>_message.txt` for `user` and send them."""
    personal = meeting_settings_of(user)
    with translation.override(personal.language if personal else settings.LANGUAGE_CODE):
        context = {**context, "user": user}
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}_message.txt", context)
    EmailMessage(subject=subject, body=body, to=[user.email]).send()
