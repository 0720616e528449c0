"""Route53 mode: publish the view into an Amazon Route53 hosted zone instead of answering DNS.

The records are the nameserver's own (records.view_records) minus the apex SOA and NS, which
Route53 owns. boto3 is an optional extra, imported only here and only when this mode runs;
credentials come from boto3's standard chain (AWS_* environment variables, ~/.aws/config,
instance roles) and are never read or stored by ConCoord itself.
"""

import logging

from concoord.dns.records import view_records
from concoord.errors import ConcoordError

log = logging.getLogger("concoord.dns.route53")

ROUTE53_OWNED = ("SOA", "NS")


def route53_record_sets(view, domain, ttl):
    """The ResourceRecordSets (boto3 dicts) that publish ``view`` under ``domain``."""
    origin = domain.rstrip(".") + "."
    sets = []
    for (owner, rdtype), values in view_records(view, domain, ttl=ttl).items():
        if owner == origin and rdtype in ROUTE53_OWNED:
            continue
        sets.append({"Name": owner, "Type": rdtype, "TTL": ttl,
                     "ResourceRecords": [{"Value": value} for value in values]})
    return sets


def route53_changes(desired, previous=()):
    """The Changes for change_resource_record_sets that turn ``previous`` (what we pushed last)
    into ``desired``: UPSERT what is new or different, DELETE what is gone. Route53 deletes
    only an exact copy of the existing set, which is why ``previous`` is kept."""
    def key(record_set):
        return record_set["Name"], record_set["Type"]
    before = {key(s): s for s in previous}
    after = {key(s) for s in desired}
    changes = [{"Action": "UPSERT", "ResourceRecordSet": s} for s in desired
               if before.get(key(s)) != s]
    changes += [{"Action": "DELETE", "ResourceRecordSet": s} for k, s in before.items()
                if k not in after]
    return changes


def route53_client():
    """A boto3 Route53 client; ConcoordError naming the fix when boto3 is not installed."""
    try:
        import boto3  # noqa: PLC0415 - optional dependency, needed only in this mode
    except ImportError:
        raise ConcoordError("--route53 needs boto3, which is not installed: "
                            "pip install concoord[route53]") from None
    return boto3.client("route53")


class Route53Publisher:
    """Pushes each new view to hosted zone ``zone_id``; remembers what it pushed."""

    def __init__(self, zone_id, domain, ttl, client=None):
        self.zone_id = zone_id
        self.domain = domain
        self.ttl = ttl
        self.client = client if client is not None else route53_client()
        self.pushed = []
        self.pushed_serial = None

    def publish(self, view):
        """Push ``view`` if it differs from the last push; errors propagate (boto3's)."""
        desired = route53_record_sets(view, self.domain, self.ttl)
        changes = route53_changes(desired, self.pushed)
        if changes:
            self.client.change_resource_record_sets(
                HostedZoneId=self.zone_id,
                ChangeBatch={"Comment": f"concoord view {view.serial}", "Changes": changes})
            log.info("pushed view %d to Route53 zone %s (%d changes)", view.serial,
                     self.zone_id, len(changes))
        self.pushed, self.pushed_serial = desired, view.serial
