"""Every message ConCoord nodes and clients exchange, with the field types the codec validates.

A message is a frozen dataclass; ``src`` is the sender's id (``host:port`` for nodes, a random id
for clients). The codec (codec.py) turns them into msgpack maps and back, checking each field
against the validators named here.
"""

from dataclasses import dataclass, fields
from typing import Optional, Tuple

from concoord.wire.types import Ballot, Batch, Command, Configuration, PValue

# Client reply statuses.
OK = 0
EXCEPTION = 1      # value is an encoded ExceptionValue raised by the object
REDIRECT = 2       # not the leader: ``leader`` is the hint (or None when unknown)
REJECTED = 3       # refused: value is an encoded ExceptionValue saying why
BLOCKED = 4        # parked by the object: keep waiting; value is the park timeout (or None)
# Refusals that do not mean "it never ran": the client's session expired (the instance forgot
# which of its calls ran) or the command number is older than the ones it remembers. A caller
# (and the linearizability checker) must count such a call as maybe applied.
SESSION_EXPIRED = "session expired: this call may or may not have run"
STALE_NUMBER = "stale command number: this call may or may not have run"
MAYBE_RAN = (SESSION_EXPIRED, STALE_NUMBER)
NOTIFY = 5         # a watched method's result changed: value is encoded
                   # [slot, index in the slot's batch, compacted, status, result bytes]
STATUSES = (OK, EXCEPTION, REDIRECT, REJECTED, BLOCKED, NOTIFY)

MESSAGE_TYPES = {}


def message(cls):
    """Register a message class under its TYPE code."""
    cls = dataclass(frozen=True, slots=True)(cls)
    assert cls.TYPE not in MESSAGE_TYPES, cls.TYPE
    MESSAGE_TYPES[cls.TYPE] = cls
    cls.FIELD_NAMES = tuple(f.name for f in fields(cls))
    return cls


@message
class ClientRequest:
    TYPE = 1
    src: str
    command: Command


@message
class ClientReply:
    TYPE = 2
    src: str
    client_id: str
    number: int
    status: int
    value: bytes
    leader: Optional[str]


@message
class Prepare:
    """Phase 1a: promise not to accept below ``ballot``; report accepted pvalues >= from_slot."""
    TYPE = 3
    src: str
    ballot: Ballot
    from_slot: int


@message
class Promise:
    """Phase 1b: ``ballot`` is the acceptor's promised ballot (higher than asked = preempted).
    ``gc_below``: slots the acceptor forgot; a leader whose replica is behind it must catch up
    from a peer's snapshot before it may lead."""
    TYPE = 4
    src: str
    ballot: Ballot
    from_slot: int
    accepted: Tuple[PValue, ...]
    gc_below: int = 1


@message
class Accept:
    """Phase 2a for one slot; ``gc_below`` lets the acceptor forget slots every replica applied."""
    TYPE = 5
    src: str
    ballot: Ballot
    slot: int
    batch: Batch
    gc_below: int


@message
class Accepted:
    """Phase 2b: ``ballot`` is the acceptor's promised ballot (higher than sent = preempted)."""
    TYPE = 6
    src: str
    ballot: Ballot
    slot: int


@message
class Decision:
    TYPE = 7
    src: str
    slot: int
    batch: Batch


@message
class Heartbeat:
    """From the active leader: it is alive, its ballot, and how far its replica has applied.

    To acceptors it also asks for a read lease: an acceptor that answers promises no other
    ballot for ``lease`` seconds (of its own clock) from when it received this.
    """
    TYPE = 8
    src: str
    ballot: Ballot
    slot_out: int
    config: Configuration
    sent_at: float = 0.0     # the leader's clock, echoed back so it can date the lease
    lease: float = 0.0


@message
class HeartbeatReply:
    """From an acceptor to a leader's heartbeat: the acceptor's promised ballot, and the
    heartbeat's ``sent_at`` when it granted the lease asked for (else a negative number)."""
    TYPE = 9
    src: str
    ballot: Ballot
    sent_at: float = -1.0


@message
class CatchupRequest:
    """A replica missing decisions asks a peer for them, from ``from_slot`` on."""
    TYPE = 10
    src: str
    from_slot: int


@message
class CatchupReply:
    """Decisions from the requested slot on; when the peer already forgot them, a snapshot of
    its replica state as of ``snapshot_slot`` (see concoord.host.snapshot) comes first."""
    TYPE = 11
    src: str
    decisions: Tuple[Tuple[int, Batch], ...]
    snapshot: bytes = b""
    snapshot_slot: int = 0


@message
class Applied:
    """A follower tells the leader how far it has applied, and through which slot its state is
    on disk (the leader lets acceptors forget what every replica has made durable)."""
    TYPE = 14
    src: str
    slot_out: int
    durable_slot: int


@message
class StatusRequest:
    TYPE = 12
    src: str


@message
class StatusReply:
    """A node's view of the instance, for ``concoord status`` and tests (plain values only)."""
    TYPE = 13
    src: str
    info: dict
