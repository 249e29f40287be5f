"""Every tenant-owned table carries the tenant key, so that distributing the database by tenant
(Citus, docs/SCALING.md) needs no schema change; the migrations that added it filled it from
each row's parent."""

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ForeignKey, Model, OneToOneField

from core.scoping import TenantScopedManager
from tenancy.models import Tenant

OUR_APPS = {
    "tenancy",
    "meetings",
    "domains",
    "licensing",
    "provisioning",
    "sso",
    "wizard",
    "portal",
}
# The only tables of ours without a required tenant key, and why.
NOT_TENANT_OWNED = {
    # The key itself.
    "tenancy.Tenant": "the tenant",
    # A person exists before any tenant (a consumer address has none), moves to the tenant of a
    # new verified address and keeps their meetings when removed: owned by the person.
    "tenancy.User": "a person, not a tenant",
    # Created with the person at sign-up, before any tenant, and kept when they are removed;
    # found by its owner (or their personal-room link), never by tenant.
    "meetings.MeetingSettings": "a person's own settings",
}
# Tables whose tenant key may be empty, and why.
TENANT_KNOWN_LATER = {
    # Stripe names the subscription, not the tenant: the event is recorded before its
    # subscription is looked up, and an event of an unknown subscription or an ignored type never
    # names one. Found by Stripe's event id alone, so the table is not scoped either.
    "licensing.StripeEvent": "recorded before its subscription (and tenant) is known",
}


def our_models() -> list[type[Model]]:
    return [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]


def tenant_key(model: type[Model]) -> ForeignKey | None:
    fields = [field for field in model._meta.concrete_fields if field.name == "tenant"]
    return fields[0] if fields else None  # type: ignore[return-value]


def test_the_exceptions_name_real_models():
    labels = {model._meta.label for model in our_models()}
    assert set(NOT_TENANT_OWNED) | set(TENANT_KNOWN_LATER) <= labels


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_every_tenant_owned_table_carries_the_tenant_key(model):
    label = model._meta.label
    key = tenant_key(model)
    if label in NOT_TENANT_OWNED:
        assert key is None, f"{label} has a tenant key: take it off NOT_TENANT_OWNED"
        return
    assert isinstance(key, ForeignKey | OneToOneField), f"{label} lacks a tenant foreign key"
    assert key.related_model is Tenant
    assert key.column == "tenant_id"
    if label in TENANT_KNOWN_LATER:
        assert key.null
        assert not isinstance(model._default_manager, TenantScopedManager)
    else:
        assert not key.null, f"{label}.tenant may be empty"
        assert isinstance(model._default_manager, TenantScopedManager), label


BEFORE = [
    ("tenancy", "0008_merge_actor_label_and_two_factor"),
    ("meetings", "0001_initial"),
    ("licensing", "0003_past_due_grace"),
    ("provisioning", "0001_initial"),
]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_fill_the_key_from_each_rows_parent():
    """Rows written before the key existed get their parent's tenant, then the key is required."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    rows = {}
    for index, domain in enumerate(("contoso.com", "fabrikam.com")):
        tenant = old.get_model("tenancy", "Tenant").objects.create(domain=domain)
        user = old.get_model("tenancy", "User").objects.create(email=f"rob@{domain}")
        meeting = old.get_model("meetings", "Meeting").objects.create(
            organiser=user,
            tenant=tenant,
            title="Weekly",
            starts_at="2031-01-15T10:00Z",
            duration_minutes=30,
            join_token=f"token-{index}",
            anonymous_join_allowed=True,
            recording_allowed=True,
        )
        participant = old.get_model("meetings", "Participant").objects.create(
            meeting=meeting, user=user, display_name="Rob"
        )
        announcement = old.get_model("tenancy", "Announcement").objects.create(
            tenant=tenant, author=user, subject="Hello", body="Hello"
        )
        delivery = old.get_model("tenancy", "AnnouncementDelivery").objects.create(
            announcement=announcement, user=user
        )
        subscription = old.get_model("licensing", "Subscription").objects.create(
            tenant=tenant,
            stripe_customer_id=f"cus_{index}",
            stripe_subscription_id=f"sub_{index}",
            plan="essentials",
            status="active",
            quantity=1,
        )
        licence = old.get_model("licensing", "Licence").objects.create(
            subscription=subscription, user=user
        )
        resource = old.get_model("provisioning", "ProvisionedUser").objects.create(
            tenant=tenant, user=user
        )
        address = old.get_model("provisioning", "ProvisionedEmail").objects.create(
            resource=resource, value=f"rob@{domain}"
        )
        rows[tenant.pk] = [participant, delivery, licence, address]

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    new = executor.loader.project_state(latest).apps
    for tenant_id, written in rows.items():
        for row in written:
            model = new.get_model(row._meta.app_label, row._meta.model_name)
            assert model._base_manager.get(pk=row.pk).tenant_id == tenant_id, model
    for label in ("meetings.Participant", "licensing.Licence", "tenancy.AnnouncementDelivery"):
        assert not new.get_model(label)._meta.get_field("tenant").null
