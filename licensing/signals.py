"""Licences follow people in and out of a managed tenant (tenancy sends, licensing acts)."""

from django.dispatch import receiver

from domains.signals import members_merged
from tenancy.signals import member_joined, member_removed

from .services.seats import free_licence, licence_newcomers, licence_or_wait


@receiver(member_joined)
def give_a_free_licence(sender, tenant, user, actor, new_account=False, **kwargs):
    # No licence free: they are a member on the free plan, waiting for the next seat.
    licence_or_wait(tenant=tenant, actor=actor, user=user, new_account=new_account)


@receiver(member_removed)
def free_their_licence(sender, tenant, user, actor, **kwargs):
    free_licence(tenant=tenant, actor=actor, user=user)


@receiver(members_merged)
def licence_merged_members(sender, tenant, user_ids, **kwargs):
    return licence_newcomers(tenant=tenant, user_ids=user_ids)
