"""docker-compose.yml, the Dockerfile and .env.example, checked without a Docker engine."""

import json
import re
import subprocess
import sys

import jsonschema

from tests.ops.compose import ROOT, compose, service_environment

COMPOSE_SCHEMA = ROOT.parent / "shared" / "compose" / "compose-spec.json"
APP_SERVICES = ("web", "worker", "beat")
ONE_SHOTS = ("migrate", "stripe-setup")
# Read by the settings but not by production: DEBUG is always off there.
NOT_PRODUCTION_SETTINGS = {"DEBUG"}
READS_SETTING = re.compile(r'(?:env|env_bool|env_list|environ\.get)\(\s*"(\w+)"')


def dockerfile_stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            current = stages.setdefault(line.split()[-1], [line])
        elif line and not line.startswith("#"):
            current.append(line)
    return stages


def settings_read_from_environment() -> set[str]:
    names = set()
    for path in (
        ROOT / "config" / "settings" / "base.py",
        ROOT / "config" / "settings" / "production.py",
        ROOT / "config" / "gunicorn.py",
    ):
        names |= set(
            re.findall(r'(?:env|env_bool|env_list|environ\.get)\(\s*"(\w+)"', path.read_text())
        )
    return names - NOT_PRODUCTION_SETTINGS


def env_example() -> dict[str, str]:
    """{setting: the comment line just above it} of .env.example."""
    documented, comment = {}, ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        setting = re.match(r"^#? ?([A-Z][A-Z0-9_]+)=", line)
        if setting:
            documented[setting.group(1)] = comment
        else:
            comment = line.removeprefix("#").strip()
    return documented


def test_the_compose_file_is_valid_against_the_compose_specification():
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(compose())
    ]
    assert errors == []


def test_the_compose_stack_starts_without_a_dot_env_file():
    for name in (*APP_SERVICES, *ONE_SHOTS):
        assert compose()["services"][name]["env_file"] == [{"path": ".env", "required": False}]
        environment = service_environment(name)
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert len(environment["SECRET_KEY"]) >= 50
        assert "web" in environment["ALLOWED_HOSTS"].split(",")
    # A .env value wins over the default.
    assert service_environment("web", {"LOG_LEVEL": "x", "CACHE_URL": "redis://elsewhere/2"})[
        "CACHE_URL"
    ] == ("redis://elsewhere/2")


def test_services_wait_for_healthy_dependencies_and_completed_one_shots():
    services = compose()["services"]
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert services["web"]["depends_on"]["stripe-setup"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["stripe-setup"]["depends_on"] == {
        "localstripe": {"condition": "service_healthy"}
    }
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    setup = " ".join(services["stripe-setup"]["command"])
    assert "manage.py sync_stripe_plans" in setup
    assert "manage.py register_stripe_webhook http://web:8000/stripe/webhook/" in setup


def test_every_long_running_service_has_a_healthcheck():
    services = compose()["services"]
    for name in ("postgres", "redis", "worker"):
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    # web and localstripe take theirs from their image.
    stages = dockerfile_stages()
    assert any(line.startswith("HEALTHCHECK ") and "/healthz" in line for line in stages["app"])
    assert any(line.startswith("HEALTHCHECK ") for line in stages["localstripe"])
    for name in ONE_SHOTS:
        assert services[name]["healthcheck"] == {"disable": True}


def test_images_and_packages_are_pinned():
    for name, service in compose()["services"].items():
        image = service.get("image", "")
        # PostgreSQL numbers its releases major.minor, the others major.minor.patch.
        assert re.search(r":\d+\.\d+[.-]", image + "-"), f"{name}: {image!r} is no exact version"
    for stage in dockerfile_stages().values():
        base = stage[0].split()[1]
        assert base in dockerfile_stages() or re.search(r":\d+\.\d+\.\d+-", base), base
    assert "localstripe==1.15.10" in (ROOT / "requirements" / "localstripe.txt").read_text()
    for name in ("app.txt", "localstripe.txt"):
        lines = (ROOT / "requirements" / name).read_text().splitlines()[1:]
        assert lines and all(re.fullmatch(r"[a-z0-9-]+==[\w.]+", line) for line in lines), name
    check = subprocess.run(
        [sys.executable, "scripts/pin-requirements.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert re.search(r"apt-get install .*gettext=[\d.-]+", "\n".join(dockerfile_stages()["build"]))


def test_the_images_run_as_an_unprivileged_user_with_a_command():
    for name in ("app", "localstripe"):
        stage = dockerfile_stages()[name]
        users = [line.split()[1] for line in stage if line.startswith("USER ")]
        assert users and users[-1] not in ("root", "0"), name
        assert any(line.startswith("CMD [") for line in stage), name
    app_cmd = next(line for line in dockerfile_stages()["app"] if line.startswith("CMD "))
    assert json.loads(app_cmd.removeprefix("CMD ")) == compose()["services"]["web"]["command"]


def test_the_docker_context_leaves_out_secrets_and_local_state():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "node_modules", "db.sqlite3", ".run", "tests"} <= ignored


def test_every_production_setting_is_in_env_example_with_a_comment_and_in_the_readme():
    documented = env_example()
    readme = (ROOT / "README.md").read_text()
    compose_only = {"POSTGRES_PASSWORD"}
    for name in sorted(settings_read_from_environment() | compose_only):
        assert name in documented, f"{name} is missing from .env.example"
        assert documented[name], f"{name} has no comment above it in .env.example"
        assert f"`{name}`" in readme, f"{name} is missing from README.md's settings"
    for name in service_environment("web"):
        assert name in documented or name == "DJANGO_SETTINGS_MODULE", name
