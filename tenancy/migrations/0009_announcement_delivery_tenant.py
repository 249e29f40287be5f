"""Each announcement delivery carries its announcement's tenant: added empty and filled from the
announcement here, required by the next migration (a transaction of its own: PostgreSQL refuses
to alter a table while the update's foreign-key checks are pending). docs/SCALING.md: every
tenant-owned table carries the tenant key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0008_merge_actor_label_and_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="announcementdelivery",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
        migrations.RunSQL(
            "UPDATE tenancy_announcementdelivery SET tenant_id = (SELECT tenant_id FROM "
            "tenancy_announcement WHERE tenancy_announcement.id = "
            "tenancy_announcementdelivery.announcement_id)",
            migrations.RunSQL.noop,
        ),
    ]
