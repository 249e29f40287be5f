import idna
import pytest
from django.core.mail import EmailMessage
from hypothesis import given, settings
from hypothesis import strategies as st

from tenancy.email_domains import (
    consumer_domains,
    domain_of_email,
    is_consumer_domain,
    normalise_domain,
    work_domain_of_email,
)
from tenancy.exceptions import AddressTooLongError, ConsumerDomainError, InvalidDomainError
from tests.fixtures.idn import IDN_LETTERS, MISREAD_DOMAINS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Contoso.COM", "contoso.com"),
        ("contoso.com.", "contoso.com"),
        ("  contoso.com  ", "contoso.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.DE", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("eu.contoso.com", "eu.contoso.com"),
        ("société.fr", "xn--socit-esab.fr"),
    ],
)
def test_normalise_domain(raw, expected):
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ".",
        "localhost",
        "192.168.0.1",
        "[192.168.0.1]",
        "[IPv6:::1]",
        "::1",
        "a..b",
        "-bad-.com",
        "x" * 300 + ".com",
        "contoso.123",
        "con toso.com",
        "con\x00toso.com",
    ],
)
def test_invalid_domains_are_refused(raw):
    with pytest.raises(InvalidDomainError):
        normalise_domain(raw)


@pytest.mark.parametrize("raw", MISREAD_DOMAINS)
def test_domains_older_mail_software_reads_as_another_are_refused(raw):
    with pytest.raises(InvalidDomainError) as refusal:
        normalise_domain(raw)
    # The way out: the xn-- spelling, which every mail software reads the same way.
    assert idna.encode(raw, uts46=True).decode() in refusal.value.message


@pytest.mark.parametrize("raw", MISREAD_DOMAINS)
def test_the_xn_spelling_of_such_a_domain_is_its_tenant_key(raw):
    key = idna.encode(raw, uts46=True).decode()
    assert normalise_domain(key) == key


@settings(max_examples=300, deadline=None)
@given(
    labels=st.lists(st.text(alphabet=IDN_LETTERS, min_size=1, max_size=10), min_size=1, max_size=3)
)
def test_mail_to_an_accepted_domain_goes_to_exactly_its_tenant_key(labels):
    domain = ".".join([*labels, "de"])
    try:
        key = normalise_domain(domain)
    except InvalidDomainError:
        return  # refused with a message, never mailed
    # Django's mail writes the address as it is sent: the domain in the form mail software uses.
    assert EmailMessage(to=[f"bob@{domain}"]).message()["To"] == f"bob@{key}"


@pytest.mark.parametrize(
    "email",
    [
        "a" * 65 + "@contoso.com",
        "é" * 33 + "@contoso.com",  # 66 octets in UTF-8
        "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".com",  # 255 in all
        # 231 characters as typed, 255 as sent: each "ü" * 40 label is 46 long in its xn-- form.
        "a" * 64 + "@" + ".".join(["ü" * 40] * 4 + ["de"]),
    ],
)
def test_addresses_longer_than_mail_carries_are_refused(email):
    """RFC 5321: 64 octets before the @, 254 in all, the domain counted as sent (xn--)."""
    with pytest.raises(AddressTooLongError):
        domain_of_email(email)


def test_the_longest_address_mail_carries_is_accepted():
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
    assert len(email) == 254
    assert domain_of_email(email) == email.partition("@")[2]


def test_domain_of_email_uses_the_last_at():
    assert domain_of_email('"rob@home"@Contoso.com') == "contoso.com"


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",
        "outlook.com",
        "hotmail.fr",
        "hotmail.co.uk",
        "yahoo.fr",
        "yahoo.co.jp",
        "icloud.com",
        "gmx.de",
        "gmx.net",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "wanadoo.fr",
    ],
)
def test_consumer_domains(domain):
    assert is_consumer_domain(domain)
    with pytest.raises(ConsumerDomainError):
        work_domain_of_email(f"someone@{domain}")


@pytest.mark.parametrize("domain", ["contoso.com", "gmail.contoso.com", "notgmail.com", "free.com"])
def test_work_domains_are_not_consumer(domain):
    assert not is_consumer_domain(domain)


def test_the_consumer_list_has_at_least_100_providers():
    assert len(consumer_domains()) >= 100
