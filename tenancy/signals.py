from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.signals import email_confirmed, user_logged_in
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth.signals import user_login_failed
from django.dispatch import Signal, receiver

from .models import User
from .services.security import record_account_event

# Sent inside the transaction that adds or removes a member of a managed tenant, so that higher
# apps (licensing: give or free a licence) act in the same transaction without tenancy
# importing them. Arguments: tenant, user, actor (None for a self-service sign-up); member_joined
# also new_account, true when the account itself was made in that transaction (it holds nothing).
member_joined = Signal()
member_removed = Signal()


@receiver(email_confirmed)
def join_tenant_when_verified(sender, request, email_address, **kwargs):
    from .services.membership import join_tenant_of_verified_email

    join_tenant_of_verified_email(user=email_address.user, email=email_address.email)


# The audit log's sign-ins and second factors, from allauth's and Django's signals. The actor
# is the person, signed in or signing in; a failed sign-in has none we can vouch for.


def _ip(request) -> str:
    return get_account_adapter().get_client_ip(request) if request is not None else ""


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs):
    record_account_event(
        user=user, actor=user, action="user.signed_in", details={"ip": _ip(request)}
    )


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs):
    email = credentials.get("email") or credentials.get("username") or ""
    # Finding whose account was tried crosses tenants: the address decides the tenant.
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is None:  # no such account: no tenant's log to write to
        return
    record_account_event(
        user=user, actor=None, action="user.sign_in_failed", details={"ip": _ip(request)}
    )


@receiver(mfa_signals.authentication_failed)
def audit_wrong_code(sender, request, user, authenticator, **kwargs):
    record_account_event(
        user=user,
        actor=user,
        action="user.second_factor_refused",
        details={"type": authenticator.type, "ip": _ip(request)},
    )


@receiver(mfa_signals.authenticator_added)
def audit_factor_added(sender, request, user, authenticator, **kwargs):
    record_account_event(
        user=user,
        actor=user,
        action="user.second_factor_added",
        details={"type": authenticator.type, "name": str(authenticator)},
    )


@receiver(mfa_signals.authenticator_removed)
def audit_factor_removed(sender, request, user, authenticator, **kwargs):
    record_account_event(
        user=user,
        actor=user,
        action="user.second_factor_removed",
        details={"type": authenticator.type, "name": str(authenticator)},
    )


@receiver(mfa_signals.authenticator_reset)
def audit_recovery_codes_reset(sender, request, user, authenticator, **kwargs):
    record_account_event(
        user=user, actor=user, action="user.recovery_codes_regenerated", details={}
    )


@receiver(mfa_signals.authenticator_used)
def audit_recovery_code_used(sender, request, user, authenticator, **kwargs):
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        return  # an authenticator code or a passkey: the sign-in itself is recorded
    authenticator.refresh_from_db(fields=["data"])  # allauth marked the code used on a copy
    record_account_event(
        user=user,
        actor=user,
        action="user.recovery_code_used",
        details={
            "ip": _ip(request),
            "left": len(authenticator.wrap().get_unused_codes()),
        },
    )
