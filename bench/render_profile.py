"""What one render of each signed-in page costs: Django's test client in this process, after a
warm-up, under cProfile. Counts the `{% url %}` reversals, the translation calls and the queries
(those of the context processors apart), and lists the functions taking the most time.

    python bench/render_profile.py DOMAIN   (an upgraded tenant of the bench database; JSON line)
"""

import cProfile
import json
import pstats
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
RENDERS = 50
# (file suffix, function) pairs whose calls are counted, by what they mean.
COUNTED = {
    "url reversals": [("django/urls/base.py", "reverse")],
    "translation calls": [
        ("django/utils/translation/__init__.py", "gettext"),
        ("django/utils/translation/__init__.py", "pgettext"),
        ("django/utils/translation/__init__.py", "ngettext"),
        ("django/utils/translation/__init__.py", "npgettext"),
    ],
    "template nodes rendered": [("django/template/base.py", "render_annotated")],
}
TOP = 12


def pages(domain):
    """The three pages of benchmark 3, and who opens each."""
    from django.utils import timezone

    from bench.seed import give_authenticator_app
    from meetings.services import schedule_meeting
    from tenancy.models import Membership

    members = Membership.objects.unscoped().filter(tenant__domain=domain).select_related("user")
    admin = members.get(role=Membership.Role.ADMIN).user
    give_authenticator_app([admin])
    member = members.exclude(role=Membership.Role.ADMIN).order_by("pk").first().user
    meeting = schedule_meeting(
        organiser=admin,
        title="Render profile",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
        lobby_bypass="organisation",
        anonymous_join_allowed=True,
        recording_allowed=True,
    )
    return {
        "dashboard (admin)": ("/admin/", admin),
        "my meetings": ("/meetings/", admin),
        "join page (member)": (f"/meetings/j/{meeting.join_token}/", member),
    }


def processor_queries(request):
    """Queries each context processor makes for this request."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.module_loading import import_string

    counts = {}
    for path in settings.TEMPLATES[0]["OPTIONS"]["context_processors"]:
        with CaptureQueriesContext(connection) as queries:
            # Evaluated as a template would: every value read.
            for value in import_string(path)(request).values():
                str(value)
        counts[path] = len(queries)
    return counts


def profile(path, user):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    client.get(path)  # warm-up: templates compiled, translations loaded
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    query_count = len(queries)  # now: the next request empties the connection's log
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(RENDERS):
        client.get(path)
    profiler.disable()
    seconds = (time.perf_counter() - started) / RENDERS
    stats = pstats.Stats(profiler)
    counted = {
        name: sum(
            calls[1]  # primitive and recursive calls: every call
            for (file, _line, function), calls in stats.stats.items()  # type: ignore[attr-defined]
            for suffix, wanted in functions
            if file.endswith(suffix) and function == wanted
        )
        // RENDERS
        for name, functions in COUNTED.items()
    }
    render = sum(  # the view's render(): the template and its context processors
        calls[3]
        for (file, _line, function), calls in stats.stats.items()  # type: ignore[attr-defined]
        if file.endswith("django/shortcuts.py") and function == "render"
    )
    top = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][2],  # own time
        reverse=True,
    )[:TOP]
    return {
        "ms_per_request": round(1000 * seconds, 2),
        "ms_rendering": round(1000 * render / RENDERS, 2),
        "queries": query_count,
        "context_processor_queries": processor_queries(response.wsgi_request),
        **{name: count for name, count in counted.items()},
        "top_own_time": [
            {
                "function": f"{Path(file).name}:{line}({function})",
                "own_ms": round(1000 * calls[2] / RENDERS, 3),
                "calls": calls[1] // RENDERS,
            }
            for (file, line, function), calls in top
        ],
    }


def main(domain):
    import django

    django.setup()
    from django.test import override_settings

    # What building each page costs: a page kept and served again (core.pagecache) is not a render.
    with override_settings(PAGE_CACHE=False):
        print(json.dumps({name: profile(*page) for name, page in pages(domain).items()}))


if __name__ == "__main__":
    main(sys.argv[1])
