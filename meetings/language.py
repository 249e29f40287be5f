"""A signed-in person's pages speak the language of their personal setting (MeetingSettings),
once it was chosen; until then, their browser's.

The language is read once, when they sign in, and kept in their session; the pages that change
the setting keep it there too. It also goes into the language cookie, so that the pages after
signing out (the sign-in page) speak it as well."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from tenancy.models import User

from . import selectors

SESSION_KEY = "personal_language"


def remember_personal_language(request: HttpRequest, user: User) -> str:
    """Read the signed-in person's language setting into their session and use it from now on
    (a message added next is already in it)."""
    language = selectors.personal_language(user)
    request.session[SESSION_KEY] = language
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language
    return language


def remember_on_sign_in(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    # Signing in outside a request (a test client's force_login has one; a script may not).
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = selectors.personal_language(user)


class PersonalLanguageMiddleware:
    """After the authentication middleware: a signed-in person's language is their setting's,
    whatever their browser asks for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            language = request.session.get(SESSION_KEY)
            if language is None:  # a session from before this setting was kept in it
                language = remember_personal_language(request, user)
            if language:  # "": no choice made, the browser's language stands
                translation.activate(language)
                request.LANGUAGE_CODE = language
        response = self.get_response(request)
        language = request.session.get(SESSION_KEY) if request.user.is_authenticated else None
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
