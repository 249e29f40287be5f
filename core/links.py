"""Addresses of a list's rows, reversed once per page instead of once per row: a table whose rows
each carry a few links spends most of its render in `{% url %}` (bench/render_profile.py, the
admin centre's users page: 250 reversals for 50 rows)."""

from collections.abc import Callable

from django.urls import reverse

# Stands for the row's value in the address reversed once; digits only, so it is never changed
# by reverse()'s quoting and never found elsewhere in an address.
PLACEHOLDER = "987654321987654321"


def row_link(viewname: str, *args: str) -> Callable[[object], str]:
    """`reverse(viewname, args=[value, *args])` for any value, the address reversed once:
    `value` must be one reverse() leaves as it is (an id, a URL-safe token)."""
    address = reverse(viewname, args=[PLACEHOLDER, *args])
    return lambda value: address.replace(PLACEHOLDER, str(value))
