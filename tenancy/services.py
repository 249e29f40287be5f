"""Writes of tenancy: each function is one business action, atomic, raising TenancyError."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .email_domains import is_consumer_domain, normalise_domain
from .exceptions import InvalidDomainError
from .models import AuditEvent, Membership, Tenant


@transaction.atomic
def join_tenant_of_verified_email(*, user, email):
    """Make `user` a member of the tenant of `email`'s domain, now that the address is verified.

    Creates the tenant on the first verified address at a domain. Idempotent: a user who is
    already a member stays as they are (their 60-day clock is not restarted). Returns the
    membership, or None for addresses at consumer or invalid domains, which have no tenant.
    """
    try:
        domain = normalise_domain(email.rpartition("@")[2])
    except InvalidDomainError:
        return None
    if is_consumer_domain(domain):
        return None
    tenant = _get_or_create_tenant(domain)
    membership, _created = Membership.objects.get_or_create(
        user=user, defaults={"tenant": tenant, "joined_at": timezone.now()}
    )
    return membership


def _get_or_create_tenant(domain):
    # Two first sign-ups at a domain may race; the unique domain lets exactly one insert win.
    try:
        with transaction.atomic():
            return Tenant.objects.get_or_create(domain=domain)[0]
    except IntegrityError:
        return Tenant.objects.get(domain=domain)


def record_audit(*, tenant, actor, action, target="", before=None, after=None):
    """Append one event to the tenant's audit log (call it inside the action's transaction)."""
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        action=action,
        target=str(target)[:255],
        before=before or {},
        after=after or {},
    )
