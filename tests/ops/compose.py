"""docker-compose.yml read as Compose would: its services, commands and resolved environment."""

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
# ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME}, and $$ for a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of one value, with `variables` as its .env and shell."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        given = variables.get(name)
        if operator in (":-", "-") and (given is None or (operator == ":-" and not given)):
            return argument
        if operator in (":?", "?") and not given:
            raise ValueError(f"{name}: {argument}")
        return given or ""

    return _VARIABLE.sub(replace, value)


def service_environment(name: str, variables: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Compose gives service `name` with no .env (or with `variables`)."""
    environment = compose()["services"][name].get("environment", {})
    return {key: interpolate(str(value), variables or {}) for key, value in environment.items()}


def service_command(name: str) -> list[str]:
    command = compose()["services"][name]["command"]
    assert isinstance(command, list), f"{name}: exec form, so that no shell splits it"
    return [interpolate(part, {}) for part in command]
