"""The tenant key, filled by the previous migration, is now required."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0009_announcement_delivery_tenant"),
    ]

    operations = [
        migrations.AlterField(
            model_name="announcementdelivery",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
    ]
