"""The query-count claims of docs/PERFORMANCE.md, at a small N so CI can afford them (no timings
here: `make bench` measures time at 100,000 members)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.pages import admin_page_paths
from bench.seed import give_authenticator_app, seed_tenant
from licensing.models import Licence
from licensing.services.purchase import purchase_seats, start_purchase
from meetings.models import MeetingSettings
from tenancy.models import AuditEvent, Membership, User
from tests.fixtures.purchases import GOOD_CARD, verified_claim
from tests.fixtures.scim import free_seats, new_user, scim_client


def upgrade_counting_queries(localstripe, domain, members):
    """Seeds `domain` with `members` members as the benchmark does, then buys: the queries of
    purchase_seats alone (opening the purchase and confirming the card come before)."""
    buyer = User.objects.get(pk=seed_tenant(domain, members))
    verified_claim(buyer)
    purchase, client_secret = start_purchase(buyer=buyer, entry="admin")
    localstripe.confirm_card(client_secret, GOOD_CARD)
    with CaptureQueriesContext(connection) as queries:
        done = purchase_seats(
            buyer=buyer,
            purchase_id=purchase.pk,
            plan_key="essentials",
            confirmed_seats=members,
            setup_intent_id=client_secret.split("_secret_")[0],
        )
    assert done.state == "succeeded", done.error
    return buyer, len(queries)


@pytest.mark.django_db
def test_the_purchase_makes_the_same_number_of_queries_at_10_and_1000_members(localstripe):
    _, small = upgrade_counting_queries(localstripe, "small.example", 10)
    _, large = upgrade_counting_queries(localstripe, "large.example", 1000)

    assert small == large
    assert (
        Licence.objects.unscoped().filter(user__membership__tenant__domain="large.example").count()
        == 1000
    )
    migrated = MeetingSettings.objects.filter(
        user__membership__tenant__domain="large.example", migrated_at__isnull=False
    )
    assert migrated.count() == 1000
    # The seed customised a third of the durations to 45 minutes: the migration kept each one.
    customised = migrated.filter(customised__contains=["default_duration_minutes"])
    assert customised.count() in (333, 334)
    assert not customised.exclude(default_duration_minutes=45).exists()


@pytest.mark.django_db
def test_each_admin_page_makes_at_most_12_queries_whatever_the_tenant_size(localstripe, client):
    counts = {}
    # 150 members, not 10: every page then has rows to show, as it has at 1,000.
    for domain, members in (("small.example", 150), ("large.example", 1000)):
        admin, _ = upgrade_counting_queries(localstripe, domain, members)
        assert Membership.objects.unscoped().get(user=admin).role == "admin"
        give_authenticator_app([admin])
        client.force_login(admin)
        # A session's device, IP and "last seen" are written on its first request and then once
        # a minute (tenancy.middleware.SessionActivityMiddleware): counted apart, below.
        with CaptureQueriesContext(connection) as first:
            client.get("/admin/")
        counts["first request of the minute", members] = len(first)
        for name, path in admin_page_paths(domain).items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            counts[name, members] = len(queries)

    pages = {key: count for key, count in counts.items() if key[0] in admin_page_paths(domain)}
    assert max(pages.values()) <= 12, counts
    # The session's writes on top of a page (the domains banner's query included): 21 today.
    assert max(counts.values()) <= 21, counts
    for name in admin_page_paths("large.example"):
        assert counts[name, 150] == counts[name, 1000], (name, counts)


def test_provisioning_a_person_with_a_free_seat_takes_13_statements(contoso):
    """The token and its tenant's trusted domains (kept between requests in production; read
    here, where the test's transaction wrote their tables), the account at the address, the
    account, its meeting settings, address, provisioned user, their e-mail and membership, the
    seat taken (one UPDATE, no SELECT before it), the licence, the meeting cap and one insert of
    both audit events: an identity provider sends this for each of its thousands of people."""
    rob, _people, _subscription = contoso
    free_seats(rob, 2)
    _token, scim = scim_client(rob)
    # The first request also notes the token's last use (once a minute).
    assert scim.post("/Users", new_user("ann@contoso.com")).status_code == 201

    address = "bob@contoso.com"
    with CaptureQueriesContext(connection) as queries:
        response = scim.post(
            "/Users",
            new_user(
                address,
                externalId="ext-bob",
                emails=[{"primary": True, "type": "work", "value": address}],
                name={"givenName": "Bob", "familyName": "Stone"},
            ),
        )

    assert response.status_code == 201
    transaction = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT")
    statements = [q["sql"] for q in queries if not q["sql"].startswith(transaction)]
    assert len(statements) == 13, "\n".join(statements)
    assert Licence.objects.unscoped().filter(user__email=address).exists()
    assert sorted(
        AuditEvent.objects.unscoped().filter(target=address).values_list("action", "actor_label")
    ) == [("licences.assigned", "Entra ID"), ("provisioning.user_provisioned", "Entra ID")]
