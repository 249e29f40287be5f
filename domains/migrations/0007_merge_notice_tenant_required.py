"""The tenant key, filled by the previous migration, is now required."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0006_merge_notice_tenant"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mergenotice",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
    ]
