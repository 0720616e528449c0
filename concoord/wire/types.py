"""The values the protocol agrees on: ballots, commands, batches and configurations.

They are immutable tuples so that they can be compared, hashed and asserted equal across replicas.
Their annotations are the wire schema (schema.py): the codec checks each field against it.
"""

from typing import NamedTuple

from concoord.wire.schema import Count, Id, Ids, Seconds, Slot, sequence_of, \
    wire_requires_all_fields


@wire_requires_all_fields
class Ballot(NamedTuple):
    """A leader's ballot; ballots compare as (round, leader id, incarnation) tuples.

    The incarnation tells apart two lives of the same node: a replica restarted without its
    disk could otherwise pick a ballot its previous life already used, with other proposals.
    """
    round: Count
    leader: Id
    incarnation: Count = 0


ZERO_BALLOT = Ballot(0, "", 0)


class Command(NamedTuple):
    """One client call: exactly-once is keyed on (client_id, number).

    ``method`` names a public method of the object, or an internal operation starting with '@'
    (only nodes may submit those). ``args`` is the value-codec encoding of (args, kwargs), opaque
    to the protocol. ``thread`` says which thread of the client made the call (numbered by its
    proxy from 1; 0 for the client's own internal calls): the objects' notion of an owner is a
    thread, as in threading (a Lock held by one thread is not held by the client's others).
    """
    client_id: Id
    number: Count
    method: Id
    args: bytes
    thread: Count = 0       # may be left out on the wire: version 1 wrote four fields


class Batch(NamedTuple):
    """What one slot decides: the leader's clock stamp and zero or more commands (zero = no-op)."""
    time: Seconds
    commands: sequence_of(Command)


NOOP = Batch(0.0, ())
COMMAND_OVERHEAD = 64   # encoded bytes of a command besides its arguments, method and id (about)


def command_bytes(command):
    """About how many bytes ``command`` takes on the wire: what bounds batches and replies."""
    return len(command.args) + len(command.method) + len(command.client_id) + COMMAND_OVERHEAD


def batch_bytes(batch):
    return sum(command_bytes(command) for command in batch.commands)


class PValue(NamedTuple):
    """An accepted proposal as an acceptor stores it."""
    ballot: Ballot
    slot: Slot
    batch: Batch


@wire_requires_all_fields
class Configuration(NamedTuple):
    """Who is in the instance: replicas (each with a colocated leader), acceptors, and the
    nameservers that publish this view in DNS (they take no part in consensus)."""
    replicas: Ids
    acceptors: Ids
    nameservers: Ids = ()

    def quorum(self):
        return len(self.acceptors) // 2 + 1
