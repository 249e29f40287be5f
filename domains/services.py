"""Writes of domains, each function one business action raising DomainsError: claims and their
DNS checks, the daily re-checks of verified domains, adding domains and merging tenants."""

import math
import random
from datetime import datetime, timedelta
from types import ModuleType

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.metrics import count_dns_check
from core.scoping import in_scope_of, in_tenant_scope, tenant_scope
from meetings.services import move_meetings
from tenancy.email_domains import is_consumer_domain, is_public_suffix, normalise_domain
from tenancy.exceptions import InvalidDomainError
from tenancy.models import JoinRequest, Membership, Tenant, TenantDomain, User
from tenancy.selectors import admins_of, covering_domain, membership_of
from tenancy.services.audit import record_audit
from tenancy.services.merging import take_in_members

from . import dnscheck, selectors
from .exceptions import (
    CheckTooSoonError,
    ClaimExpiredError,
    ClaimNotPendingError,
    ClaimNotVerifiedError,
    DomainHeldError,
    DomainInUseError,
    DomainNotAddableError,
    ManagedTenantError,
    NoTenantError,
    RecordGoneError,
    RecordUncheckableError,
)
from .mail import absolute_url, mail_user
from .models import DomainClaim, MergeNotice, TenantMerge
from .signals import members_merged

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


def retry_delay(step: int, *, rng: random.Random | ModuleType = random) -> float:
    """Seconds until the next check after `step` unsuccessful ones: 30 s doubling up to 1 h,
    shortened at random by up to 20 % so that claims started together spread out."""
    return float(min(FIRST_RETRY_SECONDS * 2**step, MAX_RETRY_SECONDS) * rng.uniform(0.8, 1.0))


def assert_may_claim(*, user: User) -> Membership:
    """The user's membership if they may claim its tenant's domain; raises DomainsError if not.

    Only a verified member of an unmanaged tenant may: users at consumer domains have no tenant,
    and a managed tenant already has its admin.
    """
    membership = membership_of(user)
    if membership is None:
        raise NoTenantError()
    if membership.tenant.is_managed:
        raise ManagedTenantError(admins_of(membership.tenant))
    return membership


@transaction.atomic
def start_claim(*, user: User) -> DomainClaim:
    """Start proving the user's tenant domain, or return their claim in progress.

    Returns the existing pending or verified claim (same token) when there is one; otherwise a
    new pending claim whose first DNS check runs at once. Several members may claim one tenant.
    """
    membership = assert_may_claim(user=user)
    with tenant_scope(membership.tenant_id):
        return _start_claim(user=user, tenant_id=membership.tenant_id)


def _start_claim(*, user: User, tenant_id: int) -> DomainClaim:
    # The purchase that makes a tenant managed holds this lock while it supersedes open claims;
    # taking it here means no claim can start in between.
    tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
    if tenant.is_managed:
        raise ManagedTenantError(admins_of(tenant))
    existing = _open_claim(tenant=tenant, claimant=user)
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            claim = DomainClaim.objects.create(
                tenant=tenant,
                claimant=user,
                domain=tenant.domain,
                expires_at=now + CLAIM_WINDOW,
                next_check_at=now,
            )
    except IntegrityError:
        # The same user's other request won the race (one open claim per claimant).
        winner = _open_claim(tenant=tenant, claimant=user)
        if winner is None:  # and its claim ended at once: start afresh
            return _start_claim(user=user, tenant_id=tenant_id)
        return winner
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


def _open_claim(*, tenant: Tenant, claimant: User, domain: str | None = None) -> DomainClaim | None:
    return DomainClaim.objects.filter(
        claimant=claimant, domain=domain or tenant.domain, status__in=DomainClaim.OPEN_STATUSES
    ).first()


def check_claim(*, claim_id: int) -> DomainClaim | None:
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
def request_check_now(*, claim: DomainClaim, user: User) -> DomainClaim:
    """Check the claim's DNS record at once, for its claimant ("Check now").

    At most once per 10 seconds per claim (CheckTooSoonError otherwise). Returns the claim as
    the check left it; a claim no longer pending is returned unchanged.
    """
    return _manual_check(claim=claim, user=user, reset_backoff=False)


@in_scope_of("claim")
def confirm_record_added(*, claim: DomainClaim, user: User) -> DomainClaim:
    """The claimant says the record is published: check at once, and quickly again after.

    The backoff starts over (30 s, 1 min, ...), since a record added late would otherwise wait up
    to an hour for the next check. Same rate limit as `request_check_now`.
    """
    return _manual_check(claim=claim, user=user, reset_backoff=True)


def _manual_check(*, claim: DomainClaim, user: User, reset_backoff: bool) -> DomainClaim:
    # Any admin may check a domain being added (the views let only admins here).
    if claim.claimant_id != user.pk and claim.purpose != DomainClaim.Purpose.ADD_DOMAIN:
        raise ClaimNotPendingError()
    now = timezone.now()
    changes: dict[str, object] = {"last_manual_check_at": now, "next_check_at": now + CHECK_LEASE}
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


def _lookup(name: str) -> dnscheck.TxtLookup:
    """Look the TXT record up, counted by outcome for the metrics."""
    lookup = dnscheck.lookup_txt(name)
    count_dns_check(outcome=lookup.outcome)
    return lookup


def _check(claim_id: int) -> DomainClaim:
    domain = DomainClaim.objects.select_related("tenant").get(pk=claim_id).record_name
    return _record_check(claim_id=claim_id, lookup=_lookup(domain))


@transaction.atomic
def _record_check(*, claim_id: int, lookup: dnscheck.TxtLookup) -> DomainClaim:
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
            target=claim.record_name,
            before={"claim": claim.pk, "status": Status.PENDING},
            after={"claim": claim.pk, "status": claim.status, "checks": claim.attempts},
        )
        if claim.purpose == DomainClaim.Purpose.ADD_DOMAIN:
            return attach_domain(claim=claim)
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
def expire_claim(*, claim: DomainClaim) -> DomainClaim:
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
            f"{claim.attempts} check(s) over {CLAIM_WINDOW // timedelta(hours=1)} hours. "
            f"Last: {claim.last_error}"
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
    lookup = _lookup(claim.record_name)
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
def use_claim(*, claim: DomainClaim) -> DomainClaim:
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
        selectors.upgrade_claims()
        .select_for_update()
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
        target=claim.record_name,
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
        domain=claim.record_name,
        defaults={
            "tenant": claim.tenant,
            "is_primary": claim.purpose == DomainClaim.Purpose.UPGRADE,
        },
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


def _schedule_check(claim: DomainClaim) -> None:
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
        return _record_domain_check(domain_id=domain_id, lookup=_lookup(name))


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
    elif not found and before == DomainStatus.IN_GRACE and _grace_over(domain, now):
        _suspend(domain, now)
    next_check = next_daily_check(domain.pk, after=now)
    if domain.status == DomainStatus.IN_GRACE and domain.grace_ends_at is not None:
        next_check = min(next_check, domain.grace_ends_at)  # suspended on time
    domain.next_check_at = next_check
    domain.save()
    return domain


def _grace_over(domain: TenantDomain, now: datetime) -> bool:
    return domain.grace_ends_at is not None and now >= domain.grace_ends_at


def _record_went_missing(domain: TenantDomain, now: datetime) -> None:
    domain.status = DomainStatus.IN_GRACE
    domain.missing_since = now
    domain.grace_ends_at = now + grace_period()
    _audit_domain(
        domain, action="domain.record_missing", before=DomainStatus.VERIFIED, checked_at=now
    )
    _tell_admins(domain, "domains/email/domain_record_missing")


def _suspend(domain: TenantDomain, now: datetime) -> None:
    domain.status = DomainStatus.SUSPENDED
    domain.suspended_at = now
    _audit_domain(domain, action="domain.suspended", before=DomainStatus.IN_GRACE, checked_at=now)
    _tell_admins(domain, "domains/email/domain_suspended")


def _record_is_back(domain: TenantDomain, now: datetime) -> None:
    before = domain.status
    domain.status = DomainStatus.VERIFIED
    domain.missing_since = domain.grace_ends_at = domain.suspended_at = None
    _audit_domain(
        domain,
        action="domain.restored" if before == DomainStatus.SUSPENDED else "domain.record_back",
        before=before,
        checked_at=now,
    )


def _audit_domain(domain: TenantDomain, *, action: str, before: str, checked_at: datetime) -> None:
    after = {"status": domain.status, "checked_at": checked_at.isoformat()}
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
        "link": absolute_url(reverse("portal:domains")),
    }
    for admin in admins_of(domain.tenant):
        mail_user(admin, template, context)


# More domains per tenant: an admin adds a domain and proves it; the unmanaged tenants there are
# merged in.


def mask_email(email: str) -> str:
    """rob@contoso.com → r***@c***.com: enough to recognise, not to write to."""
    local, _sep, domain = email.partition("@")
    labels = domain.split(".")
    return f"{local[:1]}***@{labels[0][:1]}***.{labels[-1]}"


@in_tenant_scope
@transaction.atomic
def start_domain_claim(*, tenant: Tenant, admin: User, domain: str) -> DomainClaim:
    """Start proving another domain of a managed tenant, for one of its admins; or return that
    admin's claim of it in progress. When its record is found the domain is added, and the
    unmanaged tenants there are merged in (`attach_domain`).

    Raises DomainsError when the domain is not one to add: invalid, a personal mail provider's,
    already the tenant's, or held by another managed organisation (its admin shown masked)."""
    name = _domain_to_add(tenant=tenant, domain=domain)
    # The same lock as the attach: no claim starts while a domain is being attached.
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    existing = _open_claim(tenant=tenant, claimant=admin, domain=name)
    if existing is not None:
        return existing
    now = timezone.now()
    claim = DomainClaim.objects.create(
        tenant=tenant,
        claimant=admin,
        domain=name,
        purpose=DomainClaim.Purpose.ADD_DOMAIN,
        expires_at=now + CLAIM_WINDOW,
        next_check_at=now,
    )
    record_audit(
        tenant=tenant,
        actor=admin,
        action="domain_claim.started",
        target=name,
        after={"claim": claim.pk, "purpose": claim.purpose, "status": claim.status},
    )
    _schedule_check(claim)
    return claim


def _domain_to_add(*, tenant: Tenant, domain: str) -> str:
    try:
        name = normalise_domain(domain)
    except InvalidDomainError as error:
        raise DomainNotAddableError(error.message) from error
    if is_consumer_domain(name) or is_public_suffix(name):
        raise DomainNotAddableError(
            _("%(domain)s is not an organisation's domain: addresses there are anybody's.")
            % {"domain": name}
        )
    held = covering_domain(name)
    if held is not None and held.tenant_id == tenant.pk:
        if held.domain == name:
            raise DomainNotAddableError(
                _("%(domain)s is already one of your domains.") % {"domain": name}
            )
        raise DomainNotAddableError(
            _(
                "%(domain)s is a subdomain of %(parent)s, which is yours: addresses there "
                "belong to your organisation already."
            )
            % {"domain": name, "parent": held.domain}
        )
    _refuse_if_held_elsewhere(name, tenant)
    return name


def _managed_holder(name: str, tenant: Tenant) -> Tenant | None:
    """Another managed tenant that holds `name` (or a proven parent of it), or None."""
    held = covering_domain(name)
    if held is not None and held.tenant_id != tenant.pk and held.tenant.is_managed:
        return held.tenant
    return None


def _refuse_if_held_elsewhere(name: str, tenant: Tenant) -> None:
    holder = _managed_holder(name, tenant)
    if holder is not None:
        admins = admins_of(holder)
        raise DomainHeldError(name, mask_email(admins[0].email) if admins else "***")


@in_scope_of("claim")
@transaction.atomic
def attach_domain(*, claim: DomainClaim) -> DomainClaim:
    """An admin's claim of another domain was verified: the domain becomes a verified domain of
    the tenant (re-checked daily), and every unmanaged tenant at it or at a subdomain is merged
    in: its members join under the tenant's sign-up rule (free licences go to them, the others
    wait for one or for approval), their meetings move, personal settings stay theirs, the old
    tenant is closed and its members are mailed, once. A domain another managed organisation
    holds by now is refused instead.

    One transaction; the number of queries does not depend on the number of members. Returns
    the claim, USED or REFUSED. Raises ClaimNotVerifiedError unless a verified ADD_DOMAIN claim."""
    claim = (
        DomainClaim.objects.select_for_update(of=("self",))
        .select_related("tenant", "claimant")
        .get(pk=claim.pk)
    )
    if not claim.is_verified or claim.purpose != DomainClaim.Purpose.ADD_DOMAIN:
        raise ClaimNotVerifiedError()
    tenant = Tenant.objects.select_for_update().get(pk=claim.tenant_id)
    try:
        _refuse_if_held_elsewhere(claim.domain, tenant)
    except DomainHeldError as refusal:
        return _refuse(claim, refusal)
    sources = selectors.tenants_to_merge(domain=claim.domain, into=tenant)
    merge = _merge(claim, tenant, sources) if sources else None
    # The merged tenants' own domain rows: the domain (or its parent) now covers them.
    TenantDomain.objects.unscoped().filter(tenant__in=sources).delete()
    domain = _verify_domain(claim)
    claim.status = Status.USED
    claim.closed_at = timezone.now()
    claim.save(update_fields=["status", "closed_at"])
    record_audit(
        tenant=tenant,
        actor=claim.claimant,
        action="domain.added",
        target=domain.domain,
        after={
            "claim": claim.pk,
            "merged": merge.merged_domains if merge else [],
            "joined": merge.joined if merge else 0,
            "waiting_for_approval": merge.waiting_for_approval if merge else 0,
            "licensed": merge.licensed if merge else 0,
        },
    )
    return claim


def _refuse(claim: DomainClaim, refusal: DomainHeldError) -> DomainClaim:
    claim.status = Status.REFUSED
    claim.closed_at = timezone.now()
    claim.last_error = str(refusal.message)
    claim.save(update_fields=["status", "closed_at", "last_error"])
    record_audit(
        tenant=claim.tenant,
        actor=claim.claimant,
        action="domain.refused",
        target=claim.domain,
        after={"claim": claim.pk, "held_by": refusal.masked_admin},
    )
    return claim


def _merge(claim: DomainClaim, tenant: Tenant, sources: list[Tenant]) -> TenantMerge:
    source_ids = [source.pk for source in sources]
    merge = TenantMerge.objects.create(
        tenant=tenant,
        claim=claim,
        domain=claim.domain,
        merged_domains=[source.domain for source in sources],
    )
    # Who was there, before they move: each gets one notice (joined, unless told otherwise).
    # They are members of the tenants being merged, other tenants than the one in scope.
    members = Membership.objects.unscoped().filter(tenant_id__in=source_ids).values("user_id")
    selected, params = members.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MergeNotice._meta.db_table} (tenant_id, merge_id, user_id, outcome) "  # noqa: S608 (table name from model metadata)
            f"SELECT %s, %s, user_id, %s FROM ({selected}) AS members",
            [tenant.pk, merge.pk, MergeNotice.Outcome.JOINED, *params],
        )
        # The statements below pick their newcomers through these rows: without fresh statistics
        # the planner takes 100,000 new rows for a handful (a nested loop, seconds per 10,000).
        # ANALYZE counts the rows this transaction inserted.
        cursor.execute(f"ANALYZE {MergeNotice._meta.db_table}")
    counts = take_in_members(target=tenant, source_ids=source_ids)
    notices = MergeNotice.objects.filter(merge=merge)
    waiting = JoinRequest.objects.values("user_id")  # the claim's tenant is in scope
    notices.filter(user_id__in=waiting).update(outcome=MergeNotice.Outcome.WAITING)
    move_meetings(source_ids=source_ids, target=tenant)
    joined = notices.filter(outcome=MergeNotice.Outcome.JOINED).values("user_id")
    given = members_merged.send(sender=TenantMerge, tenant=tenant, user_ids=joined)
    merge.joined, merge.waiting_for_approval = counts["joined"], counts["waiting"]
    answers: list[object] = [count for _receiver, count in given]  # licensing's: licences given
    merge.licensed = sum(count for count in answers if isinstance(count, int))
    merge.save(update_fields=["joined", "waiting_for_approval", "licensed"])
    for source in sources:
        record_audit(
            tenant=source,
            actor=claim.claimant,
            action="tenant.merged",
            target=source.domain,
            before={"state": source.state},
            after={"state": Tenant.State.CLOSED, "merged_into": tenant.domain},
        )
    merge_id = merge.pk
    transaction.on_commit(lambda: _queue_merge_notices(merge_id))
    return merge


def _queue_merge_notices(merge_id: int) -> None:
    # Imported here because the tasks module imports this one.
    from core.tasks import enqueue

    from .tasks import send_merge_notices

    enqueue(send_merge_notices, merge_id)


def send_merge_notice_batch(*, merge_id: int, batch_size: int) -> int:
    """Mail up to `batch_size` people of a merge who were not told yet, each in their language;
    returns how many remain. Each mail is sent and marked in one transaction holding its row
    lock (skipped by a concurrent sender), as announcements are."""
    # A task knows its merge by id only: the merge names the tenant to scope to.
    merge = TenantMerge.objects.unscoped().select_related("tenant").get(pk=merge_id)
    with tenant_scope(merge.tenant_id):
        for _index in range(batch_size):
            with transaction.atomic():
                notice = (
                    MergeNotice.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(merge=merge, sent_at__isnull=True)
                    .select_related("user")
                    .order_by("pk")
                    .first()
                )
                if notice is None:
                    break
                mail_user(
                    notice.user,
                    "domains/email/merged",
                    {
                        "merge": merge,
                        "notice": notice,
                        "link": absolute_url(reverse("tenancy:home")),
                    },
                )
                notice.sent_at = timezone.now()
                notice.save(update_fields=["sent_at"])
        remaining = merge.notices.filter(sent_at__isnull=True).count()
        if remaining == 0 and merge.notices_finished_at is None:
            TenantMerge.objects.filter(pk=merge.pk).update(notices_finished_at=timezone.now())
    return remaining


@in_tenant_scope
@transaction.atomic
def remove_domain(*, tenant: Tenant, actor: User, domain_id: int) -> None:
    """Take a domain off the tenant: addresses there are nobody's again (a sign-up there starts
    a new organisation). Refused for the primary domain, and while any member's address is at
    the domain or one of its subdomains."""
    domain = TenantDomain.objects.select_for_update().get(pk=domain_id)
    if domain.is_primary:
        raise DomainNotAddableError(
            _("%(domain)s is your primary domain: it cannot be removed.")
            % {"domain": domain.domain}
        )
    at_domain = Q(user__email__iendswith=f"@{domain.domain}")
    at_subdomain = Q(user__email__iendswith=f".{domain.domain}")
    users = Membership.objects.filter(at_domain | at_subdomain).count()
    if users:
        raise DomainInUseError(domain.domain, users)
    before = {"status": domain.status, "primary": domain.is_primary}
    domain.delete()
    record_audit(
        tenant=tenant, actor=actor, action="domain.removed", target=domain.domain, before=before
    )
