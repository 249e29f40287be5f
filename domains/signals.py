"""Sent inside the transaction that merged unmanaged tenants into a managed one, so that higher
apps act in the same transaction without domains importing them (licensing: give the free
licences). Arguments: tenant, user_ids (a query of the ids of the people who joined). A
receiver returns how many licences it gave."""

from django.dispatch import Signal

members_merged = Signal()
