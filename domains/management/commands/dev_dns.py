from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from domains import devdns


class Command(BaseCommand):
    help = (
        "The local DNS server of `make run`: `serve` it, `add` or `remove` a TXT record, `list` "
        "what it serves. Development only."
    )
    # A DNS server and its records file need neither the database nor the URLconf.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--file", default=None, help="records file (default DEV_DNS_FILE)")
        actions = parser.add_subparsers(dest="action", required=True)
        serve = actions.add_parser("serve", help="serve the records file until interrupted")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=5353)
        add = actions.add_parser("add", help="publish a TXT record at a domain")
        add.add_argument("domain")
        add.add_argument("txt")
        remove = actions.add_parser("remove", help="remove a TXT record, or the whole domain")
        remove.add_argument("domain")
        remove.add_argument("txt", nargs="?")
        actions.add_parser("list", help="print the records served")

    def handle(self, *args, action, file, **options):
        path = file or getattr(settings, "DEV_DNS_FILE", None)
        if not path:
            raise CommandError("No records file: pass --file or set DEV_DNS_FILE.")
        if action == "serve":
            server = devdns.DevDNSServer(path, host=options["host"], port=options["port"])
            self.stdout.write(f"DNS on {options['host']}:{options['port']} (UDP and TCP), {path}")
            server.serve_forever()
        elif action == "add":
            devdns.add_txt(path, options["domain"], options["txt"])
            self.stdout.write(f'{options["domain"]} TXT "{options["txt"]}" published')
        elif action == "remove":
            devdns.remove_txt(path, options["domain"], options["txt"])
            self.stdout.write(f"{options['domain']}: removed")
        else:
            for domain, records in sorted(devdns.read_records(path)["txt"].items()):
                for record in records:
                    self.stdout.write(f"{domain} TXT {record!r}")
