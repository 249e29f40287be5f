"""Each licence carries its subscription's tenant: added empty and filled from the subscription
here, required by the next migration (a transaction of its own: PostgreSQL refuses to alter a
table while the update's foreign-key checks are pending). A Stripe event names its tenant once
its subscription is found. docs/SCALING.md: every tenant-owned table carries the tenant key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0003_past_due_grace"),
        ("tenancy", "0008_merge_actor_label_and_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="licence",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
        migrations.RunSQL(
            "UPDATE licensing_licence SET tenant_id = (SELECT tenant_id FROM "
            "licensing_subscription WHERE licensing_subscription.id = "
            "licensing_licence.subscription_id)",
            migrations.RunSQL.noop,
        ),
        # Events recorded so far named no tenant, and their subscription was never kept with
        # them: they stay empty, as events of unknown subscriptions do.
        migrations.AddField(
            model_name="stripeevent",
            name="tenant",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
    ]
