"""Route53 mode without a network: the record sets it would push, the changes between two
views, and the one-line error when boto3 is missing."""

import subprocess
import sys

import pytest

from concoord.dns.route53 import (Route53Publisher, route53_changes, route53_client,
                                  route53_record_sets)
from concoord.dns.view import View
from concoord.errors import ConcoordError
from tests.dns.cluster import REPO

LEADER, FOLLOWER = "10.0.0.1:14000", "10.0.0.2:14001"
VIEW = View(replicas=(LEADER, FOLLOWER), acceptors=("10.0.0.9:15000",),
            nameservers=("10.0.0.5:53",), leader=LEADER, serial=7)


def by_key(sets):
    return {(s["Name"], s["Type"]): [r["Value"] for r in s["ResourceRecords"]] for s in sets}


def test_record_sets_are_the_nameservers_records_without_apex_soa_and_ns():
    sets = route53_record_sets(VIEW, "counterdomain.example.com", ttl=30)
    assert all(s["TTL"] == 30 for s in sets)
    apex = "counterdomain.example.com."
    assert by_key(sets) == {
        (apex, "A"): ["10.0.0.1", "10.0.0.2"],
        (f"_concoord._tcp.{apex}", "SRV"): [f"0 1 14000 r-10-0-0-1.{apex}",
                                            f"1 1 14001 r-10-0-0-2.{apex}"],
        (f"r-10-0-0-1.{apex}", "A"): ["10.0.0.1"],
        (f"r-10-0-0-2.{apex}", "A"): ["10.0.0.2"],
        (apex, "TXT"): ['"replica 10.0.0.1:14000"', '"replica 10.0.0.2:14001"',
                        '"acceptor 10.0.0.9:15000"', '"nameserver 10.0.0.5:53"'],
        (f"ns-10-0-0-5.{apex}", "A"): ["10.0.0.5"],
    }


def test_changes_upsert_what_differs_and_delete_exactly_what_is_gone():
    before = route53_record_sets(VIEW, "counterdomain", ttl=30)
    assert route53_changes(before, before) == []
    assert {c["Action"] for c in route53_changes(before)} == {"UPSERT"}
    after_view = View(replicas=("10.0.0.3:14000",), acceptors=VIEW.acceptors,
                      leader="10.0.0.3:14000", serial=8)
    after = route53_record_sets(after_view, "counterdomain", ttl=30)
    changes = route53_changes(after, before)
    actions = {(c["ResourceRecordSet"]["Name"], c["ResourceRecordSet"]["Type"]): c["Action"]
               for c in changes}
    assert actions[("counterdomain.", "A")] == "UPSERT"
    assert actions[("r-10-0-0-3.counterdomain.", "A")] == "UPSERT"
    assert actions[("r-10-0-0-1.counterdomain.", "A")] == "DELETE"
    assert actions[("ns-10-0-0-5.counterdomain.", "A")] == "DELETE"
    deleted = [c["ResourceRecordSet"] for c in changes if c["Action"] == "DELETE"]
    assert all(s in before for s in deleted)     # Route53 deletes only exact copies


def test_publisher_pushes_changes_only():
    class FakeRoute53:
        def __init__(self):
            self.calls = []

        def change_resource_record_sets(self, **kwargs):
            self.calls.append(kwargs)

    client = FakeRoute53()
    publisher = Route53Publisher("Z123", "counterdomain", 30, client=client)
    publisher.publish(VIEW)
    publisher.publish(VIEW)
    assert len(client.calls) == 1 and client.calls[0]["HostedZoneId"] == "Z123"
    assert publisher.pushed_serial == 7


def test_missing_boto3_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)       # makes `import boto3` fail
    with pytest.raises(ConcoordError, match=r"pip install concoord\[route53\]"):
        route53_client()


def test_cli_route53_without_boto3_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['boto3'] = None\n"
            "from concoord.cli import main\n"
            "sys.exit(main(['nameserver', '-n', 'counterdomain', '-b', '127.0.0.1:1',"
            " '--route53', '--zone-id', 'Z1']))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "concoord nameserver: error: --route53 needs boto3, which is not installed: "
        "pip install concoord[route53]"]
