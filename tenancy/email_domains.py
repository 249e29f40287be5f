"""Normalising e-mail domains, and telling work domains from consumer ones. Which tenant a domain
belongs to is `tenancy.selectors.tenant_for_domain`'s answer alone."""

import ipaddress
from functools import cache
from pathlib import Path

import idna
from django.utils.encoding import punycode
from django.utils.translation import gettext as _

from .exceptions import AddressTooLongError, ConsumerDomainError, InvalidDomainError

CONSUMER_DOMAINS_FILE = Path(__file__).parent / "data" / "consumer_domains.txt"
MAX_DOMAIN_LENGTH = 253
# RFC 5321, 4.5.3.1: a local part of 64 octets; a path of 256 octets, less its two brackets.
MAX_LOCAL_PART_LENGTH = 64
MAX_ADDRESS_LENGTH = 254


@cache
def consumer_domains():
    lines = CONSUMER_DOMAINS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def normalise_domain(domain: str) -> str:
    """Lower case, no trailing dot, IDN to punycode (IDNA 2008): as stored and looked up.

    Raises InvalidDomainError for anything that is not a DNS name, IP literals included, and for
    a domain that mail software would deliver elsewhere than to its key.

    The tenant key follows IDNA 2008 (UTS 46, non-transitional), as registries and browsers do
    today; Django's mail encodes domains with Python's `idna` codec, which is IDNA 2003. The two
    read ß, the final sigma ς, the zero-width (non-)joiner, letters newer than Unicode 3.2 and a
    few others differently: mail for bob@straße.de goes to strasse.de, so its owner could verify
    an address of xn--strae-oqa.de and join that tenant. Such a domain is refused rather than
    rewritten to its xn-- form, because we cannot know which of the two domains the person
    meant (both exist and have different owners); the message offers the xn-- spelling, which
    every mail software reads as the key, for those who mean that one.
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
    if _as_mail_software_sends(candidate) != ascii_domain:
        raise InvalidDomainError(
            _(
                "Some older mail software reads “%(domain)s” as another domain (ß, ς and "
                "invisible joiners are among the letters read differently), so mail could go "
                "to someone else. If your domain is %(key)s, type it that way."
            )
            % {"domain": domain, "key": ascii_domain}
        )
    return ascii_domain


def _as_mail_software_sends(domain: str) -> str | None:
    """The domain as Django's mail writes it (Python's IDNA 2003 codec); None if it cannot."""
    try:
        return punycode(domain)
    except UnicodeError:
        return None


def _is_ip_address(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def domain_of_email(email: str) -> str:
    """The normalised domain of an e-mail address (everything after the last @).

    Refuses an address longer than mail carries (RFC 5321: 64 octets before the @, 254 in all,
    the domain counted as it is sent, in its xn-- form): what a person typed is never cut to fit
    a column."""
    local, sep, domain = (email or "").rpartition("@")
    if not sep:
        raise InvalidDomainError(_("Enter a valid e-mail address."))
    too_long = AddressTooLongError(
        _(
            "This address is too long: e-mail addresses have at most %(local)d characters "
            "before the @ and %(total)d in all."
        )
        % {"local": MAX_LOCAL_PART_LENGTH, "total": MAX_ADDRESS_LENGTH}
    )
    if len(email) > MAX_ADDRESS_LENGTH:
        raise too_long
    key = normalise_domain(domain)
    local_octets = len(local.encode("utf-8"))
    if local_octets > MAX_LOCAL_PART_LENGTH or local_octets + 1 + len(key) > MAX_ADDRESS_LENGTH:
        raise too_long
    return key


# Second-level labels under which country domains sell names (yahoo.co.uk, terra.com.br).
SECOND_LEVEL_LABELS = frozenset({"co", "com", "net", "org", "ne", "or", "ac"})


def is_public_suffix(domain: str) -> bool:
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
