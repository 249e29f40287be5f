"""The set-up of `make run` and `make test` on a plain Debian 12, checked on this machine."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPTS = ROOT / "scripts"
SETUP_STEPS = (
    "python",
    "gettext",
    "postgresql",
    "redis",
    "node",
    "npm",
    "chromium",
    "xmlsec1",
    "postgresql-server",
    "redis-server",
    "role",
    "axe-core",
)


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPTS / name, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def makefile_needs(goal: str) -> list[str]:
    """The arguments `make <goal>` passes to scripts/ensure-packages.sh."""
    makefile = (ROOT / "Makefile").read_text()
    specific = re.search(rf"^{goal}: PACKAGES := (.+)$", makefile, re.MULTILINE)
    default = re.search(r"^PACKAGES := (.+)$", makefile, re.MULTILINE)
    return (specific or default).group(1).split()


def debian_packages(needs: list[str]) -> set[str]:
    script = (SCRIPTS / "ensure-packages.sh").read_text()
    packages_of = dict(re.findall(r'^\s+\[(\w+)\]="([^"]+)"$', script, re.MULTILINE))
    return {package for need in needs for package in packages_of[need].split()}


def readme_packages(command: str) -> set[str]:
    readme = (ROOT / "README.md").read_text()
    row = re.search(rf"^\| `{command}` \| ([^|]+) \|", readme, re.MULTILINE)
    assert row, f"README.md has no row for {command} in its set-up table"
    return set(re.findall(r"`([a-z0-9-]+)`", row.group(1)))


def test_check_setup_finds_every_step_on_this_machine():
    result = run_script("check-setup.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    found = {line.split(":")[0].removeprefix("ok ") for line in result.stdout.splitlines()}
    assert set(SETUP_STEPS) <= found
    assert "missing" not in result.stdout
    assert re.search(r"^ok postgresql: .*\(package postgresql-\d+ ", result.stdout, re.MULTILINE)


def test_the_setup_scripts_change_nothing_when_run_again():
    for script, args in (
        ("ensure-packages.sh", makefile_needs("test")),
        ("ensure-services.sh", []),
        ("ensure-database.sh", []),
        ("ensure-database.sh", []),
    ):
        result = run_script(script, *args)
        assert result.returncode == 0, f"{script}: {result.stderr}"
        assert not re.search(r"Installing|Starting", result.stdout), f"{script}: {result.stdout}"


def test_an_unknown_need_is_refused_by_name():
    result = run_script("ensure-packages.sh", "postgres")
    assert result.returncode == 2
    assert "unknown need 'postgres'" in result.stderr


def test_the_readme_lists_exactly_what_each_command_installs():
    assert readme_packages("make run") == debian_packages(makefile_needs("run"))
    assert readme_packages("make test") == debian_packages(makefile_needs("test"))
    assert debian_packages(makefile_needs("test")) == {
        "gettext",
        "postgresql",
        "redis-server",
        "nodejs",
        "npm",
        "chromium",
        "xmlsec1",
    }
