"""Each provisioned address carries its resource's tenant: added empty and filled from the
resource here, required by the next migration (a transaction of its own: PostgreSQL refuses to
alter a table while the update's foreign-key checks are pending). docs/SCALING.md: every
tenant-owned table carries the tenant key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0001_initial"),
        ("tenancy", "0008_merge_actor_label_and_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="provisionedemail",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
        migrations.RunSQL(
            "UPDATE provisioning_provisionedemail SET tenant_id = (SELECT tenant_id FROM "
            "provisioning_provisioneduser WHERE provisioning_provisioneduser.id = "
            "provisioning_provisionedemail.resource_id)",
            migrations.RunSQL.noop,
        ),
    ]
