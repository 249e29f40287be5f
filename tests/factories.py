"""Factories for the tests: users are made the way sign-up makes them (verified, then a member)."""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from tenancy.services.membership import join_tenant_of_verified_email

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"User {n}")
    email = factory.Sequence(lambda n: f"user{n}@contoso.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """verified=True (default): a confirmed primary address and tenant membership."""
        self.save()
        is_verified = True if extracted is None else extracted
        EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=is_verified)
        if is_verified:
            join_tenant_of_verified_email(user=self, email=self.email)


def member(email, name=None, **kwargs):
    """A verified member of the tenant of `email`'s domain."""
    return UserFactory(email=email, name=name or email.split("@")[0].title(), **kwargs)
