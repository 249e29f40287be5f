"""How members sign in: the tenant's two-factor rule, ending sessions, and the sign-in and
second-factor events of the audit log."""

from collections.abc import Iterable
from typing import Any

from allauth.usersessions.models import UserSession
from django.db import transaction

from core.scoping import in_tenant_scope

from ..models import Tenant, User
from ..selectors import tenant_of
from .audit import record_audit
from .rules import change_tenant_rule


@in_tenant_scope
@transaction.atomic
def set_two_factor_required(*, tenant: Tenant, actor: User, required: bool) -> Tenant:
    """Whether every member, not only the admins, must sign in with a second factor. Members
    without one are sent to set one up at their next page (TwoFactorPolicyMiddleware)."""
    return change_tenant_rule(
        tenant=tenant,
        actor=actor,
        field="two_factor_required",
        value=required,
        action="tenant.two_factor_rule_changed",
    )


@transaction.atomic
def end_sessions(
    *, actor: User | None, user: User, sessions: Iterable[UserSession] | None = None
) -> int:
    """Sign `user` out of the given sessions (allauth.usersessions), or of every session they
    have when `sessions` is None: their next request in one of them is signed out. Returns how
    many were ended, and notes it in the user's tenant's audit log."""
    ended = end_every_session(user=user) if sessions is None else _end(sessions)
    if ended:
        record_account_event(
            user=user, actor=actor, action="user.sessions_ended", details={"count": ended}
        )
    return ended


@in_tenant_scope
@transaction.atomic
def sign_out_everywhere(*, tenant: Tenant, actor: User, user: User) -> int:
    """An admin signs a member of their tenant out of every session, at once (a lost laptop, a
    departure). Audited even when there was no session to end."""
    ended = end_every_session(user=user)
    record_audit(
        tenant=tenant,
        actor=actor,
        action="member.signed_out_everywhere",
        target=user.email,
        after={"count": ended},
    )
    return ended


def end_every_session(*, user: User) -> int:
    """End every session of `user` through the session store (a copy cached in front of the
    database goes too), with nothing noted: the caller's action is what the audit log records.
    Each session has its row (allauth.usersessions): every sign-in goes through allauth, which
    records one, and tenancy's SessionActivityMiddleware records any session that makes a
    request. So the person's own sessions are read, not a scan of everyone's."""
    return _end(UserSession.objects.filter(user=user))


def _end(sessions: Iterable[UserSession]) -> int:
    ended = 0
    for session in sessions:
        session.end()
        ended += 1
    return ended


def record_account_event(
    *, user: User, actor: User | None, action: str, details: dict[str, Any] | None = None
) -> None:
    """Note a sign-in, a second factor added or removed, a session ended... in the audit log of
    the user's tenant. A user without a tenant (a consumer address, a removed member) has no
    audit log to write to: nothing is recorded."""
    tenant = tenant_of(user)
    if tenant is None:
        return
    record_audit(tenant=tenant, actor=actor, action=action, target=user.email, after=details)
