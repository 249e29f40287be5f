"""Django's admin for support staff: read-only lists of every tenant's records, searchable,
for staff signed in through allauth only."""

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import DomainClaim
from licensing.models import Purchase, StripeEvent, Subscription
from tenancy.models import AuditEvent
from tests.factories import PASSWORD, member
from tests.fixtures.two_factor import enrol_totp, totp_code

# (admin URL name of the model, a search that finds contoso's row)
LISTS = {
    "tenancy_tenant": "contoso",
    "tenancy_auditevent": "tenant.upgraded",
    "domains_domainclaim": "contoso",
    "licensing_subscription": "contoso",
    "licensing_purchase": "rob@contoso.com",
    "licensing_stripeevent": "evt_support",
}


@pytest.fixture
def records(contoso):
    """contoso's records as the real purchase made them, and one Stripe event."""
    _rob, _people, subscription = contoso
    StripeEvent.objects.create(
        stripe_event_id="evt_support", type="invoice.paid", tenant=subscription.tenant
    )
    return subscription.tenant


@pytest.fixture
def staff_client():
    """Support staff, signed in through allauth with their second factor."""
    staff = member("ops@quorum.test", is_staff=True)
    secret = enrol_totp(staff)
    client = Client()
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert "_auth_user_id" in client.session
    return client


@pytest.mark.django_db
def test_staff_see_every_tenants_records_and_search_them(records, fabrikam, staff_client):
    for name, term in LISTS.items():
        page = staff_client.get(reverse(f"admin:{name}_changelist"))
        assert page.status_code == 200, name
        found = staff_client.get(reverse(f"admin:{name}_changelist"), {"q": term})
        assert found.status_code == 200, name
        assert found.context["cl"].result_count >= 1, name
        missing = staff_client.get(reverse(f"admin:{name}_changelist"), {"q": "no-such-thing"})
        assert missing.context["cl"].result_count == 0, name
    # Across tenants: both contoso's and fabrikam's subscriptions are listed.
    page = staff_client.get(reverse("admin:licensing_subscription_changelist"))
    assert page.context["cl"].result_count == 2
    listed = {row.tenant.domain for row in page.context["cl"].result_list}
    assert listed == {"contoso.com", "fabrikam.com"}
    # A list filter narrows the list.
    managed = staff_client.get(reverse("admin:tenancy_tenant_changelist"), {"state": "managed"})
    assert managed.context["cl"].result_count == 2
    # A record's page shows it, read-only.
    subscription = Subscription.objects.unscoped().get(tenant=records)
    detail = staff_client.get(
        reverse("admin:licensing_subscription_change", args=[subscription.pk])
    )
    assert detail.status_code == 200
    assert subscription.stripe_subscription_id in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()


@pytest.mark.django_db
def test_nothing_can_be_added_changed_or_deleted(records, staff_client):
    tenant = records
    rows = {
        "tenancy_tenant": tenant,
        "tenancy_auditevent": AuditEvent.objects.unscoped().filter(tenant=tenant).first(),
        "domains_domainclaim": DomainClaim.objects.unscoped().get(tenant=tenant),
        "licensing_subscription": Subscription.objects.unscoped().get(tenant=tenant),
        "licensing_purchase": Purchase.objects.unscoped().get(tenant=tenant),
        "licensing_stripeevent": StripeEvent.objects.get(stripe_event_id="evt_support"),
    }
    for name, row in rows.items():
        assert staff_client.get(reverse(f"admin:{name}_add")).status_code == 403, name
        assert staff_client.post(reverse(f"admin:{name}_add"), {}).status_code == 403, name
        change = reverse(f"admin:{name}_change", args=[row.pk])
        assert staff_client.post(change, {"domain": "evil.example"}).status_code == 403, name
        delete = reverse(f"admin:{name}_delete", args=[row.pk])
        assert staff_client.post(delete, {"post": "yes"}).status_code == 403, name
        # The bulk action is not offered either.
        listing = staff_client.post(
            reverse(f"admin:{name}_changelist"),
            {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
        )
        assert listing.status_code in (200, 302), name
    tenant.refresh_from_db()
    assert tenant.domain == "contoso.com"
    for row in rows.values():
        assert type(row)._base_manager.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_members_who_are_not_staff_and_visitors_see_nothing(records):
    tenant = records
    rob = tenant.memberships.unscoped().get(user__email="rob@contoso.com").user
    assert not rob.is_staff
    subscription = Subscription.objects.unscoped().get(tenant=tenant)
    visitor = Client()
    member_client = Client()
    member_client.force_login(rob)
    for name in LISTS:
        url = reverse(f"admin:{name}_changelist")
        page = visitor.get(url, follow=True)
        assert page.redirect_chain[-1][0].startswith(reverse("account_login") + "?next=")
        assert page.status_code == 200  # the sign-in page
        refused = member_client.get(url, follow=True)
        assert refused.status_code == 403
        for secret in ("evt_support", subscription.stripe_subscription_id, "tenant.upgraded"):
            assert secret not in refused.content.decode()


@pytest.mark.django_db
def test_the_admins_sign_in_is_allauths_with_its_second_factor():
    """The admin's own login page sends staff to allauth's; a staff member with an authenticator
    app does not reach the admin on the password alone."""
    staff = member("ops@quorum.test", is_staff=True)
    secret = enrol_totp(staff)
    client = Client()
    login = client.get(reverse("admin:login"))
    assert login.status_code == 302
    assert login["Location"].startswith(reverse("account_login") + "?next=")
    response = client.post(
        reverse("account_login"),
        {"login": staff.email, "password": PASSWORD, "next": reverse("admin:index")},
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login"))
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
