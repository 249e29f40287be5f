"""The audit log reads as sentences, in English and French, for every action code the code
base records: the codes are found in the source, so a new one without its sentence fails here."""

import ast
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from licensing.services.webhooks import HANDLED_EVENTS
from portal.audit_log import SENTENCES, describe
from tenancy.models import AuditEvent, Membership
from tenancy.services.membership import set_signup_mode
from tests.fixtures.two_factor import recently_signed_in

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "tenancy", "meetings", "domains", "licensing", "provisioning", "sso", "wizard")
# The functions that write an audit event with the `action` they are given. A function that
# passes its own `action` argument on must be listed, so that its callers are read too.
RECORDERS = {"record_audit", "record_account_event", "change_tenant_rule", "record_sign_in_failure"}
# Values of every key the events keep in `before` and `after`, as the services write them.
DETAILS = {
    "signup_mode": "refused",
    "two_factor_required": True,
    "role": "admin",
    "plan": "essentials",
    "licences": 12,
    "admin": "rob@contoso.com",
    "state": "managed",
    "recipients": 3,
    "count": 2,
    "ip": "192.0.2.7",
    "type": "totp",
    "name": "Authenticator app",
    "left": 9,
    "quantity": 12,
    "status": "active",
    "max_meeting_size": 30,
    "lobby_bypass": "organisation",
    "email": "rob.martin@contoso.com",
    "reason": "expired",
    "request": 1,
    "severity": "high",
}


def _called_name(call: ast.Call) -> str:
    function = call.func
    return function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")


def _codes_of(value: ast.expr, *, where: str, passing_on: bool) -> set[str]:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.IfExp):
        return _codes_of(value.body, where=where, passing_on=passing_on) | _codes_of(
            value.orelse, where=where, passing_on=passing_on
        )
    if isinstance(value, ast.Name) and passing_on:
        return set()  # a recorder passing its caller's code on: its callers are read
    if isinstance(value, ast.JoinedStr) and ast.unparse(value) == "f'billing.{event.type}'":
        return {f"billing.{event_type}" for event_type in HANDLED_EVENTS}
    raise AssertionError(f"{where}: an action code this test cannot read: {ast.unparse(value)}")


def recorded_action_codes() -> set[str]:
    codes: set[str] = set()
    paths = [path for app in (*APPS, "portal") for path in (ROOT / app).rglob("*.py")]
    for path in paths:
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(function):
                if not isinstance(call, ast.Call) or _called_name(call) not in RECORDERS:
                    continue
                for keyword in call.keywords:
                    if keyword.arg == "action":
                        where = f"{path.relative_to(ROOT)}:{call.lineno}"
                        passing_on = function.name in RECORDERS
                        codes |= _codes_of(keyword.value, where=where, passing_on=passing_on)
    return codes


RECORDED = sorted(recorded_action_codes())


def test_the_source_records_the_codes_this_test_expects():
    # The reading above finds the calls of every app, the higher ones included.
    assert len(RECORDED) > 50
    assert {
        "tenant.upgraded",
        "tenant.signup_mode_changed",
        "provisioning.user_provisioned",
        "sso.sign_in_failed",
        "billing.invoice.payment_failed",
        "support.answered",
        "user.signed_in",
    } <= set(RECORDED)


def test_every_sentence_is_of_a_recorded_code():
    assert set(SENTENCES) == set(RECORDED)


@pytest.mark.parametrize("action", RECORDED)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_recorded_action_reads_as_a_sentence(action, language, db):
    event = AuditEvent(action=action, target="contoso.com", before=DETAILS, after=DETAILS)
    with translation.override(language):
        sentence = describe(event)
    assert action not in sentence
    assert "%(" not in sentence and "{" not in sentence
    assert sentence.endswith(".")
    if language == "fr":
        with translation.override("en"):
            assert sentence != describe(event), f"{action} has no French sentence"


@pytest.fixture
def admin_client(contoso):
    return recently_signed_in(Client(), contoso[0])


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Rob Martin changed the sign-up rule from Open to Refused."),
        ("fr", "Rob Martin a changé la règle d’inscription de « Ouverte » à « Refusée »."),
    ],
)
def test_the_audit_log_shows_sentences_not_codes(admin_client, contoso, language, expected):
    rob = contoso[0]
    set_signup_mode(tenant=rob.membership.tenant, actor=rob, mode="refused")
    for page in ("portal:audit", "portal:dashboard"):
        html = admin_client.get(reverse(page), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert expected in html
        assert "tenant.signup_mode_changed" not in html
        assert "signup_mode=" not in html
        assert "tenant.upgraded" not in html


def test_the_admin_role_is_a_person_in_french_not_a_department():
    with translation.override("fr"):
        assert str(Membership.Role.ADMIN.label) == "Administrateur·rice"


def test_invoice_statuses_are_words_in_both_languages(admin_client):
    english = admin_client.get(reverse("portal:subscription"), HTTP_ACCEPT_LANGUAGE="en")
    assert [invoice["status"] for invoice in english.context["invoices"]] == ["Paid"]
    french = admin_client.get(reverse("portal:subscription"), HTTP_ACCEPT_LANGUAGE="fr")
    assert [invoice["status"] for invoice in french.context["invoices"]] == ["Payée"]
    assert "<td>paid</td>" not in french.content.decode()
