import pytest

from tenancy.email_domains import (
    consumer_domains,
    domain_of_email,
    is_consumer_domain,
    normalise_domain,
    work_domain_of_email,
)
from tenancy.exceptions import ConsumerDomainError, InvalidDomainError


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
