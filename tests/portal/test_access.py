"""Every page of the admin centre, walked from portal/urls.py: a page added later is covered.
Only admins of a managed tenant open them, and only once they have a second factor."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import URLPattern, reverse

from licensing.models import Subscription, SubscriptionStatus
from portal.services import open_support_request
from portal.urls import urlpatterns
from tenancy.models import Announcement, AuditEvent
from tenancy.services.announcements import create_announcement
from tests.factories import member
from tests.fixtures.two_factor import enrol_totp, recently_signed_in

PAGES = [pattern for pattern in urlpatterns if isinstance(pattern, URLPattern)]
ARGUMENT_VALUES = {"action": "assign", "decision": "approve"}


def url_of(pattern, pk=None):
    names = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
    kwargs = {name: pk if name == "pk" else ARGUMENT_VALUES[name] for name in names}
    return reverse(f"portal:{pattern.name}", kwargs=kwargs)


def object_pk(pattern, contoso_objects):
    return contoso_objects.get(pattern.name, contoso_objects["member"])


@pytest.fixture
def contoso_objects(contoso):
    rob, (sara,), _subscription = contoso
    announcement = create_announcement(
        tenant=rob.membership.tenant, actor=rob, subject="Hello", body="We moved."
    )
    support_request = open_support_request(
        tenant=rob.membership.tenant,
        actor=rob,
        subject="Sound",
        description="No sound.",
        severity="normal",
    )
    return {
        "member": sara.pk,
        "announcement": announcement.pk,
        "support_request": support_request.pk,
    }


def test_the_walk_sees_every_page():
    assert {p.name for p in PAGES} >= {
        "dashboard",
        "users",
        "users_csv",
        "invite",
        "password_reset",
        "join_request",
        "user_action",
        "licences",
        "subscription",
        "policies",
        "announce",
        "announcement",
        "audit",
        "support",
        "support_request",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", PAGES, ids=lambda p: p.name)
def test_anonymous_is_sent_to_sign_in(pattern):
    response = Client().get(url_of(pattern, pk=1))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("pattern", PAGES, ids=lambda p: p.name)
def test_a_member_who_is_not_admin_gets_403(pattern, contoso, contoso_objects):
    _rob, (sara,), _subscription = contoso
    client = Client()
    client.force_login(sara)
    url = url_of(pattern, pk=object_pk(pattern, contoso_objects))
    events = AuditEvent.objects.unscoped().count()
    assert client.get(url).status_code == 403
    assert client.post(url, {"quantity": "1", "email": "x@contoso.com"}).status_code == 403
    assert AuditEvent.objects.unscoped().count() == events


@pytest.mark.parametrize("pattern", PAGES, ids=lambda p: p.name)
def test_a_member_of_a_free_tenant_gets_403(pattern, db, localstripe):
    client = Client()
    client.force_login(member("ann@tailspin.com"))
    assert client.get(url_of(pattern, pk=1)).status_code == 403


@pytest.mark.parametrize(
    "pattern", [p for p in PAGES if "<" in str(p.pattern)], ids=lambda p: p.name
)
def test_an_admin_of_another_tenant_finds_nothing(pattern, contoso, fabrikam, contoso_objects):
    fay, _people, _subscription = fabrikam
    client = Client()
    client.force_login(fay)
    url = url_of(pattern, pk=object_pk(pattern, contoso_objects))
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    assert response.status_code == 404
    assert Announcement.objects.unscoped().count() == 1
    assert (
        not AuditEvent.objects.unscoped()
        .filter(actor=fay)
        .exclude(action="tenant.upgraded")
        .exclude(action__startswith="domain_claim")
        .exists()
    )


@pytest.mark.parametrize(
    "pattern", [p for p in PAGES if "<" not in str(p.pattern)], ids=lambda p: p.name
)
def test_an_admin_sees_only_their_own_tenant(pattern, contoso, fabrikam):
    fay, _people, _subscription = fabrikam
    client = Client()
    client.force_login(fay)
    response = client.get(url_of(pattern))
    assert response.status_code in (200, 405)
    if response.status_code == 405:
        body = ""
    elif response.streaming:
        body = b"".join(response.streaming_content).decode()
    else:
        body = response.content.decode()
    assert "contoso.com" not in body


@pytest.fixture
def rob_without_second_factor(contoso):
    rob, _people, _subscription = contoso
    Authenticator.objects.filter(user=rob).delete()
    return rob


@pytest.mark.parametrize("pattern", PAGES, ids=lambda p: p.name)
def test_an_admin_without_a_second_factor_is_sent_to_set_one_up_first(
    pattern, contoso, contoso_objects, rob_without_second_factor
):
    rob = rob_without_second_factor
    client = recently_signed_in(Client(), rob)
    url = url_of(pattern, pk=object_pk(pattern, contoso_objects))
    events = AuditEvent.objects.unscoped().count()
    for response in (client.get(url), client.post(url, {"quantity": "1", "email": "x@c.com"})):
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_index")
    assert AuditEvent.objects.unscoped().count() == events
    page = client.get(reverse("mfa_index"))
    assert "Admins sign in with a second factor." in page.content.decode()

    enrol_totp(rob)
    response = client.get(url)
    assert response.status_code in (200, 405), response


@pytest.mark.parametrize("name", ["licences", "subscription", "policies", "announce"])
def test_a_page_that_stands_on_the_subscription_says_so_when_none_is_live(name, contoso):
    """The pages read the live subscription through licensing.selectors.paid_subscription: were
    an admin to open one in the moment their subscription ended, they get a sentence, not a 500."""
    rob, _people, subscription = contoso
    client = recently_signed_in(Client(), rob)
    Subscription.objects.unscoped().filter(pk=subscription.pk).update(
        status=SubscriptionStatus.CANCELED
    )
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code == 400
    assert "Your organisation has no active subscription." in response.content.decode()
