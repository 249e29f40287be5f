"""The layering of docs/ARCHITECTURE.md holds: each app imports only the apps below it, `core`
imports no app, and no app imports the project package `config` (which only wires)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top: an app may import the ones before it.
LAYERS = [
    "core",
    "tenancy",
    "meetings",
    "domains",
    "licensing",
    "provisioning",
    "sso",
    "wizard",
    "portal",
]
PROJECT = "config"


def imported_packages(path):
    """The top-level packages a module imports (absolute imports only; relative ones stay in
    their own app)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.partition(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.partition(".")[0], node.lineno


def violations(app):
    allowed = set(LAYERS[: LAYERS.index(app) + 1])
    forbidden = (set(LAYERS) | {PROJECT}) - allowed
    for path in sorted((ROOT / app).rglob("*.py")):
        for package, line in imported_packages(path):
            if package in forbidden:
                yield f"{path.relative_to(ROOT)}:{line} imports {package}"


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it_and_never_config(app):
    assert list(violations(app)) == []


def test_every_app_of_ours_is_in_a_layer_and_installed():
    from django.conf import settings

    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()]
    assert ours == LAYERS


def test_the_check_sees_a_violation(tmp_path):
    """The walker is not vacuous: an upward import is found."""
    module = tmp_path / "bad.py"
    module.write_text("from licensing.models import Licence\nimport config.settings\n")
    assert [package for package, _line in imported_packages(module)] == ["licensing", "config"]
