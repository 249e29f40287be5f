"""The layout of every page (issue 21): allauth's pages in ours, tables that scroll in their own
box, dates that do not wrap. The browser test (tests/e2e/test_every_page_browser.py) measures the
result at 390 and 1280 px; these read the HTML."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "tenancy", "meetings", "domains", "licensing", "provisioning", "sso", "wizard")
TEMPLATES = [
    template
    for directory in [ROOT / "templates", *(ROOT / app / "templates" for app in (*APPS, "portal"))]
    for template in directory.rglob("*.html")
]


def test_every_table_scrolls_inside_its_own_box():
    """A table wider than the window scrolls in its box (focusable, for the keyboard), never
    the page: each <table> is the first thing in a .table-scroll."""
    tables = 0
    for template in TEMPLATES:
        text = template.read_text()
        tables += text.count("<table")
        unwrapped = re.findall(r'(?<!<div class="table-scroll" tabindex="0">)<table', text)
        assert unwrapped == [], template
    assert tables >= 10


def test_dates_in_tables_do_not_wrap():
    for template in TEMPLATES:
        assert not re.search(r"<td>\{\{[^}]*\|date:", template.read_text()), template


@pytest.mark.django_db
def test_the_password_sign_in_is_allauths_form_in_our_layout_with_a_checkbox_row():
    page = Client().get(reverse("account_login") + "?password").text
    assert '<header class="topbar">' in page
    assert 'class="card account-form"' in page
    remember = re.search(r'<label class="checkbox-row" for="id_remember">(.*?)</label>', page, re.S)
    assert remember is not None
    assert remember.group(1).lstrip().startswith('<input type="checkbox" name="remember"')
    assert "Remember Me:" not in page


@pytest.mark.django_db
def test_the_sign_up_form_is_a_card_with_labelled_fields():
    page = Client().get(reverse("account_signup")).text
    assert 'class="card account-form"' in page
    for field in ("name", "email", "password1", "password2"):
        assert f'<label for="id_{field}">' in page
