"""Licences follow people in and out of a managed tenant (tenancy sends, licensing acts)."""

from contextlib import suppress

from django.dispatch import receiver

from domains.signals import members_merged
from tenancy.signals import member_joined, member_removed

from .exceptions import LicensingError
from .selectors import licence_holder_ids
from .services.seats import assign_licence, licence_newcomers, unassign_licence


@receiver(member_joined)
def give_a_free_licence(sender, tenant, user, actor, **kwargs):
    # No licence left: they are a member on the free plan until an admin assigns one.
    with suppress(LicensingError):
        assign_licence(tenant=tenant, actor=actor, user=user)


@receiver(member_removed)
def free_their_licence(sender, tenant, user, actor, **kwargs):
    if user.pk in licence_holder_ids(tenant, [user.pk]):
        unassign_licence(tenant=tenant, actor=actor, user=user)


@receiver(members_merged)
def licence_merged_members(sender, tenant, user_ids, **kwargs):
    return licence_newcomers(tenant=tenant, user_ids=user_ids)
