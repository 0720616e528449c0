"""`concoord status`: the whole instance as one node sees it, with every member probed."""

import time

from concoord.client.status import query_status, replica_status
from concoord.errors import ConnectionError

RATE_SAMPLE = 0.5   # seconds between the two looks at the leader's command counter


def instance_status(bootstrap, timeout=2.0):
    """The first answering replica's status (a dict, for --json and the dashboard), plus
    ``nodes`` (every member: role, alive, applied slot and lag behind the leader) and
    ``commands_per_second`` measured at the leader."""
    source, replica = replica_status(bootstrap, timeout)
    nodes = [_probe(node, role, timeout) for role in ("replica", "acceptor", "nameserver")
             for node in replica.members(role)]
    leader = next((n for n in nodes if n["address"] == replica.leader), None)
    head = leader["slot_out"] if leader and leader.get("slot_out") else replica.slot_out
    for node in nodes:
        if isinstance(node.get("slot_out"), int):
            node["lag"] = head - node["slot_out"]
    view = replica.to_wire()
    view.update(nodes=nodes, answered_by=source,
                commands_per_second=_rate(replica.leader or source, timeout))
    return view


def _probe(address, role, timeout):
    node = {"address": address, "role": role}
    if role == "nameserver":          # it answers DNS, not the node protocol
        node["alive"] = None
        return node
    try:
        status = query_status(address, timeout)
    except ConnectionError:
        node["alive"] = False
        return node
    node.update(alive=True, state=status.get("state"), slot_out=status.get("slot_out"))
    return node


def _rate(address, timeout):
    try:
        first = query_status(address, timeout).get("commands_applied")
        time.sleep(RATE_SAMPLE)
        second = query_status(address, timeout).get("commands_applied")
    except ConnectionError:
        return None
    if first is None or second is None:
        return None
    return round((second - first) / RATE_SAMPLE, 1)


def format_status(view):
    """A table for people; --json gives the same dict for scripts."""
    lines = [f"leader   {view.get('leader')}  ballot {view.get('ballot')}",
             f"object   {view.get('object')}",
             f"commands/s at the leader: {view.get('commands_per_second')}",
             f"{'NODE':24} {'ROLE':10} {'ALIVE':6} {'STATE':10} {'APPLIED':>8} {'LAG':>6}"]
    for node in view["nodes"]:
        alive = {True: "yes", False: "NO", None: "-"}[node["alive"]]
        lines.append(f"{node['address']:24} {node['role']:10} {alive:6} "
                     f"{node.get('state') or '-':10} {node.get('slot_out') or '-':>8} "
                     f"{node.get('lag', '-'):>6}")
    return "\n".join(lines)
