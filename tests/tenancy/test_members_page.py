"""The admin centre's people list pages by continuing from a member (keyset pagination): every
sort order must visit each member once, in order, forwards and back, ties and empty values
included."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenancy.models import Membership, User
from tenancy.selectors import MEMBER_SORTS, members_page
from tests.factories import member


@pytest.fixture
def people(db):
    """11 members: two share a name, three never signed in, four joined at the same instant."""
    now = timezone.now()
    names = ["Ana", "Bea", "Bea", "Cy", "Dan", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo"]
    users = [member(f"p{index:02d}@contoso.com", name=name) for index, name in enumerate(names)]
    for index, user in enumerate(users):
        last_login = None if index % 4 == 1 else now - timedelta(hours=index % 3)
        User.objects.filter(pk=user.pk).update(last_login=last_login)
        Membership.objects.unscoped().filter(user=user).update(
            joined_at=now - timedelta(days=index // 4)
        )
    return users[0].membership.tenant


def expected_order(tenant, sort):
    rows = list(Membership.objects.unscoped().filter(tenant=tenant).select_related("user"))

    def key(row):
        values = []
        for field, descending in MEMBER_SORTS[sort]:
            value = row.user.last_login if field == "user__last_login" else None
            if field == "user__name":
                value = row.user.name
            elif field == "user__email":
                value = row.user.email
            elif field == "joined_at":
                value = row.joined_at
            if field == "user__last_login":
                # Newest first, never-signed-in last.
                values += [value is None, -(value.timestamp()) if value else 0]
            else:
                values.append(-value.timestamp() if descending else value)
        return values

    return [row.user.email for row in sorted(rows, key=key)]


@pytest.mark.parametrize("sort", list(MEMBER_SORTS))
def test_next_then_previous_visit_everyone_once_in_order(people, sort):
    forward, pages, after = [], [], None
    while True:
        page = members_page(people, sort=sort, after=after, per_page=3)
        pages.append([row.user.email for row in page.rows])
        forward += pages[-1]
        if page.next_after is None:
            break
        after = page.next_after
    assert forward == expected_order(people, sort)
    assert [len(rows) for rows in pages] == [3, 3, 3, 2]

    backward, before = [], page.previous_before
    while before is not None:
        page = members_page(people, sort=sort, before=before, per_page=3)
        backward.insert(0, [row.user.email for row in page.rows])
        before = page.previous_before
    assert backward == pages[:-1]


def test_a_cursor_that_is_not_a_member_restarts_from_the_first_page(people):
    outsider = member("someone@fabrikam.com")
    first = members_page(people, per_page=3)
    assert members_page(people, after=outsider.pk, per_page=3).rows == first.rows
    assert members_page(people, before=10**9, per_page=3).rows == first.rows
    assert first.previous_before is None


def test_search_pages_continue_within_the_matches(people):
    page = members_page(people, search="bea", per_page=1)
    second = members_page(people, search="bea", after=page.next_after, per_page=1)
    assert [row.user.name for row in page.rows + second.rows] == ["Bea", "Bea"]
    assert second.next_after is None
