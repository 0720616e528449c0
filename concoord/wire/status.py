"""What a replica says of the instance (the ``info`` of its StatusReply), as a typed record.

A replica builds it (protocol/replica_node.py, host/hosted_replica.py) and sends it as a plain
dict; whoever asks (``concoord status``, a joining node, the nameserver, addnode, the bench)
reads it back through ReplicaView.from_wire, which checks every field: another node's word is
input like any other, and a malformed one is refused in one place with one clear line.
"""

from dataclasses import asdict, dataclass
from typing import Optional, Tuple

from concoord.wire.types import Configuration

ROLE = "replica"


@dataclass(frozen=True)
class ReplicaView:
    node: str                     # the replica's address
    state: str                    # follower, candidate or active (the leader)
    leader: Optional[str]         # who it believes leads
    ballot: Tuple                 # the ballot it follows, as a list on the wire
    slot_out: int                 # the next slot it will apply
    commands_applied: int         # since it started
    replicas: Tuple[str, ...]     # the latest configuration it knows ...
    acceptors: Tuple[str, ...]
    nameservers: Tuple[str, ...]
    genesis: Configuration        # ... and the initial one (a joining replica replays from it)
    object: str = ""              # str() of the replicated object, shortened

    def members(self, role):
        """The addresses of ``role`` (replica, acceptor or nameserver) in the latest view."""
        return {"replica": self.replicas, "acceptor": self.acceptors,
                "nameserver": self.nameservers}[role]

    def to_wire(self):
        info = asdict(self)
        info.update(role=ROLE, ballot=list(self.ballot), replicas=list(self.replicas),
                    acceptors=list(self.acceptors), nameservers=list(self.nameservers),
                    genesis=[list(group) for group in self.genesis])
        return info

    @classmethod
    def from_wire(cls, info):
        """The view in a StatusReply's info; ValueError saying what is wrong if it is not a
        well-formed replica status."""
        if not isinstance(info, dict) or info.get("role") != ROLE:
            role = info.get("role") if isinstance(info, dict) else None
            raise ValueError(f"it is an {role}, not a replica" if isinstance(role, str)
                             else "not a replica's status")
        genesis = info.get("genesis")
        if not (isinstance(genesis, list) and len(genesis) == 3):
            raise ValueError("malformed status: genesis")
        leader = info.get("leader")
        return cls(
            node=_field(info, "node", str), state=_field(info, "state", str),
            leader=None if leader is None else _field(info, "leader", str),
            ballot=tuple(_field(info, "ballot", list)),
            slot_out=_field(info, "slot_out", int),
            commands_applied=_field(info, "commands_applied", int),
            replicas=_addresses(info.get("replicas"), "replicas"),
            acceptors=_addresses(info.get("acceptors"), "acceptors"),
            nameservers=_addresses(info.get("nameservers", []), "nameservers"),
            genesis=Configuration(*(_addresses(group, "genesis") for group in genesis)),
            object=info.get("object", "") if isinstance(info.get("object", ""), str) else "")


def _field(info, name, kind):
    value = info.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"malformed status: {name}")
    return value


def _addresses(value, name):
    if not (isinstance(value, list) and all(isinstance(a, str) for a in value)):
        raise ValueError(f"malformed status: {name}")
    return tuple(value)
