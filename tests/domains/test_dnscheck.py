"""The TXT lookup and matching, against the real test DNS server."""

import pytest

from domains import dnscheck as txt
from domains.dnscheck import lookup_txt, matches, record_value, token_in

TOKEN = "AbC-123_xyz"


def test_several_records_and_multi_string_records_joined(dns):
    dns.set_txt("contoso.com", "v=spf1 include:_spf.example -all", ["quorum-verification=", TOKEN])
    lookup = lookup_txt("contoso.com")
    assert lookup.outcome == txt.FOUND
    assert sorted(lookup.records) == sorted(
        ["v=spf1 include:_spf.example -all", f"quorum-verification={TOKEN}"]
    )


def test_a_flat_server_naming_no_zone_is_asked_as_the_resolver_and_it_says_so(dns):
    """The test server answers NS queries with nothing and no SOA: the check finds no
    authoritative server, and asks the configured resolver itself (two queries in all)."""
    dns.set_txt("contoso.com", "v=spf1 -all")
    before = dns.query_count
    lookup = lookup_txt("contoso.com")
    assert dns.query_count - before == 2
    assert lookup.fell_back
    [resolver] = lookup.servers
    assert (resolver.role, resolver.address, resolver.outcome) == (
        txt.RECURSIVE,
        dns.address,
        txt.FOUND,
    )


def test_nxdomain(dns):
    lookup = lookup_txt("nowhere.contoso.com")
    assert lookup.outcome == txt.NXDOMAIN
    assert not lookup.is_transient
    assert lookup.records == []


def test_name_without_txt_is_no_answer(dns):
    dns.set_txt("contoso.com")
    assert lookup_txt("contoso.com").outcome == txt.NO_TXT


def test_servfail_is_transient(dns):
    dns.servfail("contoso.com")
    lookup = lookup_txt("contoso.com")
    assert lookup.outcome == txt.SERVFAIL
    assert lookup.is_transient


def test_a_silent_server_is_a_timeout_after_at_most_two_queries(dns):
    dns.set_txt("contoso.com", "v=spf1 -all")
    dns.set_silent(True)
    before = dns.query_count
    lookup = lookup_txt("contoso.com")
    assert lookup.outcome == txt.TIMEOUT
    assert lookup.is_transient
    assert 1 <= dns.query_count - before <= 2


def test_a_stopped_server_is_transient(dns):
    dns.stop()
    lookup = lookup_txt("contoso.com")
    assert lookup.is_transient
    dns.start()
    dns.set_txt("contoso.com", "v=spf1 -all")
    assert lookup_txt("contoso.com").outcome == txt.FOUND


@pytest.mark.parametrize(
    "published",
    [
        f"quorum-verification={TOKEN}",
        f'"quorum-verification={TOKEN}"',
        f"'quorum-verification={TOKEN}'",
        f"  Quorum-Verification={TOKEN} ",
        f"QUORUM-VERIFICATION = {TOKEN}",
    ],
)
def test_quotes_spaces_and_prefix_case_are_tolerated(published):
    assert matches(published, TOKEN)


@pytest.mark.parametrize(
    "published",
    [
        f"quorum-verification={TOKEN.lower()}",  # the token is case-sensitive
        f"quorum-verification={TOKEN}x",
        f"other-verification={TOKEN}",
        TOKEN,
        "v=spf1 -all",
        "",
    ],
)
def test_anything_else_does_not_match(published):
    assert not matches(published, TOKEN)


def test_token_in_reads_quorum_records_only():
    assert token_in(record_value("t0k3n")) == "t0k3n"
    assert token_in("google-site-verification=abc") is None
