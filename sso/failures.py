"""A sign-in through an identity provider that failed: why, in the reader's language, on one
page; the tenant's audit log keeps it. Nobody is signed in by a failed sign-in."""

import jwt
import requests
from allauth.socialaccount.providers.base.constants import AuthError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from tenancy.models import User

from .models import SsoConnection
from .services import record_sign_in_failure


class Reason:
    UNREACHABLE = "unreachable"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    REPLAYED = "replayed"
    BAD_STATE = "bad_state"
    BAD_NONCE = "bad_nonce"
    CANCELLED = "cancelled"
    NO_ADDRESS = "no_address"
    UNTRUSTED_ADDRESS = "untrusted_address"
    NOT_READY = "not_ready"
    REFUSED = "refused"


EXPLANATIONS = {
    Reason.UNREACHABLE: _(
        "Your organisation's identity provider could not be reached. Try again in a few "
        "minutes; if it keeps failing, tell your IT department."
    ),
    Reason.WRONG_AUDIENCE: _(
        "The identity provider's answer was meant for another application (wrong audience). "
        "Your IT department needs to check Quorum's settings at the identity provider."
    ),
    Reason.EXPIRED: _(
        "The identity provider's answer has expired, or its clock is behind Quorum's by more "
        "than allowed. Please sign in again."
    ),
    Reason.NOT_YET_VALID: _(
        "The identity provider's answer is dated in the future: its clock is ahead of "
        "Quorum's by more than allowed. Your IT department needs to check its clock."
    ),
    Reason.UNSIGNED: _(
        "The identity provider's answer was not signed, so it cannot be trusted. Your IT "
        "department needs to have the identity provider sign its assertions."
    ),
    Reason.BAD_SIGNATURE: _(
        "The signature of the identity provider's answer does not match its certificate. Your "
        "IT department needs to save the identity provider's current metadata in Quorum."
    ),
    Reason.REPLAYED: _(
        "This answer from the identity provider was already used, or it belongs to a sign-in "
        "that was not started in this browser. Please sign in again."
    ),
    Reason.BAD_STATE: _(
        "This sign-in was not started in this browser, or it took too long. Please sign in again."
    ),
    Reason.BAD_NONCE: _(
        "The identity provider's answer does not belong to this sign-in (its nonce does not "
        "match). Please sign in again."
    ),
    Reason.CANCELLED: _("The sign-in was cancelled at the identity provider."),
    Reason.NO_ADDRESS: _(
        "The identity provider did not give a work e-mail address that Quorum accepts "
        "(personal addresses, such as Gmail's, are not). Your IT department needs to have it "
        "send people's work addresses."
    ),
    Reason.UNTRUSTED_ADDRESS: _(
        "The identity provider signed you in as %(email)s, which is not at a domain that "
        "%(organisation)s has proved it owns: Quorum does not accept it."
    ),
    Reason.NOT_READY: _(
        "Single sign-on is not ready for this organisation yet: an admin has to test it first."
    ),
    Reason.REFUSED: _(
        "The identity provider refused the sign-in, or its answer could not be read. Please "
        "try again; if it keeps failing, tell your IT department."
    ),
}

# What python3-saml says (OneLogin_Saml2_Response.is_valid), by the reason it stands for.
SAML_REASONS = [
    ("audience", Reason.WRONG_AUDIENCE),
    ("expired", Reason.EXPIRED),
    ("not yet valid", Reason.NOT_YET_VALID),
    ("no signature found", Reason.UNSIGNED),
    ("is not signed", Reason.UNSIGNED),
    ("signature validation failed", Reason.BAD_SIGNATURE),
    ("invalid signature", Reason.BAD_SIGNATURE),
]
# What PyJWT says of an ID token (allauth's OIDC provider wraps it in an OAuth2Error).
TOKEN_REASONS = [
    (jwt.InvalidAudienceError, Reason.WRONG_AUDIENCE),
    (jwt.ExpiredSignatureError, Reason.EXPIRED),
    (jwt.ImmatureSignatureError, Reason.NOT_YET_VALID),
]


def reason_of(
    *, error: str | None, exception: BaseException | None, extra_context: dict
) -> tuple[str, str]:
    """The reason an allauth provider gave up (`on_authentication_error`'s arguments), and the
    technical detail for the audit log."""
    saml_detail = str(extra_context.get("saml_last_error_reason") or "")
    cause = exception.__cause__ if exception is not None else None
    detail = saml_detail or str(cause or exception or error or "")
    if error == AuthError.CANCELLED:
        return Reason.CANCELLED, detail
    if isinstance(exception, requests.RequestException):
        return Reason.UNREACHABLE, detail
    for error_class, reason in TOKEN_REASONS:
        if isinstance(cause, error_class):
            return reason, detail
    for fragment, reason in SAML_REASONS:
        if fragment in saml_detail.lower():
            return reason, detail
    if "state_id" in extra_context and "state" not in extra_context:
        return Reason.BAD_STATE, detail or "state"
    return Reason.REFUSED, detail


def sign_in_failed(
    request: HttpRequest,
    *,
    connection: SsoConnection,
    reason: str,
    detail: str = "",
    testing: bool = False,
    email: str = "",
    next_url: str = "",
) -> HttpResponse:
    """Audit the failure in the connection's tenant and show the page that explains it."""
    actor = request.user if isinstance(request.user, User) else None
    record_sign_in_failure(
        connection=connection,
        actor=actor,
        action="sso.test_failed" if testing else "sso.sign_in_failed",
        reason=reason,
        detail=detail or email,
    )
    explanation = EXPLANATIONS[reason] % {
        "email": email,
        "organisation": connection.tenant.domain,
    }
    context = {"explanation": explanation, "testing": testing, "next_url": next_url}
    return render(request, "sso/failed.html", context, status=400)
