"""meetings sits below domains, licensing, wizard and portal: its templates name none of their
routes (the Upgrade link comes from wizard.context_processors)."""

import re
from pathlib import Path

import meetings

LATER_APPS = ("domains", "licensing", "wizard", "portal")
TEMPLATES = sorted((Path(meetings.__file__).parent / "templates").rglob("*.html"))


def test_meetings_templates_name_no_route_of_a_later_app():
    url_tag = re.compile(r"{%\s*url\s+['\"](\w+):")
    named = {
        f"{path.name}: {namespace}"
        for path in TEMPLATES
        for namespace in url_tag.findall(path.read_text())
        if namespace in LATER_APPS
    }
    assert TEMPLATES
    assert named == set()
