"""The signed-in person's identity (user, membership, tenant and the tenant's policy, and whether
the user has a second factor when their pages check it on every request) read once from the cache
instead of three to five queries per request, when IDENTITY_CACHE is on.

Kept per user under two versions (core.versioned): the user's, which every change of the user or
of their membership renews, and their tenant's, which every change of the tenant or of its policy
renews (and of the tenant's memberships by a bulk update), each once committed; the user's second
factors (allauth.mfa's authenticators) count as the user's. The model signals below renew on every
save and delete, whichever code makes it (ours, allauth's password change, Django's admin); the
services that change these rows with a bulk `update()` renew through `identity_changed`. So a
change is seen on the next request: never a stale role, state or policy.

Only the fast path is taken here: a session whose user is kept, active and whose session hash
verifies. Anything else (anonymous, a rotated secret, a changed password) goes Django's way."""

from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware, get_user
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from core.versioned import Reads, current_versions, keep, read_kept, reading, renew_at_commit

from .models import Membership, Policy, Tenant, User
from .selectors import has_second_factor, second_factor_required

# How long an identity is kept when nobody changes it; the versions, not this, keep it fresh.
KEEP_SECONDS = 3600


@dataclass(frozen=True)
class Identity:
    user: User
    membership: Membership | None


def _user_version(user_id: int) -> str:
    return f"identity:user:{user_id}"


def _tenant_version(tenant_id: int) -> str:
    return f"identity:tenant:{tenant_id}"


def _last_tenant(user_id: int) -> str:
    return f"identity:last-tenant:{user_id}"


def identity_changed(*, user_id: int | None = None, tenant_id: int | None = None) -> None:
    """The user's (or every member of the tenant's) kept identity is read anew next time."""
    if user_id is not None:
        renew_at_commit([_user_version(user_id)])
    if tenant_id is not None:
        renew_at_commit([_tenant_version(tenant_id)])


def identity_of(user_id: int) -> Identity | None:
    """The kept identity of `user_id`, or one read now and kept; None for no such user."""
    key = f"identity:{user_id}"
    kept = read_kept(key)
    if kept is not None:
        return cast(Identity, kept[0])
    # Each version is read before the rows it covers (core.versioned); the tenant's is known
    # before its row only by the tenant the person was last seen in.
    versions = current_versions([_user_version(user_id)])
    seen_in = cache.get(_last_tenant(user_id))
    if seen_in is not None:
        versions |= current_versions([_tenant_version(seen_in)])
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    # The root of tenant scoping, as tenancy.selectors.membership_of: no scope to read it in.
    # One query for the membership, its tenant and the tenant's policy.
    membership = (
        Membership.objects.unscoped().select_related("tenant__policy").filter(user=user).first()
    )
    if membership is not None:
        tenant = membership.tenant
        # For tenancy.selectors.policy_of; None when the admins never set one.
        tenant.kept_policy = getattr(tenant, "policy", None)  # type: ignore[attr-defined]
        user.membership = membership  # as membership_of does: no second query
        if second_factor_required(membership):
            # For tenancy.selectors.has_second_factor, asked on each of this person's requests.
            user.kept_second_factor = has_second_factor(user)  # type: ignore[attr-defined]
    identity = Identity(user=user, membership=membership)
    if membership is None or membership.tenant_id == seen_in:
        keep(key, identity, versions, KEEP_SECONDS)
    else:  # the tenant's version was not read before its row: kept from the next request on
        cache.set(_last_tenant(user_id), membership.tenant_id, None)
    return identity


def _signed_in_user(request: HttpRequest) -> Any:
    if hasattr(request, "_cached_user"):
        return request._cached_user
    session = request.session
    backend_path: str = session.get(auth.BACKEND_SESSION_KEY) or ""
    user_id = session.get(auth.SESSION_KEY)
    identity = None
    if user_id is not None and backend_path in settings.AUTHENTICATION_BACKENDS:
        reads = Reads()
        token = reading.set(reads)
        try:
            identity = identity_of(User._meta.pk.to_python(user_id))
        finally:
            reading.reset(token)
    if identity is not None:
        user = identity.user
        backend = auth.load_backend(backend_path)
        can_authenticate = getattr(backend, "user_can_authenticate", lambda user: True)
        if can_authenticate(user) and constant_time_compare(
            session.get(auth.HASH_SESSION_KEY) or "", user.get_session_auth_hash()
        ):
            request._cached_user = user  # type: ignore[attr-defined]
            request.identity = identity  # type: ignore[attr-defined]
            # What it was read at, for a page kept with it (core.pagecache).
            request.identity_versions = reads.versions  # type: ignore[attr-defined]
            return user
    return get_user(request)  # Django's way: anonymous, inactive, a changed password or secret


class IdentityAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's authentication middleware, with the signed-in user read from the kept identity
    when IDENTITY_CACHE is on (tenancy.middleware.TenantMiddleware then takes its membership)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        if settings.IDENTITY_CACHE:
            request.user = SimpleLazyObject(partial(_signed_in_user, request))  # type: ignore[assignment]


# Every save and delete of these rows, whoever makes it, is seen on the next request.


@receiver([post_save, post_delete], sender=User)
def _user_changed(sender: type, instance: User, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new user's id was never kept (PostgreSQL does not reuse ids)
        identity_changed(user_id=instance.pk)


@receiver([post_save, post_delete], sender=Membership)
def _membership_changed(sender: type, instance: Membership, **kwargs: Any) -> None:
    identity_changed(user_id=instance.user_id)


@receiver([post_save, post_delete], sender=Authenticator)
def _second_factor_changed(sender: type, instance: Authenticator, **kwargs: Any) -> None:
    identity_changed(user_id=instance.user_id)


@receiver([post_save, post_delete], sender=Tenant)
def _tenant_changed(sender: type, instance: Tenant, **kwargs: Any) -> None:
    identity_changed(tenant_id=instance.pk)


@receiver([post_save, post_delete], sender=Policy)
def _policy_changed(sender: type, instance: Policy, **kwargs: Any) -> None:
    identity_changed(tenant_id=instance.tenant_id)
