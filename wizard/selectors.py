"""What a member of a newly managed tenant reads on their Getting started page."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise

from core.scoping import in_tenant_scope
from licensing.selectors import licence_holder_ids, live_subscription
from meetings.selectors import CapRule, fixed_by_policy, meeting_settings_of, participant_cap_rule
from tenancy.models import Policy, Tenant, User
from tenancy.selectors import admins_of

from .models import Welcome


@dataclass(frozen=True)
class GettingStarted:
    tenant: Tenant
    plan: Promise | None
    is_admin: bool
    has_licence: bool
    cap: int
    cap_rule: CapRule
    admins: tuple[User, ...]
    settings_kept: bool
    fixed_by_admin: tuple[str, ...]


@in_tenant_scope
def getting_started(tenant: Tenant, *, user: User) -> GettingStarted:
    """What changed for `user` when `tenant` became managed: their licence (or that they wait
    for one), how large their meetings may be, who their admins are, where their settings went
    and which options the admins fixed."""
    subscription = live_subscription(tenant)
    settings = meeting_settings_of(user)
    cap, rule = participant_cap_rule(user, settings=settings)
    labels = {field.name: str(field.verbose_name) for field in Policy._meta.fields}
    return GettingStarted(
        tenant=tenant,
        plan=subscription.plan_details.name if subscription else None,
        is_admin=user.membership.is_admin,
        has_licence=user.pk in licence_holder_ids(tenant, [user.pk]),
        cap=cap,
        cap_rule=rule,
        admins=admins_of(tenant),
        settings_kept=settings is not None and settings.migrated_at is not None,
        fixed_by_admin=tuple(labels[field] for field in fixed_by_policy(tenant)),
    )


@in_tenant_scope
def welcome_to_show(tenant: Tenant, *, user: User) -> bool:
    """Whether the home page shows `user` the Getting started card: they were a member when the
    tenant became managed and have not dismissed it."""
    return Welcome.objects.filter(user=user, dismissed_at__isnull=True).exists()


def tenants_with_unmailed_welcomes(*, created_before: datetime) -> list[int]:
    """Tenants whose Getting started mails are not all sent, begun before `created_before`."""
    # A beat sweep over every tenant: each tenant's task then opens its own scope.
    return list(
        Welcome.objects.unscoped()
        .filter(mailed_at__isnull=True, mail_failure="", created_at__lt=created_before)
        .values_list("tenant_id", flat=True)
        .distinct()
    )
