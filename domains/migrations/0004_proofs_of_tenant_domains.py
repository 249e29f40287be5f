from datetime import timedelta

from django.db import migrations
from django.utils import timezone

DAY_SECONDS = 86400


def keep_the_proof_of_each_verified_domain(apps, schema_editor):
    """A managed tenant's primary domain keeps the code of the claim used for its purchase (its
    record must stay published) and its first daily re-check, at the domain's own time of day
    (domains.services.daily_slot), so that checks never all fall due at once."""
    DomainClaim = apps.get_model("domains", "DomainClaim")
    TenantDomain = apps.get_model("tenancy", "TenantDomain")
    now = timezone.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for domain in TenantDomain._base_manager.filter(status="verified").iterator():
        used = (
            DomainClaim._base_manager.filter(tenant_id=domain.tenant_id, status="used")
            .order_by("-closed_at")
            .first()
        )
        if used is not None:
            domain.token = used.token
            domain.verified_at = used.verified_at or domain.verified_at
        slot = midnight + timedelta(seconds=(domain.pk * 2654435761) % DAY_SECONDS)
        domain.next_check_at = slot if slot > now else slot + timedelta(days=1)
        domain.save(update_fields=["token", "verified_at", "next_check_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0003_claims_expire_unused"),
        ("tenancy", "0009_tenant_domains"),
    ]

    operations = [
        migrations.RunPython(keep_the_proof_of_each_verified_domain, migrations.RunPython.noop)
    ]
