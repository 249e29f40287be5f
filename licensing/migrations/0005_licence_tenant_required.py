"""The tenant key, filled by the previous migration, is now required."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0004_tenant_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="licence",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
    ]
