"""A small authoritative DNS server for development and tests (dnslib, a dev dependency).

It serves the TXT records of a JSON file, re-read on every query so that another process (a
test, `manage.py dev_dns add`) changes them while it runs:

    {"txt": {"contoso.test": ["v=spf1 -all", ["two ", "strings"]]}, "servfail": ["broken.test"]}

A record is a string, or a list of strings (one TXT record made of several strings). A name of
the file without records answers NOERROR with no data; any other name answers NXDOMAIN; a name
under "servfail" answers SERVFAIL. `silent = True` receives queries but never answers (a
timeout). `query_count` counts the queries received, silent or not.
"""

import json
import os
import tempfile
import threading
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


class DevDNSServer:
    """UDP and TCP on `host:port` (port 0: a free one), in background threads."""

    def __init__(self, records_file, host="127.0.0.1", port=0):
        self.records_file = Path(records_file)
        self.host = host
        self.port = port
        self.silent = False
        self._count = 0
        self._lock = threading.Lock()
        self._servers = []

    @property
    def query_count(self):
        with self._lock:
            return self._count

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def running(self):
        return bool(self._servers)

    def start(self):
        from dnslib.server import DNSHandler, DNSLogger, DNSServer

        owner = self

        class Handler(DNSHandler):
            def handle(self):
                with owner._lock:
                    owner._count += 1
                if not owner.silent:
                    super().handle()

        resolver = _Resolver(self.records_file)
        logger = DNSLogger(log="-request,-reply,-truncated,-recv,-send,-data", prefix=False)
        udp = DNSServer(resolver, address=self.host, port=self.port, logger=logger, handler=Handler)
        # The UDP socket picked the free port; TCP (for truncated answers) takes the same one.
        self.port = udp.server.server_address[1]
        tcp = DNSServer(
            resolver, address=self.host, port=self.port, tcp=True, logger=logger, handler=Handler
        )
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
