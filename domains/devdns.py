"""A small authoritative DNS server for development and tests (dnslib, a dev dependency).

It serves the TXT records of a JSON file, re-read on every query so that another process (a
test, `manage.py dev_dns add`) changes them while it runs:

    {"txt": {"contoso.test": ["v=spf1 -all", ["two ", "strings"]]}, "servfail": ["broken.test"]}

A record is a string, or a list of strings (one TXT record made of several strings). A name of
the file without records answers NOERROR with no data; any other name answers NXDOMAIN; a name
under "servfail" answers SERVFAIL. `silent = True` receives queries but never answers (a
timeout). `query_count` counts the queries received, silent or not.
"""

import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path


def read_records(path):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"txt": {}, "servfail": []}
    return {"txt": data.get("txt", {}), "servfail": data.get("servfail", [])}


def write_records(path, data):
    """Replace the file at once: the server never reads half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dns-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2, sort_keys=True)
    os.replace(tmp, path)


def add_txt(path, domain, value):
    data = read_records(path)
    records = data["txt"].setdefault(_name(domain), [])
    if value not in records:
        records.append(value)
    write_records(path, data)


def remove_txt(path, domain, value=None):
    """Remove one TXT string of `domain`, or the whole name (NXDOMAIN) when `value` is None."""
    data = read_records(path)
    name = _name(domain)
    if value is None:
        data["txt"].pop(name, None)
    elif value in data["txt"].get(name, []):
        data["txt"][name].remove(value)
    write_records(path, data)


def _name(domain):
    return domain.strip().rstrip(".").lower()


ATTEMPTS_AT_A_FREE_PORT = 5


class _LoopbackServer:
    """A dnslib server on `host:port` (port 0: a free one), UDP and TCP in background threads,
    answering with `self.answer(request)`. It logs who asked what; `silent` servers receive
    queries and never answer (a timeout)."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        self.silent = False
        self._asked = []
        self._lock = threading.Lock()
        self._servers = []

    @property
    def query_count(self):
        with self._lock:
            return len(self._asked)

    def queries(self, *, excluding=()):
        """[(client address, name, type)] of the queries received, but those of `excluding`."""
        with self._lock:
            return [query for query in self._asked if query[0] not in excluding]

    def _log(self, client, data):
        from dnslib import QTYPE, DNSError, DNSRecord

        try:
            question = DNSRecord.parse(data).q
            asked = (_name(str(question.qname)), QTYPE.get(question.qtype))
        except DNSError:
            asked = ("", "")
        with self._lock:
            self._asked.append((client, *asked))

    def forget_queries(self):
        with self._lock:
            self._asked.clear()

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def running(self):
        return bool(self._servers)

    def answer(self, request):
        raise NotImplementedError

    def start(self):
        from dnslib.server import DNSHandler, DNSLogger, DNSServer

        owner = self

        class Handler(DNSHandler):
            def handle(self):
                if not owner.silent:
                    with contextlib.suppress(OSError):  # the server stopped meanwhile
                        super().handle()
                elif isinstance(self.request, tuple):  # UDP: (data, socket); TCP is not read
                    owner._log(self.client_address[0], self.request[0])

            def get_reply(self, data):
                owner._log(self.client_address[0], data)
                return super().get_reply(data)

        class Resolver:
            def resolve(self, request, handler):
                return owner.answer(request)

        logger = DNSLogger(log="-request,-reply,-truncated,-recv,-send,-data", prefix=False)
        chosen = self.port
        attempts = ATTEMPTS_AT_A_FREE_PORT if chosen == 0 else 1
        for attempt in range(1, attempts + 1):
            udp = DNSServer(
                Resolver(), address=self.host, port=chosen, logger=logger, handler=Handler
            )
            # The UDP socket picked a free port; TCP (for truncated answers) takes the same one,
            # unless another process holds it over TCP: then pick another.
            self.port = udp.server.server_address[1]
            try:
                tcp = DNSServer(
                    Resolver(),
                    address=self.host,
                    port=self.port,
                    tcp=True,
                    logger=logger,
                    handler=Handler,
                )
            except OSError:
                udp.server.server_close()
                if attempt == attempts:
                    raise
                continue
            break
        self._servers = [udp, tcp]
        for server in self._servers:
            server.start_thread()
        return self

    def stop(self):
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    def serve_forever(self):
        self.start()
        try:
            threading.Event().wait()
        finally:
            self.stop()


class DevDNSServer(_LoopbackServer):
    """The flat server of the records file (see the module's docstring)."""

    def __init__(self, records_file, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.records_file = Path(records_file)
        self._resolver = _Resolver(self.records_file)

    def answer(self, request):
        return self._resolver.resolve(request, None)


class _Resolver:
    """dnslib resolver answering from the records file, re-read for every query."""

    def __init__(self, records_file):
        self.records_file = records_file

    def resolve(self, request, handler):
        from dnslib import QTYPE, RCODE, RR, TXT

        reply = request.reply()  # authoritative answer (AA) to this question
        name = _name(str(request.q.qname))
        data = read_records(self.records_file)
        if name in data["servfail"]:
            reply.header.rcode = RCODE.SERVFAIL
        elif name not in data["txt"]:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype in (QTYPE.TXT, QTYPE.ANY):
            for record in data["txt"][name]:
                strings = [record] if isinstance(record, str) else list(record)
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(strings), ttl=60))
        return reply


# A DNS hierarchy on loopback: a root, TLDs and the domains' own servers, each an authoritative
# server on its own 127.0.53.x address and port 53 (where NS records send resolvers), and a
# caching recursive resolver in front of them, the one Quorum is configured with.


def _within(name, origin):
    return origin == "" or name == origin or name.endswith("." + origin)


def _names_below(origin, name):
    """The names strictly below `origin` down to `name`, shortest first."""
    labels = name.split(".") if name else []
    depth = len(origin.split(".")) if origin else 0
    return [".".join(labels[index:]) for index in range(len(labels) - depth - 1, -1, -1)]


class Zone:
    """The records of one zone as one server holds them: a secondary that lags behind is a server
    whose copy of the zone misses a change."""

    def __init__(self, origin, *, negative_ttl=3600):
        self.origin = _name(origin)
        self._lock = threading.Lock()
        self._records = {}
        apex = f"{self.origin}." if self.origin else "."
        primary = f"ns.{apex}" if self.origin else "a.root-servers.test."
        self.add(
            f"{apex} 3600 IN SOA {primary} hostmaster.{primary} 1 7200 900 1209600 {negative_ttl}"
        )

    def add(self, line):
        """Add a record written as in a zone file: `contoso.com. 300 IN TXT "v=spf1 -all"`."""
        from dnslib import RR

        for record in RR.fromZone(line):
            key = (_name(str(record.rname)), record.rtype)
            with self._lock:
                self._records.setdefault(key, []).append(record)

    def remove(self, name, rtype):
        """Remove the records of one type at a name (rtype: "TXT", "NS", ...)."""
        from dnslib import QTYPE

        with self._lock:
            self._records.pop((_name(name), getattr(QTYPE, rtype)), None)

    def records(self, name, rtype):
        with self._lock:
            return list(self._records.get((name, rtype), []))

    def exists(self, name):
        with self._lock:
            return any(_within(owner, name) for owner, _type in self._records)

    @property
    def soa(self):
        from dnslib import QTYPE

        return self.records(self.origin, QTYPE.SOA)[0]


class ZoneServer(_LoopbackServer):
    """An authoritative server of the zones it holds (on port 53 of its own address); any other
    name is REFUSED, which makes it a lame server for a zone it is named for but does not hold."""

    def __init__(self, host, zones=(), port=53):
        super().__init__(host, port)
        self.zones = {zone.origin: zone for zone in zones}

    def answer(self, request):
        from dnslib import QTYPE, RCODE

        name, rtype = _name(str(request.q.qname)), request.q.qtype
        reply = request.reply(ra=0, aa=1)
        held = [origin for origin in self.zones if _within(name, origin)]
        if not held:
            reply.header.aa = 0
            reply.header.rcode = RCODE.REFUSED
            return reply
        zone = self.zones[max(held, key=len)]
        for cut in _names_below(zone.origin, name):
            delegation = zone.records(cut, QTYPE.NS)
            if delegation:  # a child zone: send the asker on to its servers
                reply.header.aa = 0
                for record in delegation:
                    reply.add_auth(record)
                self._add_glue(reply, zone, delegation)
                return reply
        found = zone.records(name, rtype)
        for record in found:
            reply.add_answer(record)
        if found and rtype == QTYPE.NS:
            self._add_glue(reply, zone, found)
        if not found:
            reply.add_auth(zone.soa)
            if not zone.exists(name):
                reply.header.rcode = RCODE.NXDOMAIN
        return reply

    @staticmethod
    def _add_glue(reply, zone, nameservers):
        from dnslib import QTYPE

        for record in nameservers:
            for address in zone.records(_name(str(record.rdata.label)), QTYPE.A):
                reply.add_ar(address)


class CachingResolver(_LoopbackServer):
    """A recursive resolver: it walks down from the root's address for every name it does not
    hold, and keeps answers for their TTL, negative ones (NXDOMAIN for every type of the name,
    NODATA for one type) for the SOA's negative TTL. Its own queries leave from its address."""

    def __init__(self, host, root, port=53):
        super().__init__(host, port)
        self.root = root
        self._cache = {}
        self._cache_lock = threading.Lock()

    def flush(self):
        with self._cache_lock:
            self._cache.clear()

    def answer(self, request):
        from dnslib import QTYPE, RCODE

        name, rtype = _name(str(request.q.qname)), request.q.qtype
        reply = request.reply(ra=1, aa=0)
        rcode, answers, authority = self.lookup(name, rtype)
        reply.header.rcode = rcode
        for record in answers:
            reply.add_answer(record)
        for record in authority:
            reply.add_auth(record)
        if rtype == QTYPE.NS and rcode == RCODE.NOERROR:
            for record in answers:
                target = _name(str(record.rdata.label))
                cached = self._cached(target, QTYPE.A)
                if cached and cached[0] == RCODE.NOERROR:
                    for address in cached[1]:
                        reply.add_ar(address)
        return reply

    def lookup(self, name, rtype, depth=0):
        """(rcode, answer records, authority records) for a name and type."""
        from dnslib import QTYPE, RCODE

        cached = self._cached(name, rtype)
        if cached is not None:
            return cached
        servers = [self.root]
        for _step in range(12):
            response = self._ask_any(servers, name, rtype)
            if response is None:
                return RCODE.SERVFAIL, [], []
            rcode = response.header.rcode
            negative = [r for r in response.auth if r.rtype == QTYPE.SOA]
            if rcode == RCODE.NXDOMAIN:
                self._keep((name, None), (RCODE.NXDOMAIN, [], negative), _negative_ttl(negative))
                return RCODE.NXDOMAIN, [], negative
            if response.header.aa:
                answers = [r for r in response.rr if r.rtype == rtype]
                ttl = min((r.ttl for r in answers), default=_negative_ttl(negative))
                result = (RCODE.NOERROR, answers, [] if answers else negative)
                self._keep((name, rtype), result, ttl)
                self._keep_glue(response)
                return result
            delegation = [r for r in response.auth if r.rtype == QTYPE.NS]
            if not delegation or depth > 3:
                return RCODE.SERVFAIL, [], []
            self._keep(
                (_name(str(delegation[0].rname)), QTYPE.NS),
                (RCODE.NOERROR, delegation, []),
                delegation[0].ttl,
            )
            self._keep_glue(response)
            servers = []
            for record in delegation:
                target = _name(str(record.rdata.label))
                glue = self._cached(target, QTYPE.A)
                if glue is None:
                    glue = self.lookup(target, QTYPE.A, depth + 1)
                servers.extend(str(address.rdata) for address in glue[1])
        return RCODE.SERVFAIL, [], []

    def _ask_any(self, servers, name, rtype):
        """The first answer of `servers` that is not a refusal or a failure (lame ones are
        skipped), or None."""
        import socket

        from dnslib import QTYPE, RCODE, DNSRecord

        query = DNSRecord.question(name or ".", QTYPE.get(rtype))
        query.header.rd = 0
        for server in servers:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.bind((self.host, 0))
                udp.settimeout(1.0)
                try:
                    udp.sendto(query.pack(), (server, 53))
                    response = DNSRecord.parse(udp.recvfrom(65535)[0])
                except OSError:
                    continue
            if response.header.rcode in (RCODE.NOERROR, RCODE.NXDOMAIN):
                return response
        return None

    def _keep_glue(self, response):
        from dnslib import QTYPE, RCODE

        for record in response.ar:
            if record.rtype == QTYPE.A:
                self._keep(
                    (_name(str(record.rname)), QTYPE.A), (RCODE.NOERROR, [record], []), record.ttl
                )

    def _keep(self, key, result, ttl):
        with self._cache_lock:
            self._cache[key] = (time.monotonic() + ttl, result)

    def _cached(self, name, rtype):
        now = time.monotonic()
        with self._cache_lock:
            for key in ((name, None), (name, rtype)):  # an NXDOMAIN holds for every type
                entry = self._cache.get(key)
                if entry is not None and entry[0] > now:
                    return entry[1]
        return None


def _negative_ttl(soa_records):
    if not soa_records:
        return 0
    soa = soa_records[0]
    return min(soa.ttl, soa.rdata.times[-1])


class LoopbackHierarchy:
    """A root on 127.0.53.1, TLDs and domains on the next addresses, all on port 53, and the
    caching resolver on 127.0.53.53 (settings.DNS_NAMESERVERS = ["127.0.53.53:53"]).

    Each domain server holds its own copy of its zone (`zone(domain, server)`); a server named
    in `lame` is listed in the delegation but holds nothing."""

    NETWORK = "127.0.53"
    RESOLVER = f"{NETWORK}.53"

    def __init__(self):
        self._next = 1
        self.root_zone = Zone("")
        self.root = self._server([self.root_zone])
        self._name_server(self.root_zone, "", "a.root-servers.test", self.root.host)
        self.tld_zones = {}
        self.domains = {}
        self.resolver = CachingResolver(self.RESOLVER, self.root.host)

    @property
    def servers(self):
        servers = [self.root, self.resolver]
        for domain in self.domains.values():
            servers.extend(domain.values())
        return servers + [server for server, _zone in self.tld_zones.values()]

    def _server(self, zones):
        server = ZoneServer(f"{self.NETWORK}.{self._next}", zones)
        self._next += 1
        return server

    @staticmethod
    def _name_server(zone, origin, target, address):
        apex = f"{origin}." if origin else "."
        zone.add(f"{apex} 86400 IN NS {target}.")
        zone.add(f"{target}. 86400 IN A {address}")

    def add_tld(self, tld):
        zone = Zone(tld)
        server = self._server([zone])
        self._name_server(zone, tld, f"ns.nic.{tld}", server.host)
        self._name_server(self.root_zone, tld, f"ns.nic.{tld}", server.host)
        self.tld_zones[tld] = (server, zone)
        return server

    def add_domain(self, domain, servers=("ns1", "ns2"), lame=()):
        """The domain's servers, each with its copy of the zone, delegated from its TLD."""
        domain = _name(domain)
        named = {}
        for label in (*servers, *lame):
            holds = [] if label in lame else [Zone(domain)]
            named[label] = self._server(holds)
        self.domains[domain] = named
        for server in named.values():
            for zone in server.zones.values():
                for label, other in named.items():
                    self._name_server(zone, domain, f"{label}.{domain}", other.host)
        self.delegate(domain)
        return named

    def delegate(self, domain):
        """Publish the domain's delegation (NS and glue) in its TLD."""
        _server, tld_zone = self.tld_zones[domain.rpartition(".")[2]]
        self.undelegate(domain)
        for label, server in self.domains[domain].items():
            self._name_server(tld_zone, domain, f"{label}.{domain}", server.host)

    def undelegate(self, domain):
        _server, tld_zone = self.tld_zones[domain.rpartition(".")[2]]
        tld_zone.remove(domain, "NS")
        for label in self.domains[domain]:
            tld_zone.remove(f"{label}.{domain}", "A")

    def zone(self, domain, server):
        return self.domains[_name(domain)][server].zones[_name(domain)]

    def set_txt(self, domain, *values, on=None):
        """Replace the TXT records at the apex on the servers `on` (default: every server that
        holds the zone)."""
        for label, server in self.domains[_name(domain)].items():
            if (on is None or label in on) and server.zones:
                zone = server.zones[_name(domain)]
                zone.remove(domain, "TXT")
                for value in values:
                    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
                    zone.add(f'{_name(domain)}. 300 IN TXT "{escaped}"')

    def start(self):
        for server in self.servers:
            server.start()
        return self

    def stop(self):
        # Each server takes up to half a second to notice: they stop side by side.
        stopping = [threading.Thread(target=server.stop) for server in self.servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()

    def queries_from_outside(self):
        """The queries every server received but from the resolver itself: those of a check."""
        return [q for server in self.servers for q in server.queries(excluding={self.RESOLVER})]

    def forget_queries(self):
        for server in self.servers:
            server.forget_queries()
