"""Checks ask the domain's authoritative servers, found through the configured resolver, in a real
DNS hierarchy on loopback (tests/fixtures/dns_hierarchy.py): delegation, a lame server, a server
lagging behind, a resolver holding a cached negative answer."""

import dns.resolver
import pytest

from domains import dnscheck, services
from domains.devdns import LoopbackHierarchy
from domains.models import DomainClaim
from tests.factories import member
from tests.fixtures.claims import make_due

Status = DomainClaim.Status


def ask_the_resolver(name, rdtype="TXT"):
    """What the configured resolver says (as any recursive client would hear it)."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [LoopbackHierarchy.RESOLVER]
    resolver.lifetime = 3
    try:
        return resolver.resolve(name, rdtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer) as negative:
        return negative


def answers(claim):
    return {server["name"] or "resolver": server["answer"] for server in claim.servers_seen}


def check(claim):
    make_due(claim)
    checked = services.check_claim(claim_id=claim.pk)
    assert checked is not None
    return checked


@pytest.fixture
def rob(db):
    return member("rob@contoso.com", name="Rob Martin")


def test_the_record_on_one_server_verifies_though_another_lags_and_one_is_lame(rob, dns_hierarchy):
    claim = services.start_claim(user=rob)
    dns_hierarchy.set_txt("contoso.com", "v=spf1 -all", claim.record_value, on=("ns1",))
    dns_hierarchy.set_txt("contoso.com", "v=spf1 -all", on=("ns2",))  # not updated yet
    dns_hierarchy.forget_queries()

    claim = check(claim)

    assert claim.status == Status.VERIFIED
    assert answers(claim) == {
        "ns1.contoso.com": "found",
        "ns2.contoso.com": "not_there",
        "ns3.contoso.com": "no_answer",
    }
    lame = next(s for s in claim.servers_seen if s["name"] == "ns3.contoso.com")
    assert lame["detail"] == "REFUSED"
    ns1 = next(s for s in claim.servers_seen if s["name"] == "ns1.contoso.com")
    assert ns1["address"] == dns_hierarchy.domains["contoso.com"]["ns1"].host
    assert sorted(ns1["records"]) == sorted(["v=spf1 -all", claim.record_value])
    asked = dns_hierarchy.queries_from_outside()
    # The NS set (with its addresses) from the resolver, then each server directly.
    assert [(name, kind) for _client, name, kind in asked] == [
        ("contoso.com", "NS"),
        ("contoso.com", "TXT"),
        ("contoso.com", "TXT"),
        ("contoso.com", "TXT"),
    ]


def test_a_cached_nxdomain_does_not_delay_the_verification(db, dns_hierarchy):
    fay = member("fay@fabrikam.com", name="Fay Durand")
    # fabrikam.com is not delegated yet: the first check, and the resolver, hear NXDOMAIN.
    dns_hierarchy.undelegate("fabrikam.com")
    claim = check(services.start_claim(user=fay))
    assert (claim.status, claim.last_outcome) == (Status.PENDING, "nxdomain")
    assert isinstance(ask_the_resolver("fabrikam.com"), dns.resolver.NXDOMAIN)
    # Then the domain is delegated and the record published on one of its servers.
    dns_hierarchy.delegate("fabrikam.com")
    dns_hierarchy.set_txt("fabrikam.com", claim.record_value, on=("ns1",))
    assert isinstance(ask_the_resolver("fabrikam.com"), dns.resolver.NXDOMAIN)  # for an hour
    dns_hierarchy.forget_queries()

    claim = check(claim)

    assert claim.status == Status.VERIFIED
    assert answers(claim) == {
        "ns.nic.com": "referral",
        "ns1.fabrikam.com": "found",
        "ns2.fabrikam.com": "not_there",
    }
    assert len(dns_hierarchy.queries_from_outside()) <= dnscheck.MAX_QUERIES


def test_a_cached_no_txt_answer_does_not_delay_the_verification(rob, dns_hierarchy):
    claim = check(services.start_claim(user=rob))
    assert claim.last_outcome == "no_txt"
    assert isinstance(ask_the_resolver("contoso.com"), dns.resolver.NoAnswer)
    dns_hierarchy.set_txt("contoso.com", claim.record_value)
    assert isinstance(ask_the_resolver("contoso.com"), dns.resolver.NoAnswer)  # cached

    assert check(claim).status == Status.VERIFIED


def test_when_no_authoritative_server_answers_the_resolver_is_asked_and_it_says_so(
    rob, dns_hierarchy
):
    claim = services.start_claim(user=rob)
    dns_hierarchy.set_txt("contoso.com", claim.record_value)
    assert ask_the_resolver("contoso.com").rrset  # the resolver keeps it for its TTL
    for server in dns_hierarchy.domains["contoso.com"].values():
        server.silent = True

    claim = check(claim)

    assert claim.status == Status.VERIFIED
    assert answers(claim) == {
        "ns1.contoso.com": "no_answer",
        "ns2.contoso.com": "no_answer",
        "ns3.contoso.com": "no_answer",
        "resolver": "found",
    }
    assert claim.servers_seen[-1]["role"] == dnscheck.RECURSIVE
    assert "asked the recursive resolver" in claim.servers_seen[-1]["detail"]


def test_a_check_sends_at_most_6_queries_however_many_servers_are_silent(dns_hierarchy):
    assert len(ask_the_resolver("northwind.com", "NS").rrset) == 6  # the resolver keeps them
    for server in dns_hierarchy.domains["northwind.com"].values():
        server.silent = True
    dns_hierarchy.forget_queries()

    lookup = dnscheck.lookup_txt("northwind.com")

    assert lookup.is_transient
    assert lookup.fell_back
    assert lookup.queries == dnscheck.MAX_QUERIES
    assert len(dns_hierarchy.queries_from_outside()) == dnscheck.MAX_QUERIES


def test_a_subdomain_is_asked_of_the_servers_of_its_zone(dns_hierarchy):
    dns_hierarchy.zone("contoso.com", "ns1").add('eu.contoso.com. 300 IN TXT "eu-record"')

    lookup = dnscheck.lookup_txt("eu.contoso.com")

    # The resolver's NODATA for NS at eu.contoso.com names the zone, contoso.com, in its SOA.
    by_server = {server.name: server.outcome for server in lookup.servers}
    assert by_server == {
        "ns1.contoso.com": dnscheck.FOUND,
        "ns2.contoso.com": dnscheck.NXDOMAIN,
        "ns3.contoso.com": dnscheck.LAME,
    }
    assert lookup.records == ["eu-record"]


def test_a_name_that_exists_nowhere_is_nxdomain_from_the_tld(dns_hierarchy):
    lookup = dnscheck.lookup_txt("nowhere.com")
    assert lookup.outcome == dnscheck.NXDOMAIN
    assert not lookup.fell_back
    assert [server.name for server in lookup.servers] == ["ns.nic.com"]


def test_a_silent_resolver_is_a_timeout_after_two_queries(dns_hierarchy):
    dns_hierarchy.resolver.silent = True
    lookup = dnscheck.lookup_txt("contoso.com")
    assert lookup.outcome == dnscheck.TIMEOUT
    assert lookup.queries == 2  # the NS query, then the fallback


def test_the_walk_starts_from_the_configured_resolver_only(settings, dns_hierarchy):
    """Our code holds no root hint: with the resolver unreachable, no server is ever asked."""
    settings.DNS_NAMESERVERS = ["127.0.53.99:53"]  # nothing listens there
    lookup = dnscheck.lookup_txt("contoso.com")
    assert lookup.is_transient
    assert dns_hierarchy.queries_from_outside() == []
