"""Normalising e-mail domains, and telling work domains from consumer ones. Which tenant a domain
belongs to is `tenancy.selectors.tenant_for_domain`'s answer alone."""

import ipaddress
from functools import cache
from pathlib import Path

import idna
from django.utils.translation import gettext as _

from .exceptions import ConsumerDomainError, InvalidDomainError

CONSUMER_DOMAINS_FILE = Path(__file__).parent / "data" / "consumer_domains.txt"
MAX_DOMAIN_LENGTH = 253


@cache
def consumer_domains():
    lines = CONSUMER_DOMAINS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def normalise_domain(domain):
    """Lower case, no trailing dot, IDN to punycode: how a domain is stored and looked up.

    Raises InvalidDomainError for anything that is not a DNS name, IP literals included.
    """
    candidate = (domain or "").strip().rstrip(".").lower()
    if candidate.startswith("[") or _is_ip_address(candidate):
        raise InvalidDomainError(
            _("Addresses at an IP address are not accepted: please use your work e-mail address.")
        )
    try:
        ascii_domain = idna.encode(candidate, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise InvalidDomainError(
            _("“%(domain)s” is not a valid domain.") % {"domain": domain}
        ) from error
    labels = ascii_domain.split(".")
    if len(labels) < 2 or len(ascii_domain) > MAX_DOMAIN_LENGTH or labels[-1].isdigit():
        raise InvalidDomainError(_("“%(domain)s” is not a valid domain.") % {"domain": domain})
    return ascii_domain


def _is_ip_address(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def domain_of_email(email):
    """The normalised domain of an e-mail address (everything after the last @)."""
    _local, sep, domain = (email or "").rpartition("@")
    if not sep:
        raise InvalidDomainError(_("Enter a valid e-mail address."))
    return normalise_domain(domain)


# Second-level labels under which country domains sell names (yahoo.co.uk, terra.com.br).
SECOND_LEVEL_LABELS = frozenset({"co", "com", "net", "org", "ne", "or", "ac"})


def is_public_suffix(domain):
    """co.uk, com.br: a suffix under which names are sold, nobody's own domain."""
    labels = domain.split(".")
    return len(labels) == 2 and labels[0] in SECOND_LEVEL_LABELS


def is_consumer_domain(domain):
    """True for public mail providers (gmail.com, orange.fr, …), where no tenant can exist."""
    if domain in consumer_domains():
        return True
    # "hotmail.*" in the list stands for hotmail under any public suffix: hotmail.fr,
    # hotmail.co.uk; but gmail.contoso.com is somebody's subdomain, not Gmail.
    provider, _sep, suffix = domain.partition(".")
    suffix_labels = suffix.split(".")
    is_public_suffix = len(suffix_labels) == 1 or (
        len(suffix_labels) == 2 and suffix_labels[0] in SECOND_LEVEL_LABELS
    )
    return is_public_suffix and f"{provider}.*" in consumer_domains()


def work_domain_of_email(email):
    """The normalised domain of a work address; refuses consumer and IP-literal domains."""
    domain = domain_of_email(email)
    if is_consumer_domain(domain):
        raise ConsumerDomainError(
            _(
                "%(domain)s is a personal mail provider. Please sign up with your work e-mail "
                "address, the one at your organisation's domain."
            )
            % {"domain": domain}
        )
    return domain
