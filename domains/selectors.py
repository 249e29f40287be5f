from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from core.scoping import in_tenant_scope, tenant_scope
from tenancy.models import Tenant, TenantDomain, User

from .dnscheck import token_in
from .models import DomainClaim, MergeNotice, TenantMerge


def upgrade_claims() -> QuerySet[DomainClaim]:
    """Claims of the tenant in scope made to buy (of its primary domain)."""
    return DomainClaim.objects.filter(purpose=DomainClaim.Purpose.UPGRADE)


@in_tenant_scope
def verified_claim(*, tenant: Tenant, claimant: User) -> DomainClaim | None:
    """The claimant's verified (not yet used) claim of the tenant's domain, or None."""
    return upgrade_claims().filter(claimant=claimant, status=DomainClaim.Status.VERIFIED).first()


@in_tenant_scope
def latest_claim(*, tenant: Tenant, claimant: User) -> DomainClaim | None:
    """The claimant's most recent claim of the tenant's domain, whatever its status, or None."""
    return upgrade_claims().filter(claimant=claimant).select_related("tenant", "claimant").first()


@in_tenant_scope
def used_claim(tenant: Tenant) -> DomainClaim | None:
    """The claim whose confirmed domain was used to buy the tenant's licences, with its
    claimant, or None."""
    return used_claims(tenant).select_related("claimant").first()


@in_tenant_scope
def used_claims(tenant: Tenant) -> QuerySet[DomainClaim]:
    """The tenant's used claims, the latest first (used_claim is the first)."""
    return DomainClaim.objects.filter(status=DomainClaim.Status.USED)


@in_tenant_scope
def claims_of_tenant(tenant: Tenant) -> QuerySet[DomainClaim]:
    """Every open (pending or verified) claim of the tenant's domain, oldest first, with its
    claimant."""
    return (
        upgrade_claims()
        .filter(status__in=DomainClaim.OPEN_STATUSES)
        .select_related("claimant")
        .order_by("created_at", "id")
    )


def due_claim_ids(*, before: datetime) -> list[int]:
    """Pending claims whose next check was due before `before` (the beat job's safety net,
    sweeping every tenant)."""
    return list(
        DomainClaim.objects.unscoped()
        .filter(status=DomainClaim.Status.PENDING, next_check_at__lte=before)
        .values_list("id", flat=True)
    )


def seen_records_explained(claim: DomainClaim) -> list[dict[str, Any]]:
    """The TXT strings seen at the last check, each with the reason it does or doesn't match.

    Reasons: "yours", "other_claim" (another member's open claim of this tenant), "other_token"
    (a Quorum record with an unknown token, e.g. of an expired claim or mistyped), "unrelated".
    """
    with tenant_scope(claim.tenant_id):
        other_tokens = dict(
            DomainClaim.objects.filter(status__in=DomainClaim.OPEN_STATUSES, domain=claim.domain)
            .exclude(pk=claim.pk)
            .values_list("token", "claimant__name")
        )
    explained = []
    for txt in claim.seen_txt:
        token = token_in(txt)
        if token is None:
            explained.append({"txt": txt, "reason": "unrelated", "claimant": None})
        elif token == claim.token:
            explained.append({"txt": txt, "reason": "yours", "claimant": None})
        elif token in other_tokens:
            explained.append({"txt": txt, "reason": "other_claim", "claimant": other_tokens[token]})
        else:
            explained.append({"txt": txt, "reason": "other_token", "claimant": None})
    return explained


def claims_expiring(*, now: datetime, within: timedelta) -> list[int]:
    """Open claims whose window ends `within` from `now` and whose claimant was not told yet (a
    beat sweep over every tenant)."""
    return list(
        DomainClaim.objects.unscoped()
        .filter(
            status__in=DomainClaim.OPEN_STATUSES,
            expiry_warned_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + within,
        )
        .values_list("id", flat=True)
    )


def unused_claims_past_their_window(*, now: datetime) -> list[DomainClaim]:
    """Verified claims whose 7 days to buy are over (a beat sweep over every tenant)."""
    return list(
        DomainClaim.objects.unscoped().filter(
            status=DomainClaim.Status.VERIFIED, expires_at__lte=now
        )
    )


def checked_domains(domains: QuerySet[TenantDomain]) -> QuerySet[TenantDomain]:
    """Of `domains`, those the daily re-check covers: proven domains (and their code known) of
    managed tenants."""
    return domains.filter(
        tenant__state=Tenant.State.MANAGED,
        status__in=TenantDomain.COVERING_STATUSES,
    ).exclude(token="")


def domains_due(
    *, before: datetime, queued_before: datetime, limit: int = 5000
) -> list[tuple[int, datetime]]:
    """[(id, next check)] of the domains whose re-check falls before `before` and that are not
    queued since `queued_before` (a beat sweep over every tenant), soonest first. `limit` caps
    one run after an outage: the rest follow a minute later."""
    due = (
        checked_domains(TenantDomain.objects.unscoped())
        .filter(next_check_at__lte=before)
        .filter(Q(check_queued_at__isnull=True) | Q(check_queued_at__lt=queued_before))
        .order_by("next_check_at")
    )
    return [(pk, at) for pk, at in due.values_list("id", "next_check_at")[:limit] if at]


@in_tenant_scope
def domains_needing_attention(tenant: Tenant) -> list[TenantDomain]:
    """The tenant's domains whose record is missing (in grace) or that are suspended, for the
    admin centre's banner."""
    return list(troubled_domains(tenant))


@in_tenant_scope
def troubled_domains(tenant: Tenant) -> QuerySet[TenantDomain]:
    """The query of domains_needing_attention."""
    return TenantDomain.objects.filter(
        status__in=(TenantDomain.Status.IN_GRACE, TenantDomain.Status.SUSPENDED)
    )


def tenants_to_merge(*, domain: str, into: Tenant) -> list[Tenant]:
    """The unmanaged tenants holding `domain` or one of its subdomains, other than `into`,
    locked (a search across tenants by nature). A managed tenant keeps its own subdomain."""
    held = (
        TenantDomain.objects.unscoped()
        .filter(Q(domain=domain) | Q(domain__endswith=f".{domain}"))
        .exclude(tenant=into)
        .values("tenant_id")
    )
    return list(
        Tenant.objects.select_for_update()
        .filter(pk__in=held, state=Tenant.State.UNMANAGED)
        .order_by("pk")
    )


@in_tenant_scope
def domains_of(tenant: Tenant) -> list[TenantDomain]:
    """The tenant's domains, the primary one first."""
    return list(TenantDomain.objects.all())


@in_tenant_scope
def domain_claims_of(tenant: Tenant, *, closed_since: datetime) -> list[DomainClaim]:
    """The tenant's claims of domains to add: those in progress, and those closed since
    `closed_since` (used, refused or expired), newest first, with their claimant."""
    return list(
        DomainClaim.objects.filter(purpose=DomainClaim.Purpose.ADD_DOMAIN)
        .filter(Q(status__in=DomainClaim.OPEN_STATUSES) | Q(closed_at__gte=closed_since))
        .select_related("claimant")
    )


@in_tenant_scope
def domain_claim(tenant: Tenant, pk: int) -> DomainClaim:
    """One of the tenant's claims of a domain to add (DoesNotExist for any other)."""
    return (
        DomainClaim.objects.filter(purpose=DomainClaim.Purpose.ADD_DOMAIN)
        .select_related("tenant", "claimant")
        .get(pk=pk)
    )


@in_tenant_scope
def recent_merges(tenant: Tenant, *, limit: int = 3) -> list[TenantMerge]:
    """The tenant's latest merges, newest first."""
    return list(TenantMerge.objects.all()[:limit])


def merged_people(merge: TenantMerge) -> QuerySet[MergeNotice, Any]:
    """The ids of the people a merge brought (a query)."""
    return MergeNotice.objects.filter(merge=merge).values("user_id")


def merged_people_listed(merge: TenantMerge, *, limit: int) -> list[MergeNotice]:
    """The first people of a merge, by name, with their users."""
    return list(
        MergeNotice.objects.filter(merge=merge)
        .select_related("user")
        .order_by("user__name")[:limit]
    )


def unfinished_merge_ids(*, quiet_since: datetime) -> list[int]:
    """Merges with people left to tell and no mail sent since `quiet_since` (a beat sweep over
    every tenant)."""
    busy = MergeNotice.objects.unscoped().filter(sent_at__gte=quiet_since).values("merge_id")
    return list(
        TenantMerge.objects.unscoped()
        .filter(notices_finished_at__isnull=True, merged_at__lt=quiet_since)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)
    )
