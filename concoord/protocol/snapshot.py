"""A replica's whole state at one slot, as plain values (never pickle: snapshots travel between
nodes): what a far-behind replica installs instead of replaying forgotten history, and what a
replica with a data directory keeps on disk so the acceptors can forget old slots."""

from concoord.errors import WireError
from concoord.protocol.client_table import ClientTable
from concoord.protocol.config import ConfigHistory
from concoord.wire.types import Configuration
from concoord.wire.values import decode_value, encode_value


def take_snapshot(replica):
    """Bytes for the replica's state after slot_out - 1, or None if the object cannot say."""
    state = replica.state_machine.snapshot()
    if state is None:
        return None
    return encode_value([
        replica.slot_out, state, replica.client_table.to_plain(),
        replica.sessions, sorted(replica.expired),
        [[start, [list(group) for group in config]] for start, config in replica.configs.as_list()],
    ])


def install_snapshot(replica, data):
    """Replace the replica's state by a snapshot's; returns its slot_out (WireError if bad)."""
    try:
        slot_out, state, table, sessions, expired, configs = decode_value(data)
        history = ConfigHistory.from_list(
            [(start, Configuration(*(tuple(g) for g in groups))) for start, groups in configs],
            replica.configs.window)
        client_table = ClientTable.from_plain(table)
    except (ValueError, TypeError, WireError) as exc:
        raise WireError(f"malformed snapshot: {exc}") from None
    assert slot_out > replica.slot_out, "a snapshot never takes a replica backwards"
    replica.state_machine.restore(state)
    replica.client_table = client_table
    replica.sessions = dict(sessions)
    replica.expired = set(expired)
    replica.configs.replace_with(history)
    replica.slot_out = slot_out
    replica.highest_decided = max(replica.highest_decided, slot_out - 1)
    replica.forget_before(slot_out)
    return slot_out
