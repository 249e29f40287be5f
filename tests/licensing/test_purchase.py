import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domains.models import DomainClaim
from licensing.exceptions import LicensingError, PaymentError
from licensing.models import Licence, Purchase, SettingsMigration, Subscription
from licensing.services.catalogue import sync_stripe_plans
from licensing.services.purchase import purchase_seats, start_purchase
from meetings.models import MeetingSettings
from tenancy.models import AuditEvent, Membership, Tenant
from tests.factories import member
from tests.fixtures.purchases import (
    AUTHENTICATION_CARD,
    DECLINED_AT_CHARGE,
    DECLINED_CARD,
    buy,
    purchase_ready,
    verified_claim,
)


def assert_nothing_changed(tenant):
    tenant.refresh_from_db()
    assert tenant.state == Tenant.State.UNMANAGED
    assert (
        not Membership.objects.unscoped().filter(tenant=tenant, role=Membership.Role.ADMIN).exists()
    )
    assert not Subscription.objects.unscoped().exists()
    assert not Licence.objects.unscoped().exists()
    assert MeetingSettings.objects.filter(licensed_cap__isnull=False).count() == 0
    assert DomainClaim.objects.unscoped().filter(status=DomainClaim.Status.USED).count() == 0


@pytest.mark.django_db
def test_sync_stripe_plans_is_idempotent(localstripe):
    again = sync_stripe_plans()
    assert [created for _plan, created in again] == [False, False]
    plans = {p.id: p.amount for p in localstripe.client().v1.plans.list().data}
    assert plans == {
        "quorum-essentials-eur-600-month": 600,
        "quorum-premium-eur-1250-month": 1250,
    }


@pytest.mark.django_db
def test_two_signups_buy_two_licences_and_the_buyer_becomes_admin(localstripe, contoso):
    rob, _sara = contoso
    purchase = buy(localstripe, rob)

    assert purchase.state == Purchase.State.SUCCEEDED
    [stripe_subscription] = localstripe.subscriptions()
    assert stripe_subscription.status == "active"
    assert stripe_subscription["items"]["data"][0]["quantity"] == 2
    assert stripe_subscription["items"]["data"][0]["plan"]["id"] == (
        "quorum-essentials-eur-600-month"
    )

    tenant = rob.membership.tenant
    tenant.refresh_from_db()
    assert tenant.state == Tenant.State.MANAGED
    subscription = Subscription.objects.unscoped().get(tenant=tenant)
    assert (subscription.quantity, subscription.plan) == (2, "essentials")
    assert subscription.stripe_subscription_id == stripe_subscription.id
    assert set(Licence.objects.unscoped().values_list("user__email", flat=True)) == {
        "rob@contoso.com",
        "sara@contoso.com",
    }
    roles = dict(Membership.objects.unscoped().values_list("user__email", "role"))
    assert roles == {"rob@contoso.com": "admin", "sara@contoso.com": "member"}
    assert DomainClaim.objects.unscoped().get(claimant=rob).status == DomainClaim.Status.USED
    migration = SettingsMigration.objects.unscoped().get()
    assert (migration.members, migration.performed_by) == (2, rob)
    assert set(MeetingSettings.objects.values_list("licensed_cap", flat=True)) == {300}
    event = AuditEvent.objects.unscoped().get(action="tenant.upgraded")
    assert event.after["licences"] == 2
    assert event.actor == rob


@pytest.mark.django_db
def test_personal_settings_keep_every_customised_value(localstripe, contoso):
    rob, sara = contoso
    customised = {
        "default_duration_minutes": 45,
        "lobby_bypass": "everyone",
        "anonymous_join_allowed": False,
        "announce_join_leave": True,
        "recording_allowed": False,
        "time_zone": "Europe/Paris",
        "language": "fr",
    }
    settings_row = MeetingSettings.objects.get(user=sara)
    for field, value in customised.items():
        setattr(settings_row, field, value)
    settings_row.customised = list(customised)
    settings_row.save()
    before = {
        user.pk: {
            field: getattr(MeetingSettings.objects.get(user=user), field)
            for field in MeetingSettings.PERSONAL_FIELDS
        }
        for user in (rob, sara)
    }

    buy(localstripe, rob)

    for user in (rob, sara):
        after = MeetingSettings.objects.get(user=user)
        assert {f: getattr(after, f) for f in MeetingSettings.PERSONAL_FIELDS} == before[user.pk]
        assert after.licensed_cap == 300
        assert after.migrated_at is not None


@pytest.mark.django_db
def test_admin_entry_offers_only_essentials(localstripe, contoso):
    rob, _sara = contoso
    with pytest.raises(LicensingError, match="not offered"):
        buy(localstripe, rob, entry="admin", plan="premium")
    assert localstripe.subscriptions() == []
    assert_nothing_changed(rob.membership.tenant)


@pytest.mark.django_db
def test_meetings_entry_may_buy_premium(localstripe, contoso):
    rob, _sara = contoso
    buy(localstripe, rob, entry="meetings", plan="premium")
    [stripe_subscription] = localstripe.subscriptions()
    assert stripe_subscription["items"]["data"][0]["plan"]["id"] == (
        "quorum-premium-eur-1250-month"
    )
    assert Subscription.objects.unscoped().get().plan == "premium"


@pytest.mark.django_db
def test_unknown_plan_is_refused(localstripe, contoso):
    rob, _sara = contoso
    with pytest.raises(LicensingError):
        buy(localstripe, rob, entry="meetings", plan="platinum")
    assert_nothing_changed(rob.membership.tenant)


@pytest.mark.django_db
def test_declined_card_changes_nothing(localstripe, contoso):
    rob, _sara = contoso
    with pytest.raises(PaymentError, match="declined"):
        buy(localstripe, rob, card=DECLINED_AT_CHARGE)
    assert [s.status for s in localstripe.subscriptions()] == []
    assert_nothing_changed(rob.membership.tenant)
    purchase = Purchase.objects.unscoped().get()
    assert purchase.state == Purchase.State.FAILED
    assert "declined" in purchase.error


@pytest.mark.django_db
def test_card_declined_in_the_card_form_is_never_charged(localstripe, contoso):
    rob, _sara = contoso
    purchase, client_secret = start_purchase(buyer=rob, entry="admin")
    refusal = localstripe.confirm_card(client_secret, DECLINED_CARD)
    assert refusal["error"]["message"] == "Your card was declined."
    with pytest.raises(PaymentError, match="not confirmed"):
        purchase_seats(
            buyer=rob,
            purchase_id=purchase.pk,
            plan_key="essentials",
            confirmed_seats=2,
            setup_intent_id=client_secret.split("_secret_")[0],
        )
    assert localstripe.subscriptions() == []
    assert_nothing_changed(rob.membership.tenant)


@pytest.mark.django_db
def test_bank_authentication_required_changes_nothing(localstripe, contoso):
    rob, _sara = contoso
    with pytest.raises(PaymentError, match="authenticate"):
        buy(localstripe, rob, card=AUTHENTICATION_CARD)
    assert [s for s in localstripe.subscriptions() if s.status == "active"] == []
    assert_nothing_changed(rob.membership.tenant)
    assert Purchase.objects.unscoped().get().state == Purchase.State.REQUIRES_ACTION


@pytest.mark.django_db
def test_a_declined_card_then_a_good_one_makes_one_subscription(localstripe, contoso):
    rob, _sara = contoso
    with pytest.raises(PaymentError):
        buy(localstripe, rob, card=DECLINED_AT_CHARGE)
    purchase = buy(localstripe, rob)
    assert purchase.state == Purchase.State.SUCCEEDED
    assert [s.status for s in localstripe.subscriptions()] == ["active"]
    assert Purchase.objects.unscoped().count() == 1


@pytest.mark.django_db
def test_double_submit_makes_one_subscription(localstripe, contoso):
    rob, _sara = contoso
    submit = purchase_ready(localstripe, rob)
    first = purchase_seats(**submit)
    second = purchase_seats(**submit)
    assert first.pk == second.pk
    assert second.state == Purchase.State.SUCCEEDED
    assert len(localstripe.subscriptions()) == 1
    assert Subscription.objects.unscoped().count() == 1
    assert Licence.objects.unscoped().count() == 2


@pytest.mark.django_db
def test_retry_after_a_cut_off_finds_the_subscription_stripe_already_made(localstripe, contoso):
    """The first try reached Stripe but our side never committed (a time-out, a crash): Stripe
    holds a subscription for this purchase attempt. The retry must use it, not buy again."""
    rob, _sara = contoso
    purchase, client_secret = start_purchase(buyer=rob, entry="admin")
    localstripe.confirm_card(client_secret, "4242424242424242")
    setup_intent = localstripe.client().v1.setup_intents.retrieve(
        client_secret.split("_secret_")[0]
    )
    client = localstripe.client()
    client.v1.payment_methods.attach(
        setup_intent.payment_method, params={"customer": purchase.stripe_customer_id}
    )
    client.v1.customers.update(
        purchase.stripe_customer_id,
        params={"invoice_settings": {"default_payment_method": setup_intent.payment_method}},
    )
    earlier = client.v1.subscriptions.create(
        params={
            "customer": purchase.stripe_customer_id,
            "items": [{"plan": "quorum-essentials-eur-600-month", "quantity": 2}],
            "metadata": {"quorum_purchase": str(purchase.pk)},
        }
    )

    done = purchase_seats(
        buyer=rob,
        purchase_id=purchase.pk,
        plan_key="essentials",
        confirmed_seats=2,
        setup_intent_id=setup_intent.id,
    )
    assert done.state == Purchase.State.SUCCEEDED
    assert [s.id for s in localstripe.subscriptions()] == [earlier.id]
    assert Subscription.objects.unscoped().get().stripe_subscription_id == earlier.id


@pytest.mark.django_db
def test_a_signup_since_the_page_was_shown_asks_to_confirm_the_new_total(localstripe, contoso):
    rob, _sara = contoso
    purchase, client_secret = start_purchase(buyer=rob, entry="admin")
    assert purchase.seats == 2
    localstripe.confirm_card(client_secret, "4242424242424242")
    member("li@contoso.com")
    submit = {
        "buyer": rob,
        "purchase_id": purchase.pk,
        "plan_key": "essentials",
        "setup_intent_id": client_secret.split("_secret_")[0],
    }

    pending = purchase_seats(confirmed_seats=2, **submit)
    assert (pending.state, pending.seats) == (Purchase.State.NEEDS_CONFIRMATION, 3)
    assert localstripe.subscriptions() == []
    assert_nothing_changed(rob.membership.tenant)

    done = purchase_seats(confirmed_seats=3, **submit)
    assert done.state == Purchase.State.SUCCEEDED
    [stripe_subscription] = localstripe.subscriptions()
    assert stripe_subscription["items"]["data"][0]["quantity"] == 3
    assert Licence.objects.unscoped().count() == 3


@pytest.mark.django_db
def test_no_step_4_without_a_verified_claim(localstripe):
    rob = member("rob@contoso.com")
    with pytest.raises(LicensingError, match=r"Confirm that you own contoso\.com"):
        start_purchase(buyer=rob, entry="admin")
    assert not Purchase.objects.unscoped().exists()


@pytest.mark.django_db
def test_a_pending_claim_is_not_enough(localstripe):
    rob = member("rob@contoso.com")
    claim = verified_claim(rob)
    claim.status = DomainClaim.Status.PENDING
    claim.save()
    with pytest.raises(LicensingError, match="Confirm that you own"):
        start_purchase(buyer=rob, entry="meetings")


@pytest.mark.django_db
def test_the_other_claim_is_superseded(localstripe, contoso):
    rob, sara = contoso
    sara_claim = verified_claim(sara)
    buy(localstripe, rob)
    sara_claim.refresh_from_db()
    assert sara_claim.status == DomainClaim.Status.SUPERSEDED
    with pytest.raises(LicensingError, match="already has an admin"):
        start_purchase(buyer=sara, entry="admin")


def _members(tenant_domain, count):
    return [member(f"user{i}@{tenant_domain}") for i in range(count)]


@pytest.mark.django_db
@pytest.mark.parametrize("domain", ["small.example"])
def test_query_count_does_not_grow_with_members(localstripe, domain):
    counts = {}
    for size in (10, 200):
        buyer, *_others = _members(f"n{size}.{domain}", size)
        verified_claim(buyer)
        purchase, client_secret = start_purchase(buyer=buyer, entry="admin")
        localstripe.confirm_card(client_secret, "4242424242424242")
        with CaptureQueriesContext(connection) as queries:
            done = purchase_seats(
                buyer=buyer,
                purchase_id=purchase.pk,
                plan_key="essentials",
                confirmed_seats=size,
                setup_intent_id=client_secret.split("_secret_")[0],
            )
        assert done.state == Purchase.State.SUCCEEDED
        assert (
            Licence.objects.unscoped().filter(subscription__tenant=buyer.membership.tenant).count()
            == size
        )
        counts[size] = len(queries)
    assert counts[10] == counts[200]


def _in_thread(results, index, function, **kwargs):
    try:
        results[index] = function(**kwargs)
    except Exception as error:
        results[index] = error
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_claimants_buying_at_once_make_one_subscription_and_one_admin(localstripe):
    rob = member("rob@contoso.com")
    sara = member("sara@contoso.com")
    submits = []
    for buyer in (rob, sara):
        verified_claim(buyer)
        purchase, client_secret = start_purchase(buyer=buyer, entry="admin")
        localstripe.confirm_card(client_secret, "4242424242424242")
        submits.append(
            {
                "buyer": buyer,
                "purchase_id": purchase.pk,
                "plan_key": "essentials",
                "confirmed_seats": 2,
                "setup_intent_id": client_secret.split("_secret_")[0],
            }
        )
    results = [None] * 4
    threads = [
        threading.Thread(target=_in_thread, args=(results, i, purchase_seats), kwargs=submit)
        for i, submit in enumerate(submits * 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    succeeded = [r for r in results if isinstance(r, Purchase)]
    refused = [r for r in results if isinstance(r, LicensingError)]
    assert len(succeeded) + len(refused) == 4
    assert len({p.buyer_id for p in succeeded}) == 1
    assert all("already has an admin" in e.message for e in refused)
    assert [s.status for s in localstripe.subscriptions()] == ["active"]
    assert Subscription.objects.unscoped().count() == 1
    assert Membership.objects.unscoped().filter(role=Membership.Role.ADMIN).count() == 1
    assert Licence.objects.unscoped().count() == 2


@pytest.mark.django_db
def test_what_runs_once_the_tenant_is_managed_commits_with_the_purchase_or_not_at_all(
    localstripe, contoso
):
    """`on_managed` (the wizard's welcomes) runs in the purchase's transaction: when it fails,
    nothing of the purchase stays; the retry finishes the same Stripe attempt and runs it."""
    rob, _sara = contoso
    tenant = rob.membership.tenant
    submit = purchase_ready(localstripe, rob)
    managed_seen = []

    def failing(*, tenant):
        managed_seen.append(Tenant.objects.get(pk=tenant.pk).state)
        raise RuntimeError("the welcomes could not be written")

    with pytest.raises(RuntimeError):
        purchase_seats(**submit, on_managed=failing)
    assert managed_seen == [Tenant.State.MANAGED]  # it ran once the tenant was managed
    assert_nothing_changed(tenant)

    done = purchase_seats(**submit, on_managed=lambda *, tenant: managed_seen.append(tenant.pk))
    assert done.state == Purchase.State.SUCCEEDED
    assert managed_seen[-1] == tenant.pk
    assert len(localstripe.subscriptions()) == 1
