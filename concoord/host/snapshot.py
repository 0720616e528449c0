"""A replica's whole state at one slot, as plain values (never pickle: snapshots travel between
nodes): what a far-behind replica installs instead of replaying forgotten history, and what a
replica with a data directory keeps on disk so the acceptors can forget old slots.

One list: [slot_out, object state, client table, sessions, expired clients, configurations,
the learner's own replies]; the learner's part and the host's part are each other's business
(snapshots written before the protocol/host split have no own replies: an empty list).
"""

from typing import NamedTuple

from concoord.errors import WireError
from concoord.host.client_table import ClientTable
from concoord.protocol.config import ConfigHistory
from concoord.wire.types import Configuration
from concoord.wire.values import decode_value, encode_value


class Snapshot(NamedTuple):
    slot_out: int
    state: object
    client_table: ClientTable
    sessions: dict
    expired: list
    history: ConfigHistory
    own_replies: list


def encode_snapshot(learner, applier):
    """Bytes for the state after slot_out - 1, or None if the object cannot say."""
    host = applier.to_plain()
    if host is None:
        return None
    state, table = host
    own = learner.to_plain()
    return encode_value([
        own["slot_out"], state, table, own["sessions"], own["expired"],
        [[start, [list(group) for group in config]] for start, config in learner.configs.as_list()],
        own["own_replies"],
    ])


def decode_snapshot(data, window):
    """The Snapshot in ``data`` (WireError if it is malformed)."""
    try:
        fields = decode_value(data)
        if len(fields) == 6:
            fields = list(fields) + [[]]
        slot_out, state, table, sessions, expired, configs, own_replies = fields
        history = ConfigHistory.from_list(
            [(start, Configuration(*(tuple(g) for g in groups))) for start, groups in configs],
            window)
        client_table = ClientTable.from_plain(table)
        own_replies = [(c, n, s, v) for c, n, s, v in own_replies]
    except (ValueError, TypeError, WireError) as exc:
        raise WireError(f"malformed snapshot: {exc}") from None
    return Snapshot(slot_out, state, client_table, dict(sessions), list(expired), history,
                    own_replies)
