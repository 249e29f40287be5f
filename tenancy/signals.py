from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from .services import join_tenant_of_verified_email


@receiver(email_confirmed)
def join_tenant_when_verified(sender, request, email_address, **kwargs):
    join_tenant_of_verified_email(user=email_address.user, email=email_address.email)
