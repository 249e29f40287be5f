from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, OrderBy, Q, QuerySet

from core.counts import kept_count
from core.scoping import in_tenant_scope, tenant_scope

from .email_domains import domain_of_email, is_consumer_domain
from .exceptions import InvalidDomainError
from .models import (
    Announcement,
    AnnouncementDelivery,
    AuditEvent,
    JoinRequest,
    Membership,
    Policy,
    Removal,
    Tenant,
    TenantDomain,
    User,
)


def membership_of(user: User | AnonymousUser) -> Membership | None:
    """The user's membership with its tenant, or None (anonymous, unverified, consumer domain).

    The root of tenant scoping: it finds the tenant, so it cannot be scoped by one."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.unscoped().select_related("tenant").filter(user=user).first()
    if membership is not None:
        user.membership = membership  # kept on the user: `user.membership` costs no more query
    return membership


# Written as the unique index on LOWER(email) reads it (`email__iexact` is UPPER(email) =
# UPPER(...), which no index serves). Raw: the ORM took twice this statement's time to build it,
# on the path of every sign-up and of each of an identity provider's thousands of people.
_ACCOUNT_AT = "SELECT * FROM tenancy_user WHERE LOWER(email) = %s"


def account_at(email: str) -> User | None:
    """The account at `email`, whatever its case, found through the unique index on
    LOWER(email)."""
    return next(iter(User.objects.raw(_ACCOUNT_AT, [email.lower()])), None)


def covering_domain(domain: str) -> TenantDomain | None:
    """The tenant domain that addresses at `domain` (normalised) belong to: the same domain,
    whatever its state, else its closest parent that was proven (verified, in grace or
    suspended), so that eu.contoso.com belongs to whoever verified contoso.com. None when the
    domain is nobody's yet. One query.

    Finding it crosses tenants by nature; every address-to-tenant mapping goes through here."""
    held = {
        row.domain: row
        for row in TenantDomain.objects.unscoped()
        .select_related("tenant")
        .filter(domain__in=_domain_and_parents(domain))
    }
    covering = _covering(domain, {name: row.status for name, row in held.items()})
    return None if covering is None else held[covering]


def _domain_and_parents(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


def _covering(domain: str, statuses: dict[str, str]) -> str | None:
    """Which of the held domains (with their statuses) covers `domain`, as `covering_domain`
    says."""
    if domain in statuses:
        return domain
    for parent in _domain_and_parents(domain)[1:]:
        if statuses.get(parent) in TenantDomain.COVERING_STATUSES:
            return parent
    return None


def tenant_for_domain(domain: str) -> Tenant | None:
    """The tenant whose addresses end in `domain` (see `covering_domain`), or None."""
    held = covering_domain(domain)
    return held.tenant if held is not None else None


def proves_domain(tenant: Tenant, domain: str) -> bool:
    """Whether addresses at `domain` (normalised) are the tenant's by proof: the domain, or the
    parent covering it (`covering_domain`), is one of its domains, verified or in grace. Where
    its identity provider may vouch for people and provision them."""
    # Three columns, no tenant row, no ordering: an identity provider asks this for each person
    # it sends.
    held = {
        name: (tenant_id, status)
        for name, tenant_id, status in TenantDomain.objects.unscoped()
        .filter(domain__in=_domain_and_parents(domain))
        .order_by()
        .values_list("domain", "tenant_id", "status")
    }
    covering = _covering(domain, {name: status for name, (_id, status) in held.items()})
    return (
        covering is not None
        and held[covering][0] == tenant.pk
        and held[covering][1] in TenantDomain.TRUSTED_STATUSES
    )


@in_tenant_scope
def proven_domains_of(tenant: Tenant) -> list[str]:
    """The tenant's domains that `proves_domain` trusts (their subdomains are trusted too),
    sorted: what the admin centre lists for its identity provider."""
    return list(
        TenantDomain.objects.filter(status__in=TenantDomain.TRUSTED_STATUSES)
        .order_by("domain")
        .values_list("domain", flat=True)
    )


def tenant_of(user: User | AnonymousUser) -> Tenant | None:
    """The tenant `user` belongs to, or None: the one answer to "which tenant?"."""
    membership = membership_of(user)
    return membership.tenant if membership is not None else None


@dataclass(frozen=True)
class Standing:
    """Where a signed-in person stands with the organisation of their address, and whom to ask.

    `kind` is one of the Standing constants: a member, an address at a personal e-mail provider,
    a sign-up waiting for an admin's approval, one refused by the sign-up rule, someone an admin
    removed, or (declined, say) not admitted."""

    MEMBER = "member"
    PERSONAL_ADDRESS = "personal_address"
    AWAITING_APPROVAL = "awaiting_approval"
    REFUSED_BY_RULE = "refused_by_rule"
    REMOVED = "removed"
    NOT_ADMITTED = "not_admitted"

    kind: str
    domain: str
    admins: tuple[User, ...] = ()


@in_tenant_scope
def admins_of(tenant: Tenant) -> tuple[User, ...]:
    """The admins of a tenant, by name: whom its people ask."""
    return tuple(
        membership.user
        for membership in Membership.objects.filter(role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__name")
    )


def standing_of(user: User) -> Standing:
    """Where `user` (signed in) stands with the tenant of their address's domain."""
    try:
        domain = domain_of_email(user.email)
    except InvalidDomainError:
        return Standing(Standing.PERSONAL_ADDRESS, user.email.rpartition("@")[2])
    if is_consumer_domain(domain):
        return Standing(Standing.PERSONAL_ADDRESS, domain)
    membership = membership_of(user)
    if membership is not None:
        return Standing(Standing.MEMBER, domain)
    tenant = tenant_for_domain(domain)
    if tenant is None:
        return Standing(Standing.NOT_ADMITTED, domain)
    admins = admins_of(tenant)
    # The person is not a member: no scope is open for them, their domain's tenant is the one.
    with tenant_scope(tenant):
        if Removal.objects.filter(user=user).exists():
            kind = Standing.REMOVED
        elif JoinRequest.objects.filter(user=user).exists():
            kind = Standing.AWAITING_APPROVAL
        elif tenant.is_managed and tenant.signup_mode == Tenant.SignupMode.REFUSED:
            kind = Standing.REFUSED_BY_RULE
        else:
            kind = Standing.NOT_ADMITTED
    return Standing(kind, domain, admins)


# The second factors that count: recovery codes alone are a way back in, not a factor.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_second_factor(user: User) -> bool:
    """The user signs in with an authenticator app or a passkey/security key (allauth.mfa)."""
    if hasattr(user, "kept_second_factor"):  # read with the signed-in identity (tenancy.identity)
        kept: bool = user.kept_second_factor
        return kept
    return bool(is_mfa_enabled(user, types=list(SECOND_FACTORS)))


def second_factor_required(membership: Membership | None) -> bool:
    """Admins of a managed tenant always need a second factor; every member does when their
    tenant's rule says so (Tenant.two_factor_required)."""
    if membership is None:
        return False
    tenant = membership.tenant
    return tenant.two_factor_required or (membership.is_admin and tenant.is_managed)


# (field, descending) pairs, most significant first.
type SortKeys = tuple[tuple[str, bool], ...]
# Each sort order: (field, descending) keys, the last one unique. Only last_login is ever
# empty: those who never signed in come last, not first as PostgreSQL's DESC would put them.
MEMBER_SORTS = {
    "name": (("user__name", False), ("user__email", False)),
    "email": (("user__email", False),),
    "joined": (("joined_at", True), ("user__email", False)),
    "last_login": (("user__last_login", True), ("user__email", False)),
}
NULLS_LAST = {"user__last_login"}


@dataclass
class MemberPage:
    rows: list[Membership]
    # The user ids that the Next and Previous links continue from (None: no such page).
    next_after: int | None
    previous_before: int | None


@in_tenant_scope
def members_page(
    tenant: Tenant,
    *,
    search: str = "",
    sort: str = "name",
    after: int | None = None,
    before: int | None = None,
    per_page: int = 50,
) -> MemberPage:
    """One page of a tenant's members: the first, the one after the member `after` or the one
    before the member `before`, in the order `sort`.

    Pages continue from a member (keyset pagination) rather than skip a count of rows, so the
    database walks one page of an index whichever page it is: the 1,000th page of 100,000
    members costs what the first does."""
    members = Membership.objects.select_related("user")
    if search:
        members = members.filter(Q(user__name__icontains=search) | Q(user__email__icontains=search))
    keys = MEMBER_SORTS.get(sort, MEMBER_SORTS["name"])
    cursor = None
    anchor = after if after is not None else before
    if anchor is not None:
        fields = [field for field, _descending in keys]
        cursor = members.filter(user_id=anchor).values_list(*fields).first()
    # A member who left (or never was) restarts from the first page.
    forward = cursor is None or before is None
    if cursor is not None:
        members = members.filter(_beyond(keys, cursor, forward=forward))
    rows = list(members.order_by(*_ordering(keys, forward=forward))[: per_page + 1])
    more, rows = len(rows) > per_page, rows[:per_page]
    if forward:
        return MemberPage(
            rows,
            next_after=rows[-1].user_id if more else None,
            previous_before=rows[0].user_id if cursor is not None and rows else None,
        )
    rows.reverse()
    return MemberPage(
        rows,
        next_after=rows[-1].user_id if rows else None,
        previous_before=rows[0].user_id if more else None,
    )


def _ordering(keys: SortKeys, *, forward: bool) -> list[OrderBy]:
    """The sort order, or (not `forward`) its exact reverse, as the indexes can walk it."""
    ordering = []
    for field, descending in keys:
        nulls: dict[str, bool] = {}
        if field in NULLS_LAST:
            nulls = {"nulls_last": True} if forward else {"nulls_first": True}
        ordering.append(F(field).desc(**nulls) if descending == forward else F(field).asc(**nulls))
    return ordering


def _beyond(keys: SortKeys, values: tuple[Any, ...], *, forward: bool) -> Q:
    """The rows after (or, not `forward`, before) the row whose sort keys are `values`."""
    beyond, ties = Q(pk__in=[]), Q()
    for (field, descending), value in zip(keys, values, strict=True):
        beyond |= ties & _strictly_beyond(field, descending, value, forward=forward)
        ties &= Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})
    first_field, first_descending = keys[0]
    if values[0] is not None and first_field not in NULLS_LAST:
        # Redundant with the above, but a bound the database can start its index walk from.
        lookup = "lte" if first_descending == forward else "gte"
        beyond &= Q(**{f"{first_field}__{lookup}": values[0]})
    return beyond


def _strictly_beyond(field: str, descending: bool, value: Any, *, forward: bool) -> Q:
    nulls_last = field in NULLS_LAST
    if value is None:  # empty values come last going forward: only going back is anything beyond
        return Q(pk__in=[]) if forward else Q(**{f"{field}__isnull": False})
    beyond = Q(**{f"{field}__{'lt' if descending == forward else 'gt'}": value})
    if nulls_last and forward:
        beyond |= Q(**{f"{field}__isnull": True})
    return beyond


@in_tenant_scope
def member_of_tenant(tenant: Tenant, *, user_id: int) -> Membership | None:
    """The membership (with its user) of `user_id` in the tenant, or None: another tenant's
    people are not found."""
    return Membership.objects.select_related("user").filter(user_id=user_id).first()


@in_tenant_scope
def members_by_email(tenant: Tenant) -> QuerySet[Membership]:
    """Every member of the tenant with their user, by e-mail address."""
    return Membership.objects.select_related("user").order_by("user__email")


@in_tenant_scope
def pending_join_requests(tenant: Tenant) -> QuerySet[JoinRequest]:
    """The people waiting for an admin to let them join, oldest first."""
    return JoinRequest.objects.select_related("user")


@in_tenant_scope
def join_request_of(tenant: Tenant, *, user_id: int) -> JoinRequest | None:
    """The request of `user_id` to join the tenant, or None."""
    return pending_join_requests(tenant).filter(user_id=user_id).first()


@in_tenant_scope
def policy_of(tenant: Tenant | None) -> Policy | None:
    """The tenant's Policy, or None when its admin never set one (nothing is fixed)."""
    if tenant is None:
        return None
    if hasattr(tenant, "kept_policy"):  # read with the signed-in identity (tenancy.identity)
        kept: Policy | None = tenant.kept_policy
        return kept
    return Policy.objects.first()


def member_count_key(tenant_id: int) -> str:
    return f"members:{tenant_id}"


@in_tenant_scope
def member_count(tenant: Tenant) -> int:
    """How many members the tenant has (kept until a join or a removal is committed)."""
    return kept_count(member_count_key(tenant.pk), Membership.objects.all())


@in_tenant_scope
def audit_events(
    tenant: Tenant,
    *,
    action: str = "",
    actor: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The tenant's audit log, newest first, filtered by action, actor e-mail and dates."""
    events = AuditEvent.objects.select_related("actor")
    if action:
        events = events.filter(action__icontains=action)
    if actor:
        events = events.filter(Q(actor__email__icontains=actor) | Q(actor_label__icontains=actor))
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events


@dataclass
class Progress:
    mailed: int
    failed: int
    total: int

    @property
    def finished(self) -> bool:
        return self.mailed + self.failed == self.total


@in_tenant_scope
def announcement_of(tenant: Tenant, *, pk: int) -> Announcement | None:
    """One announcement of the tenant, or None (another tenant's is not found)."""
    return Announcement.objects.filter(pk=pk).first()


def announcement_progress(announcement: Announcement) -> Progress:
    """How many recipients of an announcement were mailed, refused for good, and in all."""
    with tenant_scope(announcement.tenant_id):
        counts = announcement.deliveries.aggregate(
            mailed=Count("pk", filter=Q(sent_at__isnull=False)),
            failed=Count("pk", filter=Q(failed_at__isnull=False)),
            total=Count("pk"),
        )
    return Progress(**counts)


def unfinished_announcement_ids(*, quiet_since: datetime) -> list[int]:
    """Announcements with recipients left to mail and no mail sent since `quiet_since`.

    A beat sweep over every tenant."""
    busy = (
        AnnouncementDelivery.objects.unscoped()
        .filter(sent_at__gte=quiet_since)
        .values("announcement_id")
    )
    return list(
        Announcement.objects.unscoped()
        .filter(finished_at__isnull=True, created_at__lt=quiet_since)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)
    )


@in_tenant_scope
def member_ids_among(tenant: Tenant, user_ids: Iterable[int] | QuerySet[Any, Any]) -> set[int]:
    """Which of `user_ids` (a list or a query) are members of the tenant."""
    return set(Membership.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))


@in_tenant_scope
def waiting_for_approval_among(
    tenant: Tenant, user_ids: Iterable[int] | QuerySet[Any, Any]
) -> QuerySet[JoinRequest, Any]:
    """Which of `user_ids` (a list or a query) wait for the tenant's admins to let them in."""
    return JoinRequest.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
