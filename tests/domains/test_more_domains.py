"""More domains per tenant: an admin adds a domain and proves it; the unmanaged tenant there is
merged in (members, meetings and settings intact, nobody lost, each told once); a domain
another managed organisation holds is refused; subdomains of a verified domain belong to it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from domains import services
from domains.exceptions import DomainHeldError, DomainInUseError, DomainNotAddableError
from domains.models import DomainClaim, MergeNotice, TenantMerge
from licensing.models import Licence
from licensing.services.seats import change_seat_count
from meetings.models import MeetingSettings
from meetings.services import schedule_meeting, update_personal_settings
from tenancy.exceptions import TenancyError
from tenancy.models import AuditEvent, JoinRequest, Membership, Tenant, TenantDomain
from tenancy.selectors import tenant_for_domain
from tenancy.services.membership import invite_member, set_signup_mode
from tests.factories import member
from tests.fixtures.claims import make_due

pytestmark = pytest.mark.django_db
Status = DomainClaim.Status


def add_and_prove(admin, domain, dns):
    """The admin adds `domain`, publishes its record on the test DNS server, and it is checked."""
    claim = services.start_domain_claim(tenant=admin.membership.tenant, admin=admin, domain=domain)
    dns.set_txt(domain, "v=spf1 -all", claim.record_value)
    make_due(claim)
    return services.check_claim(claim_id=claim.pk)


@pytest.fixture
def fabrikam_free(db):
    """fabrikam.com, unmanaged: Fay, who scheduled a meeting, and Gus, who customised his
    personal settings."""
    fay = member("fay@fabrikam.com", name="Fay Durand")
    gus = member("gus@fabrikam.com", name="Gus Martin")
    meeting = schedule_meeting(
        organiser=fay,
        title="Fabrikam weekly",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass="organisation",
        anonymous_join_allowed=False,
        recording_allowed=True,
    )
    update_personal_settings(
        user=gus, values={"default_duration_minutes": 45, "time_zone": "Europe/Paris"}
    )
    return fay, gus, meeting


def notices_sent(merge):
    return services.send_merge_notice_batch(merge_id=merge.pk, batch_size=100)


def test_adding_a_domain_merges_the_unmanaged_tenant_there(contoso, fabrikam_free, dns):
    rob, [sara], _subscription = contoso
    fay, gus, meeting = fabrikam_free
    contoso_tenant, old = rob.membership.tenant, fay.membership.tenant
    gus_settings = MeetingSettings.objects.get(user=gus)

    claim = add_and_prove(rob, "fabrikam.com", dns)

    assert claim.status == Status.USED
    added = TenantDomain.objects.unscoped().get(domain="fabrikam.com")
    assert (added.tenant, added.status, added.is_primary) == (contoso_tenant, "verified", False)
    assert added.token == claim.token  # its record must stay
    old.refresh_from_db()
    assert (old.state, old.merged_into) == (Tenant.State.CLOSED, contoso_tenant)
    assert not TenantDomain.objects.unscoped().filter(tenant=old).exists()
    # Nobody lost: everyone of both is a member of contoso.com.
    assert set(
        Membership.objects.unscoped().filter(tenant=contoso_tenant).values_list("user", flat=True)
    ) == {rob.pk, sara.pk, fay.pk, gus.pk}
    assert not Membership.objects.unscoped().filter(tenant=old).exists()
    # Meetings and personal settings came along, untouched.
    meeting.refresh_from_db()
    assert (meeting.tenant, meeting.organiser, meeting.title) == (
        contoso_tenant,
        fay,
        "Fabrikam weekly",
    )
    after = MeetingSettings.objects.get(user=gus)
    assert (after.default_duration_minutes, after.time_zone, after.personal_room_token) == (
        45,
        "Europe/Paris",
        gus_settings.personal_room_token,
    )
    # No licence was free (2 bought, 2 assigned): both keep the free plan and wait for one.
    merge = TenantMerge.objects.unscoped().get()
    assert (merge.joined, merge.waiting_for_approval, merge.licensed) == (2, 0, 0)
    assert merge.merged_domains == ["fabrikam.com"]
    assert not Licence.objects.unscoped().filter(user__in=[fay, gus]).exists()
    # Audited in both.
    added_event = AuditEvent.objects.unscoped().get(action="domain.added")
    assert (added_event.tenant, added_event.actor, added_event.target) == (
        contoso_tenant,
        rob,
        "fabrikam.com",
    )
    assert added_event.after["joined"] == 2
    closed = AuditEvent.objects.unscoped().get(action="tenant.merged")
    assert (closed.tenant, closed.after["merged_into"]) == (old, "contoso.com")


def test_the_merged_members_are_told_by_mail_once(contoso, fabrikam_free, dns):
    rob, _people, _subscription = contoso
    fay, gus, _meeting = fabrikam_free
    MeetingSettings.objects.filter(user=gus).update(language="fr")
    add_and_prove(rob, "fabrikam.com", dns)
    merge = TenantMerge.objects.unscoped().get()
    mail.outbox.clear()

    assert notices_sent(merge) == 0
    assert notices_sent(merge) == 0  # a second delivery of the task mails nobody again

    assert sorted(message.to[0] for message in mail.outbox) == [fay.email, gus.email]
    to_fay = next(message for message in mail.outbox if message.to == [fay.email])
    assert to_fay.subject == "Your Quorum account is now part of contoso.com"
    assert "Your account, your meetings and your personal settings came along" in to_fay.body
    to_gus = next(message for message in mail.outbox if message.to == [gus.email])
    assert to_gus.subject == "Votre compte Quorum fait désormais partie de contoso.com"
    assert MergeNotice.objects.unscoped().filter(merge=merge, sent_at__isnull=True).count() == 0
    merge.refresh_from_db()
    assert merge.notices_finished_at is not None


def test_free_licences_go_to_the_longest_standing_newcomers(contoso, fabrikam_free, dns):
    rob, _people, subscription = contoso
    fay, gus, _meeting = fabrikam_free
    Membership.objects.unscoped().filter(user=gus).update(
        joined_at=timezone.now() - timedelta(days=30)
    )
    change_seat_count(tenant=rob.membership.tenant, actor=rob, quantity=3)

    add_and_prove(rob, "fabrikam.com", dns)

    assert TenantMerge.objects.unscoped().get().licensed == 1
    assert Licence.objects.unscoped().filter(subscription=subscription, user=gus).exists()
    assert not Licence.objects.unscoped().filter(user=fay).exists()
    assert MeetingSettings.objects.get(user=gus).licensed_cap == 300
    assert MeetingSettings.objects.get(user=fay).licensed_cap is None


def test_under_the_approval_rule_the_merged_people_wait_for_the_admins(contoso, fabrikam_free, dns):
    rob, _people, _subscription = contoso
    fay, gus, meeting = fabrikam_free
    set_signup_mode(tenant=rob.membership.tenant, actor=rob, mode="approval")

    add_and_prove(rob, "fabrikam.com", dns)

    merge = TenantMerge.objects.unscoped().get()
    assert (merge.joined, merge.waiting_for_approval) == (0, 2)
    assert set(JoinRequest.objects.unscoped().values_list("user", flat=True)) == {fay.pk, gus.pk}
    assert not Membership.objects.unscoped().filter(user__in=[fay, gus]).exists()
    assert set(MergeNotice.objects.unscoped().values_list("outcome", flat=True)) == {"waiting"}
    meeting.refresh_from_db()
    assert meeting.tenant == rob.membership.tenant
    mail.outbox.clear()
    notices_sent(merge)
    assert all("Its admins approve who joins" in message.body for message in mail.outbox)


def test_a_domain_another_managed_organisation_holds_is_refused_its_admin_masked(contoso, fabrikam):
    rob, _people, _subscription = contoso
    for domain in ("fabrikam.com", "eu.fabrikam.com"):
        with pytest.raises(DomainHeldError) as refused:
            services.start_domain_claim(tenant=rob.membership.tenant, admin=rob, domain=domain)
        assert refused.value.masked_admin == "f***@f***.com"
        assert "whose admin is f***@f***.com" in refused.value.message
    assert not DomainClaim.objects.unscoped().filter(purpose="add_domain").exists()


def test_a_domain_taken_by_a_managed_organisation_meanwhile_is_refused_at_verification(
    contoso, fabrikam_free, dns, localstripe
):
    from tests.fixtures.purchases import buy, verified_claim

    rob, _people, _subscription = contoso
    fay, _gus, _meeting = fabrikam_free
    claim = services.start_domain_claim(
        tenant=rob.membership.tenant, admin=rob, domain="fabrikam.com"
    )
    verified_claim(fay)
    buy(localstripe, fay)  # fabrikam.com becomes managed, by Fay
    dns.set_txt("fabrikam.com", claim.record_value)
    make_due(claim)

    claim = services.check_claim(claim_id=claim.pk)

    assert claim.status == Status.REFUSED
    assert "whose admin is f***@f***.com" in claim.last_error
    assert tenant_for_domain("fabrikam.com") == fay.membership.tenant
    assert not TenantMerge.objects.unscoped().exists()
    assert AuditEvent.objects.unscoped().get(action="domain.refused").target == "fabrikam.com"


@pytest.mark.parametrize(
    ("domain", "why"),
    [
        ("not a domain", "is not a valid domain"),
        ("gmail.com", "is not an organisation's domain"),
        ("co.uk", "is not an organisation's domain"),
        ("contoso.com", "is already one of your domains"),
        ("eu.contoso.com", "is a subdomain of contoso.com, which is yours"),
    ],
)
def test_a_domain_that_cannot_be_added_says_why_and_changes_nothing(contoso, domain, why):
    rob, _people, _subscription = contoso
    with pytest.raises(DomainNotAddableError) as refused:
        services.start_domain_claim(tenant=rob.membership.tenant, admin=rob, domain=domain)
    assert why in refused.value.message
    assert not DomainClaim.objects.unscoped().filter(purpose="add_domain").exists()


def test_adding_again_returns_the_claim_in_progress(contoso):
    rob, _people, _subscription = contoso
    tenant = rob.membership.tenant
    first = services.start_domain_claim(tenant=tenant, admin=rob, domain="Fabrikam.COM.")
    again = services.start_domain_claim(tenant=tenant, admin=rob, domain="fabrikam.com")
    assert (again.pk, again.domain, again.purpose) == (first.pk, "fabrikam.com", "add_domain")


def test_subdomains_of_a_verified_domain_belong_to_its_tenant(contoso, dns):
    rob, _people, _subscription = contoso
    contoso_tenant = rob.membership.tenant
    add_and_prove(rob, "fabrikam.com", dns)
    assert tenant_for_domain("eu.contoso.com") == contoso_tenant
    assert tenant_for_domain("eu.fabrikam.com") == contoso_tenant
    assert tenant_for_domain("contoso.com.evil.example") is None
    zoe = member("zoe@eu.fabrikam.com")
    assert zoe.membership.tenant == contoso_tenant
    # An unverified domain covers no subdomain: eu.tailspin.com is its own tenant.
    ann = member("ann@tailspin.com")
    assert member("eve@eu.tailspin.com").membership.tenant != ann.membership.tenant


def test_unmanaged_tenants_at_subdomains_are_merged_too(contoso, dns):
    rob, _people, _subscription = contoso
    fay = member("fay@fabrikam.com")
    eli = member("eli@eu.fabrikam.com")
    assert fay.membership.tenant != eli.membership.tenant
    add_and_prove(rob, "fabrikam.com", dns)
    merge = TenantMerge.objects.unscoped().get()
    assert sorted(merge.merged_domains) == ["eu.fabrikam.com", "fabrikam.com"]
    assert Tenant.objects.filter(state=Tenant.State.CLOSED).count() == 2
    assert set(
        Membership.objects.unscoped().filter(user__in=[fay, eli]).values_list("tenant", flat=True)
    ) == {rob.membership.tenant.pk}


def test_invitations_take_any_of_the_tenants_domains(contoso, dns):
    rob, _people, _subscription = contoso
    tenant = rob.membership.tenant
    add_and_prove(rob, "fabrikam.com", dns)
    invited = invite_member(
        tenant=tenant, actor=rob, email="hal@fabrikam.com", name="Hal", base_url="http://x"
    )
    assert invited.membership.tenant == tenant
    with pytest.raises(TenancyError) as refused:
        invite_member(
            tenant=tenant, actor=rob, email="hal@tailspin.com", name="Hal", base_url="http://x"
        )
    assert refused.value.message == (
        "Only addresses at contoso.com, fabrikam.com can join your organisation."
    )


def test_a_domain_is_removed_only_when_no_member_uses_it(contoso, fabrikam_free, dns):
    rob, _people, _subscription = contoso
    tenant = rob.membership.tenant
    add_and_prove(rob, "fabrikam.com", dns)
    add_and_prove(rob, "northwind.com", dns)
    domains = {d.domain: d for d in TenantDomain.objects.unscoped().filter(tenant=tenant)}

    with pytest.raises(DomainInUseError) as refused:
        services.remove_domain(tenant=tenant, actor=rob, domain_id=domains["fabrikam.com"].pk)
    assert refused.value.message == (
        "2 members have an address at fabrikam.com: the domain stays while they do."
    )
    with pytest.raises(DomainNotAddableError) as primary:
        services.remove_domain(tenant=tenant, actor=rob, domain_id=domains["contoso.com"].pk)
    assert "primary domain" in primary.value.message

    services.remove_domain(tenant=tenant, actor=rob, domain_id=domains["northwind.com"].pk)

    assert tenant_for_domain("northwind.com") is None
    removed = AuditEvent.objects.unscoped().get(action="domain.removed")
    assert (removed.target, removed.actor) == ("northwind.com", rob)
    # Addresses there are nobody's again: a sign-up starts a new organisation.
    assert member("nia@northwind.com").membership.tenant != tenant


def test_a_domain_with_no_unmanaged_tenant_is_simply_added(contoso, dns):
    rob, _people, _subscription = contoso
    claim = add_and_prove(rob, "northwind.com", dns)
    assert claim.status == Status.USED
    assert not TenantMerge.objects.unscoped().exists()
    assert AuditEvent.objects.unscoped().get(action="domain.added").after["merged"] == []
