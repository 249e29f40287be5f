from allauth.account.signals import email_confirmed
from django.dispatch import Signal, receiver

# Sent inside the transaction that adds or removes a member of a managed tenant, so that higher
# apps (licensing: give or free a licence) act in the same transaction without tenancy
# importing them. Arguments: tenant, user, actor (None for a self-service sign-up).
member_joined = Signal()
member_removed = Signal()


@receiver(email_confirmed)
def join_tenant_when_verified(sender, request, email_address, **kwargs):
    from .services.membership import join_tenant_of_verified_email

    join_tenant_of_verified_email(user=email_address.user, email=email_address.email)
