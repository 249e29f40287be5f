"""scim2-tester, the python-scim2 project's compliance suite, against Quorum's live server with a
real provisioning token: every check it runs passes. The full result is kept in
test-artifacts/scim2-tester.json."""

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests.fixtures.scim import scim_client

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "scim2-tester.json"
PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


class AddressesAt(Sequence):
    """Example userNames for the suite, each new: addresses at the tenant's verified domain.

    scim2-tester draws an attribute's value from its model's examples when there are some, and
    otherwise makes a random string; Quorum provisions only addresses at a verified domain."""

    def __init__(self, domain):
        self.domain = domain

    def __len__(self):
        return 2**31

    def __getitem__(self, index):
        return f"person-{uuid.uuid4().hex[:12]}@{self.domain}"


def test_scim2_tester_passes_every_check_it_runs(live_server, contoso):
    rob, _people, _subscription = contoso
    _token, scim = scim_client(rob)
    http = httpx2.Client(
        base_url=f"{live_server.url}/scim/v2", headers={"Authorization": f"Bearer {scim.secret}"}
    )
    client = SyncSCIMClient(http)
    client.discover()
    client.get_resource_model("User").model_fields["user_name"].examples = AddressesAt(
        "contoso.com"
    )

    results = check_server(client)

    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(
        json.dumps(
            {
                "counts": dict(Counter(result.status.name for result in results)),
                "results": [
                    {
                        "status": result.status.name,
                        "title": result.title,
                        "tags": sorted(result.tags),
                        "reason": result.reason,
                    }
                    for result in results
                ],
            },
            indent=2,
        )
    )
    failed = [
        (result.title, result.status.name, result.reason)
        for result in results
        if result.status not in PASSING
    ]
    assert len(results) > 100
    assert failed == []
