"""What people do in the browser, step by step, shared by the journey tests."""

import re
from pathlib import Path

import allauth
import polib
from django.core import mail
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.fixtures.two_factor import totp_code

ROOT = Path(__file__).resolve().parent.parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def sign_up(page, *, name, email, password=PASSWORD):
    """Sign up in the browser and open the verification link of the mail that arrives."""
    sent = len(mail.outbox)
    page.goto("/accounts/signup/")
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(password)
    page.locator("input[name=password2]").fill(password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert len(mail.outbox) == sent + 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto("/" + link.split("://", 1)[1].split("/", 1)[1])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def sign_in(page, email, password=PASSWORD, *, totp_secret=None):
    """The sign-in page: the address first, then (no single sign-on there) the password and,
    for someone with an authenticator app, its code."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("main form button[type=submit]").first.click()
    page.locator("input[name=password]").fill(password)
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    if totp_secret is not None:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/$"))
        enter_code(page, totp_code(totp_secret))
    page.wait_for_url(re.compile(r"/$"))


def enter_code(page, code):
    """The code page of a sign-in or a re-authentication: an authenticator or recovery code."""
    page.locator("input[name=code]").fill(code)
    page.locator("input[name=code]").press("Enter")


def reauthenticate(page, password=PASSWORD):
    """On allauth's "Confirm access" page: type the password; the kept action then runs."""
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/accounts/reauthenticate/" not in url)


def enrol_authenticator_app(page, password=PASSWORD, *, check=None):
    """From the two-factor page: activate an authenticator app (confirming the password first),
    typing the code computed from the secret the page shows, as the app would; returns the
    secret. `check(page)` runs on each page of the way (e.g. assert_french)."""
    page.goto("/accounts/2fa/")
    if check:
        check(page)
    page.locator("main a[href$='/accounts/2fa/totp/activate/']").click()
    if "/accounts/reauthenticate/" in page.url:
        if check:
            check(page)
        reauthenticate(page, password)
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    if check:
        check(page)
    expect(page.locator("main img[src^='data:image/svg+xml']")).to_be_visible()  # the QR code
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    if check:
        check(page)
    return secret


def fill_card(page, number):
    """localstripe's Stripe.js card element: number, expiry, CVC, postal code."""
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("40")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("75001")


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page):
    """axe-core in the page: no serious or critical violation. Evaluated through the DevTools
    protocol, which our Content-Security-Policy rightly does not let a page script do."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
    )
    assert violations == [], f"{page.url}: {violations}"


def english_strings(*, with_allauth=False):
    """Our user-facing English sentences (the msgids of every catalogue) that French differs
    from: none of them may show on a page served in French. `with_allauth` adds allauth's own
    (its sign-in, two-factor and session pages)."""
    strings = set()
    po_files = [*ROOT.glob("*/locale/fr/LC_MESSAGES/django.po")]
    if with_allauth:
        po_files.append(Path(allauth.__file__).parent / "locale/fr/LC_MESSAGES/django.po")
    for po_file in po_files:
        for entry in polib.pofile(str(po_file)):
            text = re.sub(r"%\(\w+\)[sd]|\{\{.*?\}\}", "\0", entry.msgid)
            for piece in text.split("\0"):
                piece = piece.strip(" .:,;—-")
                if " " in piece and len(piece) >= 12 and piece not in entry.msgstr:
                    strings.add(piece)
    return strings


def assert_french(page, english):
    visible = page.locator("body").inner_text()
    assert page.locator("html").get_attribute("lang") == "fr"
    found = sorted(s for s in english if s in visible)
    assert found == [], f"English on {page.url}: {found}"


def run_wizard_to_the_end(
    page, *, dns, domain, texts, card="4242 4242 4242 4242", plan_label=None, shots=""
):
    """From the wizard's first page to "You are now the admin": claim, publish the record on
    the test DNS server, see step 3 turn to confirmed without a reload, buy the licences."""
    expect(page.locator(".steps li.current")).to_contain_text(texts["step2"])
    if shots:
        screenshot(page, f"{shots}2-run-the-wizard")
    page.locator("form[action$='/upgrade/domain/claim/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/upgrade/domain/$"))
    record = page.get_by_test_id("record-value").text_content().strip()
    page.evaluate("document.body.dataset.sameDocument = 'yes'")
    dns.set_txt(domain, "v=spf1 -all", record)
    page.locator("form[action$='/upgrade/domain/record-added/'] button").click()
    expect(page.get_by_test_id("claim-status")).to_contain_text(texts["confirmed"])
    assert page.evaluate("document.body.dataset.sameDocument") == "yes"
    if shots:
        screenshot(page, f"{shots}3-domain-confirmed")
    page.locator("a[href$='/upgrade/licences/']").click()
    page.wait_for_url(re.compile(r"/upgrade/licences/$"))
    if plan_label:
        page.get_by_label(re.compile(plan_label)).check()
    fill_card(page, card)
    if shots:
        screenshot(page, f"{shots}4-buy-licences")
    page.locator("#purchase-form button[type=submit]").click()
