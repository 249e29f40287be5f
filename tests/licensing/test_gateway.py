"""The gateway is the one module that talks to Stripe."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "tenancy", "meetings", "domains", "licensing", "wizard", "portal", "config")


def imports_stripe(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "stripe" or name.startswith("stripe.") for name in names):
            return True
    return False


def test_only_the_gateway_imports_stripe():
    modules = [path for app in APPS for path in (ROOT / app).rglob("*.py")]
    importers = {str(path.relative_to(ROOT)) for path in modules if imports_stripe(path)}
    assert len(modules) > 100
    assert importers == {"licensing/gateway.py"}
