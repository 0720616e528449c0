"""Which configuration governs which slot.

A reconfiguration decided in slot s takes effect at slot s + WINDOW. Because a leader never
proposes beyond its own replica's slot_out + WINDOW, the configuration of every slot it may
propose in is already known to it when it proposes (see Leader).
"""

import bisect

from concoord.wire.types import Configuration

WINDOW = 10


class ConfigHistory:
    def __init__(self, initial, window=WINDOW):
        assert isinstance(initial, Configuration) and initial.replicas
        self.window = window
        self._starts = [1]           # first slot of each configuration, ascending
        self._configs = [initial]
        self._members = None         # (replicas, acceptors) of every configuration, cached

    def config_for(self, slot):
        index = bisect.bisect_right(self._starts, slot) - 1
        return self._configs[max(index, 0)]

    def governing_from(self, slot):
        """Every configuration that governs some slot at or after ``slot``, oldest first."""
        index = max(bisect.bisect_right(self._starts, slot) - 1, 0)
        return self._configs[index:]

    @property
    def latest(self):
        return self._configs[-1]

    def set_genesis(self, config):
        """Fix the initial configuration; only while no slot can have been decided (the
        bootstrap replica waiting for its first acceptor)."""
        self._members = None
        assert len(self._configs) == 1 and not self._configs[0].acceptors
        self._configs[0] = config

    def schedule(self, decided_slot, config):
        """Record a configuration decided in ``decided_slot``; it governs from slot + window."""
        self._members = None
        start = decided_slot + self.window
        assert start >= self._starts[-1], "reconfigurations are applied in slot order"
        if config == self._configs[-1]:
            return
        if start == self._starts[-1]:      # several changes in one slot: the last one wins
            self._configs[-1] = config
        else:
            self._starts.append(start)
            self._configs.append(config)

    def forget_before(self, slot):
        """Drop configurations that govern no slot at or after ``slot``."""
        self._members = None
        while len(self._starts) > 1 and self._starts[1] <= slot:
            del self._starts[0]
            del self._configs[0]

    def replace_with(self, other):
        """Adopt another history (from a snapshot) in place: the leader shares this object."""
        self._members = None
        self._starts, self._configs = list(other._starts), list(other._configs)

    def members(self):
        """(replicas, acceptors) of every configuration still held: who may send what."""
        if self._members is None:
            self._members = (frozenset(r for c in self._configs for r in c.replicas),
                             frozenset(a for c in self._configs for a in c.acceptors))
        return self._members

    def as_list(self):
        return list(zip(self._starts, self._configs))

    @classmethod
    def from_list(cls, items, window=WINDOW):
        history = cls(items[0][1], window)
        history._starts = [start for start, _ in items]
        history._configs = [config for _, config in items]
        history._members = None
        return history


ROLES = {"replica": "replicas", "acceptor": "acceptors", "nameserver": "nameservers"}


def with_node(config, role, node_id):
    """The configuration with ``node_id`` added in ``role`` (a key of ROLES)."""
    group = getattr(config, ROLES[role])
    if node_id in group:
        return config
    return config._replace(**{ROLES[role]: tuple(sorted(group + (node_id,)))})


def without_node(config, node_id):
    return Configuration(*(tuple(n for n in group if n != node_id) for group in config))
