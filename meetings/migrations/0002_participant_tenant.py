"""Each participant row carries its meeting's tenant: added empty and filled from the meeting
here, required by the next migration (a transaction of its own: PostgreSQL refuses to alter a
table while the update's foreign-key checks are pending). docs/SCALING.md: every tenant-owned
table carries the tenant key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0001_initial"),
        ("tenancy", "0008_merge_actor_label_and_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
        migrations.RunSQL(
            "UPDATE meetings_participant SET tenant_id = (SELECT tenant_id FROM meetings_meeting "
            "WHERE meetings_meeting.id = meetings_participant.meeting_id)",
            migrations.RunSQL.noop,
        ),
    ]
