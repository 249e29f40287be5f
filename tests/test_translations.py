"""Every user-facing string has its French: no catalogue entry is empty or only guessed."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [
    *sorted(ROOT.glob("*/locale/fr/LC_MESSAGES/django.po")),
    ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po",
]


def test_every_app_has_a_french_catalogue():
    apps = {path.parts[-5] for path in CATALOGUES}
    assert {"tenancy", "meetings", "domains", "licensing", "wizard", "portal"} <= apps


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_entry_is_translated(path):
    catalogue = polib.pofile(str(path))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    guessed = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert guessed == []
