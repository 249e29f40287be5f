"""The DNS side of a domain claim: the TXT records at the apex, asked of the domain's own
authoritative servers, and what their strings mean.

Only this module talks to DNS. A check asks the configured (recursive) resolver for the NS set
of the closest enclosing zone and the servers' addresses, then asks each of those servers
directly, so that a "not found" cached by the resolver (negative caching lasts the zone's SOA
minimum, often an hour) never delays a verification. When no authoritative server answers, it
falls back to the recursive resolver and says so. A check costs at most MAX_QUERIES queries.

A lookup never raises for DNS trouble: it returns an outcome, so that the caller can tell "the
record is not there" from "we could not ask" (a retry).
"""

import hmac
import re
import time
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
from django.conf import settings

RECORD_PREFIX = "quorum-verification"

# What a lookup (or one server's answer) can end in. FOUND/NXDOMAIN/NO_TXT are answers; the
# others mean "ask again later".
FOUND = "found"
NXDOMAIN = "nxdomain"
NO_TXT = "no_txt"
TIMEOUT = "timeout"
SERVFAIL = "servfail"
TRANSIENT_OUTCOMES = {TIMEOUT, SERVFAIL}
ANSWERS = {FOUND, NXDOMAIN, NO_TXT}
# Only for one server: it refused or is not authoritative for the zone (a lame delegation), or
# it sent us on to the domain's own servers (a parent zone's referral).
LAME = "lame"
REFERRAL = "referral"

# Who was asked.
AUTHORITATIVE = "authoritative"
PARENT = "parent"
RECURSIVE = "recursive"

# Every query counts, a TCP retry of a truncated answer included: finding the zone and its
# servers, asking them, and the fallback. One query is kept for the fallback.
MAX_QUERIES = 6
# Authoritative servers listen on the DNS port; NS records name no other.
AUTHORITATIVE_PORT = 53

_RECORD_RE = re.compile(rf"^{RECORD_PREFIX}\s*=\s*(?P<token>\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ServerAnswer:
    """What one server answered: `name` is its NS name (empty for the recursive resolver)."""

    name: str
    address: str
    role: str
    outcome: str
    records: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def answered(self) -> bool:
        return self.outcome in ANSWERS


@dataclass(frozen=True)
class TxtLookup:
    outcome: str
    records: list[str] = field(default_factory=list)
    detail: str = ""
    servers: list[ServerAnswer] = field(default_factory=list)
    # True when no authoritative server answered and the recursive resolver was asked instead.
    fell_back: bool = False
    queries: int = 0

    @property
    def is_transient(self) -> bool:
        return self.outcome in TRANSIENT_OUTCOMES


def record_value(token: str) -> str:
    return f"{RECORD_PREFIX}={token}"


def token_in(txt: str) -> str | None:
    """The token of a `quorum-verification=` string, or None when the string is something else.

    Tolerates what DNS control panels do to a pasted value: surrounding quotes, spaces, and
    another case for the prefix. The token itself is compared exactly (it is case-sensitive).
    """
    text = txt.strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    match = _RECORD_RE.match(text)
    return match.group("token") if match else None


def matches(txt: str, token: str) -> bool:
    found = token_in(txt)
    return found is not None and hmac.compare_digest(found.encode(), token.encode())


def lookup_txt(domain: str) -> TxtLookup:
    """The TXT strings at `domain` (several records; each record's strings joined), as its
    authoritative servers have them, and what each server asked answered."""
    check = _Check(dns.name.from_text(domain))
    return check.run()


def _recursive_servers() -> list[tuple[str, int]]:
    """The configured resolver(s): settings.DNS_NAMESERVERS ("host:port"), else the system's."""
    if settings.DNS_NAMESERVERS:
        return [_host_and_port(entry) for entry in settings.DNS_NAMESERVERS]
    system = dns.resolver.Resolver()
    return [(str(address), system.port) for address in system.nameservers]


def _host_and_port(entry: str) -> tuple[str, int]:
    host, _, port = entry.rpartition(":")
    if not host:  # "10.0.0.1" without a port
        host, port = entry, "53"
    return host.strip("[]"), int(port)


class _OutOfQueries(Exception):
    pass


class _Check:
    """One check of one name, counting its queries."""

    def __init__(self, name: dns.name.Name) -> None:
        self.name = name
        self.queries = 0
        self.resolvers = _recursive_servers()
        # Finding and asking the authoritative servers takes DNS_LIFETIME at most; the fallback
        # may take one DNS_TIMEOUT more.
        self.deadline = time.monotonic() + settings.DNS_LIFETIME

    def run(self) -> TxtLookup:
        servers: list[ServerAnswer] = []
        zone = self.name
        try:
            zone, nameservers = self._zone_servers()
            self._ask_authoritative(zone, nameservers, servers)
        except _OutOfQueries:
            pass
        answered = [server for server in servers if server.answered]
        if answered:
            return self._combined(zone, servers, answered)
        return self._fallback(servers)

    # Queries

    def _query(self, address: str, port: int, name: dns.name.Name, rdtype, *, recursive: bool):
        """One query (two if a truncated UDP answer is asked again over TCP); never more than
        MAX_QUERIES - 1 before the fallback. Raises dns.exception.Timeout, OSError, or a
        dnspython error for a malformed answer."""
        query = dns.message.make_query(name, rdtype)
        if not recursive:
            query.flags &= ~dns.flags.RD
        try:
            return dns.query.udp(
                query, address, timeout=self._next_timeout(), port=port, raise_on_truncation=True
            )
        except dns.message.Truncated:
            return dns.query.tcp(query, address, timeout=self._next_timeout(), port=port)

    def _next_timeout(self) -> float:
        """Count one more query and say how long it may wait; raise when none may be sent."""
        left = self.deadline - time.monotonic()
        if self.queries >= MAX_QUERIES - 1 or left <= 0:
            raise _OutOfQueries
        self.queries += 1
        return min(settings.DNS_TIMEOUT, left)

    def _ask_resolver(self, name: dns.name.Name, rdtype):
        """The configured resolver's answer, or None when it did not answer (its servers in
        turn, while queries are left)."""
        for address, port in self.resolvers:
            try:
                response = self._query(address, port, name, rdtype, recursive=True)
            except (dns.exception.DNSException, OSError):
                continue
            if response.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return response
        return None

    # Finding the zone's servers

    def _zone_servers(self) -> tuple[dns.name.Name, list[tuple[str, str | None]]]:
        """The closest enclosing zone of the name and its servers [(NS name, address or None)],
        from the resolver's NS answers. A negative answer names the zone in its SOA; a server
        that sends none (a flat development server) makes the walk go up one label, never to
        the root."""
        name = self.name
        while True:
            response = self._ask_resolver(name, dns.rdatatype.NS)
            if response is None:
                return name, []
            nameservers = _records(response.answer, name, dns.rdatatype.NS)
            if nameservers:
                return name, _servers(nameservers, response.additional)
            soa = next(
                (rrset.name for rrset in response.authority if rrset.rdtype == dns.rdatatype.SOA),
                None,
            )
            if soa is not None and soa != name and name.is_subdomain(soa) and len(soa) > 1:
                name = soa
            elif len(name.parent()) > 2:
                name = name.parent()
            else:  # never a TLD without an SOA naming it, never the root: no use here
                return name, []

    def _address_of(self, target: str) -> str | None:
        response = self._ask_resolver(dns.name.from_text(target), dns.rdatatype.A)
        if response is None:
            return None
        found = _records(response.answer, dns.name.from_text(target), dns.rdatatype.A)
        return sorted(rdata.address for rdata in found)[0] if found else None

    # Asking them

    def _ask_authoritative(self, zone, nameservers, servers: list[ServerAnswer]) -> None:
        """Ask each server of the zone in turn. A server of a parent zone (the resolver knew only
        that one, e.g. from a cached NXDOMAIN) refers us once to the domain's own servers."""
        pending = list(nameservers)
        referred = False
        while pending:
            target, address = pending.pop(0)
            if address is None:
                address = self._address_of(target)
            if address is None:
                servers.append(
                    ServerAnswer(target, "", AUTHORITATIVE, LAME, detail="no address found")
                )
                continue
            answer, referral = self._ask_server(target, address, zone)
            if referral is not None and not referred:
                referred = True
                zone, pending = referral
                answer = ServerAnswer(
                    target, address, PARENT, REFERRAL, detail=", ".join(t for t, _a in pending)
                )
            servers.append(answer)

    def _ask_server(self, target: str, address: str, zone: dns.name.Name):
        """One server's answer for the TXT records at the name; (answer, referral) where referral
        is (child zone, its servers) when the server delegates the name further down."""
        try:
            response = self._query(
                address, AUTHORITATIVE_PORT, self.name, dns.rdatatype.TXT, recursive=False
            )
        except dns.exception.Timeout:
            return ServerAnswer(target, address, AUTHORITATIVE, TIMEOUT, detail="no answer"), None
        except (dns.exception.DNSException, OSError) as error:
            return ServerAnswer(target, address, AUTHORITATIVE, SERVFAIL, detail=str(error)), None
        rcode = response.rcode()
        authoritative = bool(response.flags & dns.flags.AA)
        if rcode == dns.rcode.NXDOMAIN and authoritative:
            return ServerAnswer(
                target, address, AUTHORITATIVE, NXDOMAIN, detail="the name does not exist"
            ), None
        if rcode != dns.rcode.NOERROR:
            return ServerAnswer(
                target, address, AUTHORITATIVE, LAME, detail=dns.rcode.to_text(rcode)
            ), None
        if not authoritative:
            referral = _referral(response, zone, self.name)
            detail = "referral" if referral else "not authoritative for the zone"
            return ServerAnswer(target, address, AUTHORITATIVE, LAME, detail=detail), referral
        texts = _texts(response, self.name)
        if texts:
            return ServerAnswer(target, address, AUTHORITATIVE, FOUND, records=texts), None
        return ServerAnswer(target, address, AUTHORITATIVE, NO_TXT, detail="no TXT record"), None

    # Results

    def _combined(self, zone, servers, answered) -> TxtLookup:
        records: list[str] = []
        for server in answered:
            records.extend(text for text in server.records if text not in records)
        outcomes = {server.outcome for server in answered}
        outcome = next(o for o in (FOUND, NO_TXT, NXDOMAIN) if o in outcomes)
        detail = (
            f"{len(answered)} of {sum(s.role == AUTHORITATIVE for s in servers)} authoritative "
            f"server(s) of {_text(zone)} answered; {len(records)} TXT record(s)"
        )
        return TxtLookup(outcome, records, detail, servers, fell_back=False, queries=self.queries)

    def _fallback(self, servers: list[ServerAnswer]) -> TxtLookup:
        if not self.resolvers:
            return self._fell_back(servers, "", SERVFAIL, [], "no DNS resolver is configured")
        # The query kept for this: MAX_QUERIES in all.
        self.queries += 1
        address, port = self.resolvers[0]
        where = f"{address}:{port}"
        query = dns.message.make_query(self.name, dns.rdatatype.TXT)
        why = "no authoritative server answered; asked the recursive resolver"
        try:
            response = dns.query.udp(query, address, timeout=settings.DNS_TIMEOUT, port=port)
        except dns.exception.Timeout as error:
            return self._fell_back(servers, where, TIMEOUT, [], f"{why}: no answer ({error})")
        except (dns.exception.DNSException, OSError) as error:
            return self._fell_back(servers, where, SERVFAIL, [], f"{why}: {error}")
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return self._fell_back(
                servers, where, NXDOMAIN, [], f"{why}: {_text(self.name)} does not exist"
            )
        if rcode != dns.rcode.NOERROR:
            return self._fell_back(
                servers, where, SERVFAIL, [], f"{why}: DNS servers failed ({rcode.name})"
            )
        texts = _texts(response, self.name)
        if not texts:
            return self._fell_back(servers, where, NO_TXT, [], f"{why}: no TXT record")
        return self._fell_back(servers, where, FOUND, texts, f"{why}: {len(texts)} TXT record(s)")

    def _fell_back(self, servers, where, outcome, texts, detail) -> TxtLookup:
        answer = ServerAnswer("", where, RECURSIVE, outcome, records=texts, detail=detail)
        return TxtLookup(
            outcome, texts, detail, [*servers, answer], fell_back=True, queries=self.queries
        )


def _records(section, name, rdtype):
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype:
            return list(rrset)
    return []


def _addresses(section) -> dict[dns.name.Name, str]:
    return {
        rrset.name: sorted(rdata.address for rdata in rrset)[0]
        for rrset in section
        if rrset.rdtype == dns.rdatatype.A
    }


def _texts(response, name) -> list[str]:
    return [
        b"".join(rdata.strings).decode("utf-8", errors="replace")
        for rdata in _records(response.answer, name, dns.rdatatype.TXT)
    ]


def _referral(response, zone, name):
    """(child zone, [(NS name, glue address or None)]) when the answer delegates `name` to a
    zone below `zone`; None otherwise (an upward or sideways referral is a lame answer)."""
    for rrset in response.authority:
        child = rrset.name
        if (
            rrset.rdtype == dns.rdatatype.NS
            and child != zone
            and child.is_subdomain(zone)
            and name.is_subdomain(child)
        ):
            return child, _servers(rrset, response.additional)
    return None


def _servers(nameservers, additional) -> list[tuple[str, str | None]]:
    """[(NS name, its glue address or None)], in name order."""
    glue = _addresses(additional)
    return [(_text(target), glue.get(target)) for target in sorted(r.target for r in nameservers)]


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True)


# What the status page says of each server asked, for a claim's token.
SAW_IT = "found"
NOT_THERE = "not_there"
NO_ANSWER = "no_answer"
SENT_ON = "referral"


def servers_seen(lookup: TxtLookup, token: str) -> list[dict[str, object]]:
    """Each server the lookup asked and what it answered about the record of `token` (kept as
    JSON on the claim or the domain, for the status pages)."""
    seen: list[dict[str, object]] = []
    for server in lookup.servers:
        if server.role == PARENT:
            answer = SENT_ON
        elif not server.answered:
            answer = NO_ANSWER
        elif any(matches(text, token) for text in server.records):
            answer = SAW_IT
        else:
            answer = NOT_THERE
        seen.append(
            {
                "name": server.name,
                "address": server.address,
                "role": server.role,
                "answer": answer,
                "records": server.records,
                "detail": server.detail,
            }
        )
    return seen
