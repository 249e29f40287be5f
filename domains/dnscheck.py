"""The DNS side of a domain claim: one TXT lookup at the apex, and what its strings mean.

Only this module talks to DNS. A lookup never raises for DNS trouble: it returns an outcome, so
that the caller can tell "the record is not there" from "we could not ask" (a retry).
"""

import hmac
import re
from dataclasses import dataclass, field

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
from django.conf import settings

RECORD_PREFIX = "quorum-verification"

# What a lookup can end in. FOUND/NXDOMAIN/NO_TXT are answers; the others mean "ask again later".
FOUND = "found"
NXDOMAIN = "nxdomain"
NO_TXT = "no_txt"
TIMEOUT = "timeout"
SERVFAIL = "servfail"
TRANSIENT_OUTCOMES = {TIMEOUT, SERVFAIL}

_RECORD_RE = re.compile(rf"^{RECORD_PREFIX}\s*=\s*(?P<token>\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class TxtLookup:
    outcome: str
    records: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def is_transient(self):
        return self.outcome in TRANSIENT_OUTCOMES


def record_value(token):
    return f"{RECORD_PREFIX}={token}"


def token_in(txt):
    """The token of a `quorum-verification=` string, or None when the string is something else.

    Tolerates what DNS control panels do to a pasted value: surrounding quotes, spaces, and
    another case for the prefix. The token itself is compared exactly (it is case-sensitive).
    """
    text = txt.strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    match = _RECORD_RE.match(text)
    return match.group("token") if match else None


def matches(txt, token):
    found = token_in(txt)
    return found is not None and hmac.compare_digest(found.encode(), token.encode())


def _nameserver(entry):
    host, _, port = entry.rpartition(":")
    if not host:  # "10.0.0.1" without a port
        host, port = entry, "53"
    return dns.nameserver.Do53Nameserver(host.strip("[]"), int(port))


def _resolver():
    if settings.DNS_NAMESERVERS:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [_nameserver(entry) for entry in settings.DNS_NAMESERVERS]
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = settings.DNS_TIMEOUT
    # A check costs at most 2 queries: the lifetime leaves room for two timeouts (or one
    # truncated UDP answer retried over TCP), never for a third attempt.
    resolver.lifetime = min(settings.DNS_LIFETIME, 2 * settings.DNS_TIMEOUT)
    return resolver


def lookup_txt(domain):
    """The TXT strings at `domain` (several records; each record's strings joined)."""
    name = dns.name.from_text(domain)  # absolute: no search list, no extra queries
    try:
        answer = _resolver().resolve(name, "TXT", search=False)
    except dns.resolver.NXDOMAIN:
        return TxtLookup(NXDOMAIN, detail=f"{domain} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return TxtLookup(NO_TXT, detail=f"{domain} has no TXT record")
    except dns.exception.Timeout as error:
        return TxtLookup(TIMEOUT, detail=f"no answer from DNS: {error}")
    except (dns.resolver.NoNameservers, dns.exception.DNSException) as error:
        return TxtLookup(SERVFAIL, detail=f"DNS servers failed: {error}")
    records = [
        b"".join(rdata.strings).decode("utf-8", errors="replace") for rdata in answer.rrset or []
    ]
    return TxtLookup(FOUND, records=records, detail=f"{len(records)} TXT record(s)")
