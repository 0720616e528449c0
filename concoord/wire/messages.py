"""Every message ConCoord nodes and clients exchange, with the field types the codec validates.

A message is an immutable record; ``src`` is the sender's id (``host:port`` for nodes, a random id
for clients). Its annotations are the wire schema (schema.py). With msgspec installed each message
class is a frozen ``msgspec.Struct`` that travels as a msgpack array ``[tag, field, ...]`` (tag =
VERSION * 100 + TYPE), checked in C as it is decoded; without it (the zipapp bundles) a frozen
dataclass with the same fields, and the pure-Python decoder of fallback.py reads the same arrays.
"""

import dataclasses
from typing import Literal, Tuple

from concoord.wire.schema import Count, Id, OptionalId, Plain, Seconds, Slot, msgspec, \
    sequence_of
from concoord.wire.types import Ballot, Batch, Command, Configuration, PValue

VERSION = 3     # 3: msgpack arrays [tag, field, ...] (msgspec); 2: maps {"v", "t", field: ...}

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
Status = Literal[STATUSES]

MESSAGE_TYPES = {}


def message(cls):
    """Make the class a message type and register it under its TYPE code."""
    annotations = cls.__dict__.get("__annotations__", {})
    fields = [(name, kind, cls.__dict__[name]) if name in cls.__dict__ else (name, kind)
              for name, kind in annotations.items()]
    namespace = {"TYPE": cls.TYPE, "TAG": VERSION * 100 + cls.TYPE, "__doc__": cls.__doc__,
                 "FIELD_NAMES": tuple(annotations), "FIELD_TYPES": dict(annotations)}
    if msgspec is not None:
        # gc=False: a message holds strings, numbers, tuples of them and (StatusReply) a plain
        # dict: nothing can refer back to it, so it is never part of a cycle.
        cls = msgspec.defstruct(cls.__name__, fields, module=cls.__module__,
                                namespace=namespace, tag=namespace["TAG"], array_like=True,
                                frozen=True, forbid_unknown_fields=True, gc=False)
    else:
        cls = dataclasses.make_dataclass(cls.__name__, fields, namespace=namespace,
                                         frozen=True, slots=True)
        cls.__module__ = __name__
    assert cls.TYPE not in MESSAGE_TYPES, cls.TYPE
    MESSAGE_TYPES[cls.TYPE] = cls
    return cls


@message
class ClientRequest:
    TYPE = 1
    src: Id
    command: Command


@message
class ClientReply:
    TYPE = 2
    src: Id
    client_id: Id
    number: Count
    status: Status
    value: bytes
    leader: OptionalId


@message
class Prepare:
    """Phase 1a: promise not to accept below ``ballot``; report accepted pvalues >= from_slot.
    ``resume_at``: the rest of a report that did not fit in one Promise, from this slot on."""
    TYPE = 3
    src: Id
    ballot: Ballot
    from_slot: Count
    resume_at: Count = 0


@message
class Promise:
    """Phase 1b: ``ballot`` is the acceptor's promised ballot (higher than asked = preempted).
    ``gc_below``: slots the acceptor forgot; a leader whose replica is behind it must catch up
    from a peer's snapshot before it may lead. A report too large for one frame comes in
    parts: this one holds the pvalues from ``resume_at`` (as asked; 0: from ``from_slot``) up
    to ``more_from``, not 0 when the report goes on from there (ask again with it)."""
    TYPE = 4
    src: Id
    ballot: Ballot
    from_slot: Count
    accepted: sequence_of(PValue)
    gc_below: Count = 1
    resume_at: Count = 0
    more_from: Count = 0


@message
class Accept:
    """Phase 2a for one slot; ``gc_below`` lets the acceptor forget slots every replica applied."""
    TYPE = 5
    src: Id
    ballot: Ballot
    slot: Count
    batch: Batch
    gc_below: Count


@message
class Accepted:
    """Phase 2b: ``ballot`` is the acceptor's promised ballot (higher than sent = preempted)."""
    TYPE = 6
    src: Id
    ballot: Ballot
    slot: Count


@message
class Decision:
    TYPE = 7
    src: Id
    slot: Count
    batch: Batch


@message
class Heartbeat:
    """From the active leader: it is alive, its ballot, and how far its replica has applied.

    To acceptors it also asks for a read lease: an acceptor that answers promises no other
    ballot for ``lease`` seconds (of its own clock) from when it received this.
    """
    TYPE = 8
    src: Id
    ballot: Ballot
    slot_out: Count
    config: Configuration
    sent_at: Seconds = 0.0     # the leader's clock, echoed back so it can date the lease
    lease: Seconds = 0.0


@message
class HeartbeatReply:
    """From an acceptor to a leader's heartbeat: the acceptor's promised ballot, and the
    heartbeat's ``sent_at`` when it granted the lease asked for (else a negative number)."""
    TYPE = 9
    src: Id
    ballot: Ballot
    sent_at: Seconds = -1.0


@message
class CatchupRequest:
    """A replica missing decisions asks a peer for them, from ``from_slot`` on."""
    TYPE = 10
    src: Id
    from_slot: Count


@message
class CatchupReply:
    """Decisions from the requested slot on; when the peer already forgot them, a snapshot of
    its replica state as of ``snapshot_slot`` (see concoord.host.snapshot) comes first."""
    TYPE = 11
    src: Id
    decisions: sequence_of(Tuple[Slot, Batch])
    snapshot: bytes = b""
    snapshot_slot: Count = 0


@message
class Applied:
    """A follower tells the leader how far it has applied, and through which slot its state is
    on disk (the leader lets acceptors forget what every replica has made durable)."""
    TYPE = 14
    src: Id
    slot_out: Count
    durable_slot: Count


@message
class StatusRequest:
    TYPE = 12
    src: Id


@message
class StatusReply:
    """A node's view of the instance, for ``concoord status`` and tests (plain values only)."""
    TYPE = 13
    src: Id
    info: Plain
