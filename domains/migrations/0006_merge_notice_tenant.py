"""Each merge notice carries its merge's (receiving) tenant: added empty and filled from the merge
here, required by the next migration (a transaction of its own: PostgreSQL refuses to alter a
table while the update's foreign-key checks are pending). docs/SCALING.md: every tenant-owned
table carries the tenant key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0005_domains_per_tenant"),
        ("tenancy", "0011_merge_tenant_key_and_domains"),
    ]

    operations = [
        migrations.AddField(
            model_name="mergenotice",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
        migrations.RunSQL(
            "UPDATE domains_mergenotice SET tenant_id = (SELECT tenant_id FROM "
            "domains_tenantmerge WHERE domains_tenantmerge.id = domains_mergenotice.merge_id)",
            migrations.RunSQL.noop,
        ),
    ]
