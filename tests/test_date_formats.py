"""One way of writing dates per language, on every page (issue 21: "11/27/2026 8:24 p.m."
showed next to "Nov. 27, 2026")."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "tenancy", "meetings", "domains", "licensing", "provisioning", "sso", "wizard")
TEMPLATE_DIRS = [ROOT / "templates", *(ROOT / app / "templates" for app in (*APPS, "portal"))]
MOMENT = datetime(2026, 11, 27, 20, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "date", "date_and_time"),
    [("en", "27 Nov 2026", "27 Nov 2026, 20:24"), ("fr", "27 nov. 2026", "27 nov. 2026 à 20:24")],
)
def test_every_date_format_name_gives_the_one_format_of_the_language(language, date, date_and_time):
    template = Template(
        '{{ m|date:"DATE_FORMAT" }}|{{ m|date:"SHORT_DATE_FORMAT" }}|'
        '{{ m|date:"DATETIME_FORMAT" }}|{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date }}'
    )
    with translation.override(language):
        shown = template.render(Context({"m": MOMENT})).split("|")
    assert shown == [date, date, date_and_time, date_and_time, date]


def test_templates_name_the_localised_formats_only():
    """A literal format ("d/m/Y") in a template would be a second way of writing dates; the
    machine-readable `c` of <time datetime> and a clock's `H:i:s` are not dates shown."""
    allowed = {'"DATE_FORMAT"', '"DATETIME_FORMAT"', '"TIME_FORMAT"', "'c'", '"H:i:s"'}
    used = set()
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            used |= set(re.findall(r"\|(?:date|time):(\S+?)(?=[\s|}%])", template.read_text()))
    assert used, "the scan found no date filter: it reads the wrong files"
    assert used <= allowed, used - allowed
