"""Every page, as a visitor, a member and an admin, in English and French, on a phone (390 px) and
a laptop (1280 px): no horizontal scroll, no English on French pages, no serious axe-core
violation, no 5xx. Each page's screenshot goes to test-artifacts/pages/<language>-<width>/, from
which `make screenshots` (scripts/contact_sheet.py) draws docs/screenshots/.

The pages come from the URLconf: a named route is visited here or excluded with its reason, so a
new page cannot be forgotten (test_every_named_route_is_visited_or_excluded)."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from domains.services import start_domain_claim
from meetings import services as meeting_services
from meetings.models import MeetingSettings
from portal.models import SupportRequest
from portal.services import open_support_request
from tenancy.services.announcements import create_announcement
from tests.factories import member
from tests.fixtures.purchases import managed_tenant, verified_claim

from .journeys import AXE, ROOT, english_strings, reauthenticate, sign_in

PAGES_DIR = ROOT / "test-artifacts" / "pages"
LANGUAGES = {"en": "en-GB", "fr": "fr-FR"}
WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
# Words of English sentences that French never uses: one on a French page is a sentence we forgot
# to translate (names, addresses and codes are not read: see VISIBLE_WORDS). Not "change", which
# French uses too ("ce qui change").
ENGLISH_WORDS = {
    "the", "your", "you", "with", "this", "that", "are", "is", "have", "has", "will", "please",
    "here", "not", "from", "for", "when", "which", "what", "who", "there", "been", "was", "and",
    "yet", "sign", "signed", "add", "back", "next", "save", "cancel", "remove", "view",
    "settings", "password", "meetings", "users", "account", "address",
}  # fmt: skip
# The visible text of the page, without what is a name or a code rather than a sentence: code,
# e-mail addresses, domain names, the language menu (each language in its own name).
VISIBLE_WORDS = """() => {
  const skip = 'code, pre, script, style, [translate=no], .language-switch, input, textarea';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const words = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || !parent.checkVisibility()) continue;
    const text = node.textContent.replace(/\\S+@\\S+|\\b[\\w-]+(\\.[\\w-]+)+\\b/g, ' ');
    words.push(...text.toLowerCase().split(/[^a-z\\u00c0-\\u017f'-]+/).filter(Boolean));
  }
  return words;
}"""
OVERFLOW = """() => {
  const width = document.scrollingElement.scrollWidth, inner = window.innerWidth;
  if (width <= inner) return null;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > inner + 1 && !e.closest('.table-scroll'))
    .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
  return `${width} > ${inner}: ${wide.join(', ')}`;
}"""
AXE_SERIOUS = (
    "async () => (await axe.run(document)).violations"
    ".filter(v => ['serious', 'critical'].includes(v.impact))"
    ".map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
)


@dataclass(frozen=True)
class Visit:
    """A named route opened by one persona; `args` reads the route's arguments from the
    objects the test made; `label` tells two visits of one route apart."""

    name: str
    persona: str
    args: Callable[[dict], list] | None = None
    label: str = ""
    query: str = ""

    @property
    def slug(self) -> str:
        return f"{self.persona}-{self.label or self.name}".replace(":", "-").replace("_", "-")


# Personas: a visitor (signed out), a member of a managed organisation (Sara), a member of a
# free organisation on her way through the upgrade wizard (Ada), the admin (Rob, with TOTP).
VISITS = [
    Visit("tenancy:home", "visitor"),
    Visit("account_login", "visitor"),
    Visit("account_login", "visitor", label="login-password", query="?password"),
    Visit("account_signup", "visitor"),
    Visit("account_reset_password", "visitor"),
    Visit("account_reset_password_done", "visitor"),
    Visit("account_reset_password_from_key", "visitor", lambda o: ["0", "bad-key"]),
    Visit("account_reset_password_from_key_done", "visitor"),
    Visit("account_confirm_email", "visitor", lambda o: ["bad-key"]),
    Visit("account_email_verification_sent", "visitor"),
    Visit("account_inactive", "visitor"),
    Visit("socialaccount_login_cancelled", "visitor"),
    Visit("socialaccount_login_error", "visitor"),
    Visit("meetings:join", "visitor", lambda o: [o["meeting"].join_token]),
    Visit("meetings:personal_room", "visitor", lambda o: [o["room_token"]]),
    Visit("tenancy:home", "member"),
    Visit("meetings:list", "member"),
    Visit("meetings:schedule", "member"),
    Visit("meetings:settings", "member"),
    Visit("meetings:edit", "member", lambda o: [o["meeting"].pk]),
    Visit("meetings:cancel", "member", lambda o: [o["meeting"].pk]),
    Visit("meetings:join", "member", lambda o: [o["meeting"].join_token]),
    Visit("meetings:live", "member", lambda o: [o["meeting"].join_token]),
    Visit("account_email", "member"),
    Visit("account_change_password", "member"),
    Visit("account_set_password", "member"),
    Visit("account_logout", "member"),
    Visit("account_reauthenticate", "member"),
    Visit("mfa_index", "member"),
    Visit("mfa_activate_totp", "member"),
    Visit("mfa_list_webauthn", "member"),
    Visit("mfa_add_webauthn", "member"),
    Visit("usersessions_list", "member"),
    Visit("socialaccount_connections", "member"),
    Visit("socialaccount_signup", "member"),
    Visit("wizard:getting_started", "member"),
    Visit("portal:dashboard", "member", label="admin-centre-refused"),
    Visit("wizard:start", "upgrader"),
    Visit("wizard:domain", "upgrader"),
    Visit("wizard:licences", "upgrader"),
    # First, within minutes of the fresh proof these pages ask for.
    Visit("mfa_index", "admin"),
    Visit("mfa_view_recovery_codes", "admin"),
    Visit("mfa_generate_recovery_codes", "admin"),
    Visit("mfa_deactivate_totp", "admin"),
    Visit("mfa_reauthenticate", "admin"),
    Visit("tenancy:home", "admin"),
    Visit("portal:dashboard", "admin"),
    Visit("portal:users", "admin"),
    Visit("portal:licences", "admin"),
    Visit("portal:subscription", "admin"),
    Visit("portal:policies", "admin"),
    Visit("portal:announce", "admin"),
    Visit("portal:announcement", "admin", lambda o: [o["announcement"].pk]),
    Visit("portal:audit", "admin"),
    Visit("portal:provisioning", "admin"),
    Visit("portal:sso", "admin"),
    Visit("portal:domains", "admin"),
    Visit("portal:domain_claim", "admin", lambda o: [o["domain_claim"].pk]),
    Visit("portal:support", "admin"),
    Visit("portal:support_request", "admin", lambda o: [o["support_request"].pk]),
    Visit("wizard:done", "admin"),
]

# Named routes that are not pages a person reads, or are shown by another test, and why.
EXCLUDED = {
    "set_language": "a POST from the language menu; its effect is every French page here",
    "healthz": "a probe for the load balancer, not a page",
    "readyz": "a probe for the load balancer, not a page",
    "metrics": "Prometheus text, not a page",
    "licensing:stripe_webhook": "Stripe's webhook endpoint, POST only",
    "provisioning:scim": "the SCIM API (JSON), not a page",
    "meetings:roster": "a fragment htmx swaps into the live meeting page, which is visited",
    "meetings:leave": "a POST from the live meeting page",
    "meetings:renew_room_link": "a POST from the settings page",
    "wizard:claim": "a POST from the wizard's domain page",
    "wizard:domain_status": "a fragment htmx swaps into the domain page, which is visited",
    "wizard:record_added": "a POST from the wizard's domain page",
    "wizard:check_now": "a POST from the wizard's domain page",
    "wizard:buy": "a POST from the licences page (test_card_browser.py buys)",
    "wizard:dismiss_getting_started": "a POST from the home page's Getting started card",
    "portal:invite": "a POST from the users page",
    "portal:add_domain": "a POST from the domains page",
    "portal:remove_domain": "a POST from the domains page",
    "portal:check_claim": "a POST from a domain's proof page",
    "portal:claim_status": "a fragment htmx swaps into a domain's proof page, which is visited",
    "portal:user_action": "a POST from the users page",
    "portal:join_request": "a POST from the users page",
    "portal:password_reset": "a POST from the users page",
    "portal:users_csv": "a CSV download, not a page",
    "portal:create_token": "a POST from the provisioning page",
    "portal:revoke_token": "a POST from the provisioning page",
    "portal:sso_enforce": "a POST from the single sign-on page",
    "portal:sso_test": "starts a sign-in at the identity provider (test_sso_browser.py)",
    "mfa_download_recovery_codes": "a text file download, not a page",
    "mfa_authenticate": "the code step of a sign-in, visited by sign_in() for the admin",
    "mfa_login_webauthn": "passkey sign-in: a POST by the browser's WebAuthn script",
    "mfa_reauthenticate_webauthn": "a POST by the browser's WebAuthn script",
    "mfa_edit_webauthn": "needs a security key, which headless Chromium cannot make",
    "mfa_remove_webauthn": "needs a security key, which headless Chromium cannot make",
    "account_confirm_login_code": "sign-in by mailed code is turned off (ACCOUNT_LOGIN_BY_CODE)",
    "account_request_reauthentication_code": "re-authentication by mailed code is turned off",
    "account_confirm_reauthentication_code": "re-authentication by mailed code is turned off",
    "openid_connect_login": "redirects to the identity provider (test_sso_browser.py)",
    "openid_connect_callback": "the identity provider's answer (test_sso_browser.py)",
    "saml_login": "redirects to the identity provider (test_sso_browser.py)",
    "saml_acs": "the identity provider's POST (test_sso_browser.py)",
    "saml_finish_acs": "the identity provider's POST (test_sso_browser.py)",
    "saml_sls": "the identity provider's logout call",
    "saml_metadata": "XML for the identity provider, not a page",
}
# Django's own admin (/django-admin/) is the support staff's, in Django's look: not ours to style.
EXCLUDED_NAMESPACES = ("admin",)


def named_routes(patterns=None, namespace=""):
    """Every named route of the URLconf, with its namespace."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            yield from named_routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_named_route_is_visited_or_excluded():
    routes = {r for r in named_routes() if r.split(":")[0] not in EXCLUDED_NAMESPACES}
    visited = {visit.name for visit in VISITS}
    assert routes - visited - set(EXCLUDED) == set(), "add these pages to VISITS or EXCLUDED"
    assert (visited | set(EXCLUDED)) - routes == set(), "these routes are gone"
    assert visited.isdisjoint(EXCLUDED)


def _objects(localstripe, secret):
    rob, (sara,), _subscription = managed_tenant(localstripe, "contoso.test", totp_secret=secret)
    ada = member("ada@fabrikam.test", name="Ada Lovelace")
    verified_claim(ada)
    meeting = meeting_services.schedule_meeting(
        organiser=sara,
        title="Weekly sync",
        starts_at=timezone.now() + timedelta(minutes=1),
        duration_minutes=24 * 60,
        lobby_bypass="organisation",
        anonymous_join_allowed=True,
        recording_allowed=True,
    )
    announcement = create_announcement(
        tenant=rob.membership.tenant, actor=rob, subject="Bienvenue", body="Quorum."
    )
    support_request = open_support_request(
        tenant=rob.membership.tenant,
        actor=rob,
        subject="Invoices in euros",
        description="Can our invoices show euros?",
        severity=SupportRequest.Severity.LOW,
    )
    domain_claim = start_domain_claim(
        tenant=rob.membership.tenant, admin=rob, domain="northwind.test"
    )
    room_token = MeetingSettings.objects.get(user=sara).personal_room_token
    return {
        "rob": rob,
        "sara": sara,
        "ada": ada,
        "meeting": meeting,
        "announcement": announcement,
        "support_request": support_request,
        "domain_claim": domain_claim,
        "room_token": room_token,
    }


class ServerErrors(logging.Handler):
    """The server log's 5xx: Django logs each one on django.request."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        if getattr(record, "status_code", 500) >= 500:
            self.records.append(self.format(record))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_and_a_laptop_speaks_french_and_is_accessible(
    browser, live_server, localstripe
):
    secret = generate_totp_secret()
    objects = _objects(localstripe, secret)
    errors = ServerErrors()
    logging.getLogger("django.request").addHandler(errors)
    french = english_strings(with_allauth=True)
    axe = AXE.read_text(encoding="utf-8") + "\n;true"
    problems, failed_responses = [], []
    try:
        for language, locale in LANGUAGES.items():
            for persona in ("visitor", "member", "upgrader", "admin"):
                context = browser.new_context(base_url=live_server.url, locale=locale)
                context.set_default_timeout(15_000)
                page = context.new_page()
                page.on(
                    "response",
                    lambda r: (
                        failed_responses.append(f"{r.status} {r.url}") if r.status >= 500 else None
                    ),
                )
                if persona == "member":
                    sign_in(page, objects["sara"].email)
                elif persona == "upgrader":
                    sign_in(page, objects["ada"].email)
                elif persona == "admin":
                    sign_in(page, objects["rob"].email, totp_secret=secret)
                    # The recovery-code pages ask for a fresh proof: give it once, so that they
                    # show themselves rather than the "Confirm access" page.
                    page.goto(reverse("account_reauthenticate"))
                    reauthenticate(page)
                for visit in (v for v in VISITS if v.persona == persona):
                    args = visit.args(objects) if visit.args else []
                    url = reverse(visit.name, args=args) + visit.query
                    page.set_viewport_size(WIDTHS["laptop"])
                    page.goto(url)
                    problems += _check(page, visit, language, french, axe)
                context.close()
    finally:
        logging.getLogger("django.request").removeHandler(errors)
    assert failed_responses == []
    assert errors.records == []
    (PAGES_DIR / "problems.txt").write_text("\n".join(problems) + "\n", encoding="utf-8")
    assert not problems, f"{len(problems)} problems, listed in {PAGES_DIR / 'problems.txt'}"


def _check(page, visit, language, french, axe):
    """Look at the open page at each width; return what is wrong with it."""
    problems = []
    where = f"{language} {visit.slug} ({page.url})"
    for width_name, size in WIDTHS.items():
        page.set_viewport_size(size)
        directory = PAGES_DIR / f"{language}-{size['width']}"
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(directory / f"{visit.slug}.png"), full_page=True)
        overflow = page.evaluate(OVERFLOW)
        if overflow:
            problems.append(f"{where} {width_name}: horizontal scroll {overflow}")
        page.evaluate(axe)
        violations = page.evaluate(AXE_SERIOUS)
        if violations:
            problems.append(f"{where} {width_name}: axe {violations}")
    if language == "fr":
        if page.locator("html").get_attribute("lang") != "fr":
            problems.append(f"{where}: not served in French")
        text = page.locator("body").inner_text()
        sentences = sorted(s for s in french if s in text)
        words = sorted(set(page.evaluate(VISIBLE_WORDS)) & ENGLISH_WORDS)
        if sentences or words:
            problems.append(f"{where}: English {sentences} {words}")
    return problems
