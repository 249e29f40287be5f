"""Writes of domain claims: each function is one business action, raising DomainsError."""

import math
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.scoping import in_scope_of, tenant_scope
from tenancy.models import Tenant, TenantDomain
from tenancy.selectors import membership_of
from tenancy.services.audit import record_audit

from . import dnscheck, selectors
from .exceptions import (
    CheckTooSoonError,
    ClaimExpiredError,
    ClaimNotPendingError,
    ClaimNotVerifiedError,
    ManagedTenantError,
    NoTenantError,
    RecordGoneError,
    RecordUncheckableError,
)
from .mail import absolute_url, mail_user
from .models import DomainClaim
from .selectors import tenant_admins

CLAIM_WINDOW = timedelta(hours=72)
# A verified claim not used for a purchase within this expires: DNS access proven once is not
# a licence to buy months later.
VERIFIED_WINDOW = timedelta(days=7)
# The claimant is mailed once this long before their claim expires, pending or verified.
EXPIRY_NOTICE = timedelta(days=1)
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600  # also the Redis broker's visibility timeout: a countdown never exceeds it
# While a check runs, its claim is not due: a second delivery of the same message finds nothing
# to do. If the worker dies mid-check, the claim is due again once the lease is over.
CHECK_LEASE = timedelta(minutes=2)
MANUAL_CHECK_INTERVAL = timedelta(seconds=10)

Status = DomainClaim.Status
Outcome = DomainClaim.Outcome


def retry_delay(step, *, rng=random):
    """Seconds until the next check after `step` unsuccessful ones: 30 s doubling up to 1 h,
    shortened at random by up to 20 % so that claims started together spread out."""
    return min(FIRST_RETRY_SECONDS * 2**step, MAX_RETRY_SECONDS) * rng.uniform(0.8, 1.0)


def assert_may_claim(*, user):
    """The user's membership if they may claim its tenant's domain; raises DomainsError if not.

    Only a verified member of an unmanaged tenant may: users at consumer domains have no tenant,
    and a managed tenant already has its admin.
    """
    membership = membership_of(user)
    if membership is None:
        raise NoTenantError()
    if membership.tenant.is_managed:
        raise ManagedTenantError(tenant_admins(membership.tenant))
    return membership


@transaction.atomic
def start_claim(*, user):
    """Start proving the user's tenant domain, or return their claim in progress.

    Returns the existing pending or verified claim (same token) when there is one; otherwise a
    new pending claim whose first DNS check runs at once. Several members may claim one tenant.
    """
    membership = assert_may_claim(user=user)
    with tenant_scope(membership.tenant_id):
        return _start_claim(user=user, tenant_id=membership.tenant_id)


def _start_claim(*, user, tenant_id):
    # The purchase that makes a tenant managed holds this lock while it supersedes open claims;
    # taking it here means no claim can start in between.
    tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
    if tenant.is_managed:
        raise ManagedTenantError(tenant_admins(tenant))
    existing = _open_claim(tenant=tenant, claimant=user)
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            claim = DomainClaim.objects.create(
                tenant=tenant, claimant=user, expires_at=now + CLAIM_WINDOW, next_check_at=now
            )
    except IntegrityError:
        # The same user's other request won the race (one open claim per claimant).
        return _open_claim(tenant=tenant, claimant=user)
    record_audit(
        tenant=tenant,
        actor=user,
        action="domain_claim.started",
        target=tenant.domain,
        after={
            "claim": claim.pk,
            "status": claim.status,
            "expires_at": claim.expires_at.isoformat(),
        },
    )
    _schedule_check(claim)
    return claim


def _open_claim(*, tenant, claimant):
    return DomainClaim.objects.filter(
        claimant=claimant, status__in=DomainClaim.OPEN_STATUSES
    ).first()


def check_claim(*, claim_id):
    """Run the scheduled DNS check of a pending claim if it is due; else do nothing.

    Returns the claim after the check, or None when it was not due (already checked by another
    delivery of the same message, verified, expired or gone). Safe to call any number of times.
    Not one transaction: the DNS lookup must not hold a database lock; the claim is taken by a
    conditional update, then the result is recorded atomically.
    """
    # A task knows its claim by id only: the claim names the tenant to scope to.
    tenant_id = (
        DomainClaim.objects.unscoped()
        .filter(pk=claim_id)
        .values_list("tenant_id", flat=True)
        .first()
    )
    if tenant_id is None:
        return None
    with tenant_scope(tenant_id):
        now = timezone.now()
        taken = DomainClaim.objects.filter(
            pk=claim_id, status=Status.PENDING, next_check_at__lte=now
        ).update(next_check_at=now + CHECK_LEASE)
        if not taken:
            return None
        return _check(claim_id)


@in_scope_of("claim")
def request_check_now(*, claim, user):
    """Check the claim's DNS record at once, for its claimant ("Check now").

    At most once per 10 seconds per claim (CheckTooSoonError otherwise). Returns the claim as
    the check left it; a claim no longer pending is returned unchanged.
    """
    return _manual_check(claim=claim, user=user, reset_backoff=False)


@in_scope_of("claim")
def confirm_record_added(*, claim, user):
    """The claimant says the record is published: check at once, and quickly again after.

    The backoff starts over (30 s, 1 min, ...), since a record added late would otherwise wait up
    to an hour for the next check. Same rate limit as `request_check_now`.
    """
    return _manual_check(claim=claim, user=user, reset_backoff=True)


def _manual_check(*, claim, user, reset_backoff):
    if claim.claimant_id != user.pk:
        raise ClaimNotPendingError()
    now = timezone.now()
    changes = {"last_manual_check_at": now, "next_check_at": now + CHECK_LEASE}
    if reset_backoff:
        changes["backoff_step"] = 0
    # One conditional update both rate-limits and takes the check: two clicks, or a click and
    # a worker, never run two checks of one claim at once.
    taken = (
        DomainClaim.objects.filter(pk=claim.pk, status=Status.PENDING)
        .filter(
            Q(last_manual_check_at__isnull=True)
            | Q(last_manual_check_at__lte=now - MANUAL_CHECK_INTERVAL)
        )
        .update(**changes)
    )
    if not taken:
        claim.refresh_from_db()
        if not claim.is_pending:
            return claim
        last = claim.last_manual_check_at or now
        wait = MANUAL_CHECK_INTERVAL - (now - last)
        raise CheckTooSoonError(max(1, math.ceil(wait.total_seconds())))
    return _check(claim.pk)


def _check(claim_id):
    domain = DomainClaim.objects.select_related("tenant").get(pk=claim_id).record_name
    return _record_check(claim_id=claim_id, lookup=dnscheck.lookup_txt(domain))


@transaction.atomic
def _record_check(*, claim_id, lookup):
    claim = DomainClaim.objects.select_for_update().select_related("tenant").get(pk=claim_id)
    if not claim.is_pending:  # verified by a parallel check, superseded or expired meanwhile
        return claim
    now = timezone.now()
    claim.attempts += 1
    claim.last_checked_at = now
    if not lookup.is_transient:
        # A failed lookup saw nothing new: the page keeps showing what was seen before.
        claim.seen_txt = lookup.records
    claim.servers_seen = dnscheck.servers_seen(lookup, claim.token)
    if any(dnscheck.matches(txt, claim.token) for txt in lookup.records):
        claim.status = Status.VERIFIED
        claim.verified_at = now
        claim.expires_at = now + VERIFIED_WINDOW
        claim.expiry_warned_at = None  # a new window, with its own notice
        claim.next_check_at = None
        claim.last_outcome = Outcome.FOUND
        claim.last_error = ""
        claim.save()
        record_audit(
            tenant=claim.tenant,
            actor=claim.claimant,
            action="domain_claim.verified",
            target=claim.tenant.domain,
            before={"claim": claim.pk, "status": Status.PENDING},
            after={"claim": claim.pk, "status": claim.status, "checks": claim.attempts},
        )
        return claim
    if lookup.outcome == dnscheck.FOUND:
        claim.last_outcome = Outcome.MISMATCH
        claim.last_error = (
            f"{len(lookup.records)} TXT record(s) at {claim.record_name}, "
            f"none of them is {claim.record_value}"
        )
    else:
        claim.last_outcome = lookup.outcome
        claim.last_error = lookup.detail
    if now >= claim.expires_at:
        claim.save()
        return expire_claim(claim=claim)
    claim.next_check_at = min(
        now + timedelta(seconds=retry_delay(claim.backoff_step)), claim.expires_at
    )
    claim.backoff_step += 1
    claim.save()
    _schedule_check(claim)
    return claim


@in_scope_of("claim")
@transaction.atomic
def expire_claim(*, claim):
    """End a claim whose window is over: a pending one after 72 hours without its record, a
    verified one not used for a purchase within 7 days. Its claimant may start over.

    Returns the claim; one that is not open, or whose window is still open, is unchanged.
    """
    claim = DomainClaim.objects.select_for_update().select_related("tenant").get(pk=claim.pk)
    now = timezone.now()
    if claim.status not in DomainClaim.OPEN_STATUSES or now < claim.expires_at:
        return claim
    before = claim.status
    claim.status = Status.EXPIRED
    claim.closed_at = now
    claim.next_check_at = None
    if before == Status.PENDING:
        claim.last_error = (
            f"No {claim.record_value} TXT record found at {claim.record_name} in "
            f"{claim.attempts} check(s) over 72 hours. Last: {claim.last_error}"
        )
    else:
        claim.last_error = f"Not used for a purchase within {VERIFIED_WINDOW.days} days."
    claim.save()
    record_audit(
        tenant=claim.tenant,
        actor=claim.claimant,
        action="domain_claim.expired",
        target=claim.record_name,
        before={"claim": claim.pk, "status": before},
        after={"claim": claim.pk, "status": claim.status, "checks": claim.attempts},
    )
    return claim


def expire_unused_claims() -> int:
    """Expire every verified claim whose 7 days are over (the beat job; pending claims end with
    their last check). Returns how many expired."""
    expired = 0
    for claim in selectors.unused_claims_past_their_window(now=timezone.now()):
        expired += expire_claim(claim=claim).is_expired
    return expired


def warn_of_expiring_claims() -> int:
    """Mail each claimant whose open claim expires within a day (the beat job). Returns how
    many were mailed."""
    due = selectors.claims_expiring(now=timezone.now(), within=EXPIRY_NOTICE)
    return sum(warn_of_expiry(claim_id=claim_id) for claim_id in due)


def warn_of_expiry(*, claim_id: int) -> bool:
    """Mail the claimant that their open claim expires within a day, once per window.

    The mail is sent and the claim marked in one transaction holding the claim's row lock, so
    a second sweep (or a concurrent one) finds it marked. Returns True when a mail was sent."""
    tenant_id = (
        DomainClaim.objects.unscoped()
        .filter(pk=claim_id)
        .values_list("tenant_id", flat=True)
        .first()
    )
    if tenant_id is None:
        return False
    with tenant_scope(tenant_id), transaction.atomic():
        claim = (
            DomainClaim.objects.select_for_update(of=("self",))
            .select_related("tenant", "claimant")
            .filter(pk=claim_id, expiry_warned_at__isnull=True)
            .filter(status__in=DomainClaim.OPEN_STATUSES)
            .first()
        )
        now = timezone.now()
        if claim is None or not now < claim.expires_at <= now + EXPIRY_NOTICE:
            return False
        mail_user(
            claim.claimant,
            "domains/email/claim_expiry",
            {"claim": claim, "link": absolute_url(reverse("wizard:domain"))},
        )
        claim.expiry_warned_at = now
        claim.save(update_fields=["expiry_warned_at"])
        return True


@in_scope_of("claim")
@transaction.atomic
def reconfirm_claim(*, claim: DomainClaim) -> DomainClaim:
    """The purchase's last look at the record, inside its transaction: DNS proven once is not
    enough, the record must still be there (at one authoritative server at least).

    Raises ClaimNotVerifiedError, ClaimExpiredError (its 7 days are over), RecordGoneError (the
    record is no longer published) or RecordUncheckableError (DNS did not answer); the caller's
    transaction then changes nothing. Returns the claim, its check recorded."""
    claim = DomainClaim.objects.select_for_update().select_related("tenant").get(pk=claim.pk)
    if not claim.is_verified:
        raise ClaimNotVerifiedError()
    if timezone.now() >= claim.expires_at:
        raise ClaimExpiredError(claim.record_name)
    lookup = dnscheck.lookup_txt(claim.record_name)
    if lookup.is_transient:
        raise RecordUncheckableError(claim.record_name)
    if not any(dnscheck.matches(txt, claim.token) for txt in lookup.records):
        raise RecordGoneError(claim.record_name, claim.record_value)
    claim.last_checked_at = timezone.now()
    claim.seen_txt = lookup.records
    claim.servers_seen = dnscheck.servers_seen(lookup, claim.token)
    claim.save(update_fields=["last_checked_at", "seen_txt", "servers_seen"])
    return claim


@in_scope_of("claim")
@transaction.atomic
def use_claim(*, claim):
    """The claim's claimant has bought: the claim becomes USED, every other open claim of the
    tenant SUPERSEDED. Called by licensing inside its purchase transaction, tenant row locked.

    Raises ClaimNotVerifiedError unless the claim is VERIFIED.
    """
    claim = DomainClaim.objects.select_for_update().select_related("tenant").get(pk=claim.pk)
    if not claim.is_verified:
        raise ClaimNotVerifiedError()
    now = timezone.now()
    claim.status = Status.USED
    claim.closed_at = now
    claim.save(update_fields=["status", "closed_at"])
    others = (
        DomainClaim.objects.select_for_update()
        .filter(status__in=DomainClaim.OPEN_STATUSES)
        .exclude(pk=claim.pk)
    )
    superseded = [(other.pk, other.status) for other in others]
    DomainClaim.objects.filter(pk__in=[pk for pk, _status in superseded]).update(
        status=Status.SUPERSEDED, closed_at=now, next_check_at=None
    )
    record_audit(
        tenant=claim.tenant,
        actor=claim.claimant,
        action="domain_claim.used",
        target=claim.tenant.domain,
        before={"claim": claim.pk, "status": Status.VERIFIED},
        after={
            "claim": claim.pk,
            "status": claim.status,
            "superseded": {str(pk): status for pk, status in superseded},
        },
    )
    _verify_domain(claim)
    return claim


def _verify_domain(claim: DomainClaim) -> TenantDomain:
    """The claim's domain becomes a verified domain of its tenant, its record re-checked daily
    from now on (the record must stay)."""
    domain, _created = TenantDomain.objects.select_for_update().get_or_create(
        domain=claim.record_name, defaults={"tenant": claim.tenant, "is_primary": True}
    )
    before = domain.status
    now = timezone.now()
    domain.status = DomainStatus.VERIFIED
    domain.token = claim.token
    domain.verified_at = claim.verified_at or now
    domain.missing_since = domain.grace_ends_at = domain.suspended_at = None
    domain.check_failures = 0
    domain.next_check_at = next_daily_check(domain.pk, after=now)
    domain.save()
    record_audit(
        tenant=claim.tenant,
        actor=claim.claimant,
        action="domain.verified",
        target=domain.domain,
        before={"status": before},
        after={"status": domain.status, "claim": claim.pk, "primary": domain.is_primary},
    )
    return domain


def _schedule_check(claim):
    # Imported here because the tasks module imports this one.
    from core.tasks import enqueue

    from .tasks import check_claim_task

    claim_id, eta = claim.pk, claim.next_check_at
    transaction.on_commit(lambda: enqueue(check_claim_task, claim_id, eta=eta))


# The daily re-check of every verified domain of a managed tenant.

DAY = timedelta(days=1)
# A check is never sooner than this after the previous one (a retry after DNS trouble moves a
# domain off its time of day; it goes back to it the next day).
MIN_CHECK_GAP = timedelta(hours=1)
# The beat job's period: each run queues the checks due before the next run.
QUEUE_AHEAD = timedelta(seconds=60)
# A queued or running check whose worker vanished is queued again once this is over.
DOMAIN_CHECK_LEASE = timedelta(minutes=10)
# A task may start this early (the broker's ETA is not to the millisecond).
ETA_SKEW = timedelta(seconds=5)

DomainStatus = TenantDomain.Status


def daily_slot(domain_id: int) -> int:
    """The domain's time of day for its check, in seconds after midnight UTC. Knuth's
    multiplicative hash spreads consecutive ids evenly over the day, so 100,000 domains make
    about 70 checks a minute, every minute, never a burst."""
    return (domain_id * 2654435761) % int(DAY.total_seconds())


def next_daily_check(domain_id: int, *, after: datetime) -> datetime:
    """The first time of the domain's slot at least MIN_CHECK_GAP after `after`."""
    midnight = after.replace(hour=0, minute=0, second=0, microsecond=0)
    candidate = midnight + timedelta(seconds=daily_slot(domain_id))
    while candidate < after + MIN_CHECK_GAP:
        candidate += DAY
    return candidate


def grace_period() -> timedelta:
    return timedelta(days=settings.DOMAIN_GRACE_DAYS)


def take_due_domain_checks() -> list[tuple[int, datetime]]:
    """The domains whose check falls before the beat job's next run, marked as queued (a
    second run does not queue them again while their lease lasts): [(id, when to check)]."""
    now = timezone.now()
    due = selectors.domains_due(before=now + QUEUE_AHEAD, queued_before=now - DOMAIN_CHECK_LEASE)
    TenantDomain.objects.unscoped().filter(pk__in=[pk for pk, _at in due]).update(
        check_queued_at=now
    )
    return [(pk, max(at, now)) for pk, at in due]


def check_domain(*, domain_id: int) -> TenantDomain | None:
    """Look for the record of a verified domain of a managed tenant, if its check is due, and
    follow what was found: the record missing starts the grace period (admins are mailed), still
    missing when it ends suspends the domain (mailed again), back clears everything. DNS trouble
    is tried again with a backoff and changes no state.

    Returns the domain after the check, or None when it was not due (checked by another
    delivery of the same task, no longer verified or managed, gone). Like `check_claim`, not one
    transaction: the domain is taken by a conditional update, DNS is asked outside any lock."""
    # A task knows its domain by id only: the domain names the tenant to scope to.
    tenant_id = (
        TenantDomain.objects.unscoped()
        .filter(pk=domain_id)
        .values_list("tenant_id", flat=True)
        .first()
    )
    if tenant_id is None:
        return None
    with tenant_scope(tenant_id):
        now = timezone.now()
        taken = (
            selectors.checked_domains(TenantDomain.objects.filter(pk=domain_id))
            .filter(next_check_at__lte=now + ETA_SKEW)
            .update(next_check_at=now + DOMAIN_CHECK_LEASE)
        )
        if not taken:
            return None
        name = TenantDomain.objects.values_list("domain", flat=True).get(pk=domain_id)
        return _record_domain_check(domain_id=domain_id, lookup=dnscheck.lookup_txt(name))


@transaction.atomic
def _record_domain_check(*, domain_id: int, lookup: dnscheck.TxtLookup) -> TenantDomain:
    domain = TenantDomain.objects.select_for_update().select_related("tenant").get(pk=domain_id)
    now = timezone.now()
    domain.last_checked_at = now
    domain.check_queued_at = None
    domain.servers_seen = dnscheck.servers_seen(lookup, domain.token)
    if lookup.is_transient:
        domain.last_outcome = lookup.outcome
        domain.next_check_at = now + timedelta(seconds=retry_delay(domain.check_failures))
        domain.check_failures += 1
        domain.save()
        return domain
    domain.check_failures = 0
    found = any(dnscheck.matches(txt, domain.token) for txt in lookup.records)
    if found:
        domain.last_outcome = Outcome.FOUND
    elif lookup.outcome == dnscheck.FOUND:
        domain.last_outcome = Outcome.MISMATCH
    else:
        domain.last_outcome = lookup.outcome
    before = domain.status
    if found and before != DomainStatus.VERIFIED:
        _record_is_back(domain, now)
    elif not found and before == DomainStatus.VERIFIED:
        _record_went_missing(domain, now)
    elif not found and before == DomainStatus.IN_GRACE and now >= domain.grace_ends_at:
        _suspend(domain, now)
    domain.next_check_at = next_daily_check(domain.pk, after=now)
    if domain.status == DomainStatus.IN_GRACE:
        domain.next_check_at = min(domain.next_check_at, domain.grace_ends_at)
    domain.save()
    return domain


def _record_went_missing(domain: TenantDomain, now: datetime) -> None:
    domain.status = DomainStatus.IN_GRACE
    domain.missing_since = now
    domain.grace_ends_at = now + grace_period()
    _audit_domain(domain, "domain.record_missing", DomainStatus.VERIFIED)
    _tell_admins(domain, "domains/email/domain_record_missing")


def _suspend(domain: TenantDomain, now: datetime) -> None:
    domain.status = DomainStatus.SUSPENDED
    domain.suspended_at = now
    _audit_domain(domain, "domain.suspended", DomainStatus.IN_GRACE)
    _tell_admins(domain, "domains/email/domain_suspended")


def _record_is_back(domain: TenantDomain, now: datetime) -> None:
    before = domain.status
    domain.status = DomainStatus.VERIFIED
    domain.missing_since = domain.grace_ends_at = domain.suspended_at = None
    action = "domain.restored" if before == DomainStatus.SUSPENDED else "domain.record_back"
    _audit_domain(domain, action, before)


def _audit_domain(domain: TenantDomain, action: str, before: str) -> None:
    after = {"status": domain.status, "checked_at": domain.last_checked_at.isoformat()}
    if domain.grace_ends_at is not None:
        after["grace_ends_at"] = domain.grace_ends_at.isoformat()
    record_audit(
        tenant=domain.tenant,
        actor=None,
        action=action,
        target=domain.domain,
        before={"status": before},
        after=after,
    )


def _tell_admins(domain: TenantDomain, template: str) -> None:
    """Mail each admin of the domain's tenant, inside the transaction that changed the domain:
    a mail server that fails rolls the change back, and the next check makes it (and mails)
    again, so an alert is never lost."""
    context = {
        "domain": domain,
        "record_value": dnscheck.record_value(domain.token),
        "link": absolute_url(reverse("portal:dashboard")),
    }
    for admin in tenant_admins(domain.tenant):
        mail_user(admin, template, context)
