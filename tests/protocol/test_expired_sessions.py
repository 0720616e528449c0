"""Clients whose session expired: refused for a day of the replicated clock, then forgotten,
so the replicated set does not grow with every client that ever had a session."""

from concoord.protocol import learner as learner_module
from concoord.protocol.config import ConfigHistory
from concoord.protocol.effects import Effects
from concoord.protocol.learner import EXPIRED_KEPT_FOR, Learner
from concoord.wire.messages import REJECTED
from concoord.wire.types import Batch, Command, Configuration
from concoord.wire.values import encode_call_arguments

DAY = EXPIRED_KEPT_FOR


class Log:
    """A learner fed one decided slot at a time, as its replica would."""

    def __init__(self):
        self.learner = Learner("r0", ConfigHistory(Configuration(("r0",), ("a0",))))
        self.slot = 0

    def decide(self, time, method, client, args):
        self.slot += 1
        command = Command(client, self.slot, method, encode_call_arguments(args, {}))
        effects = Effects()
        self.learner.on_decision(self.slot, Batch(time, (command,)), effects)
        return effects.replies

    def expire(self, time, client):
        self.decide(time, "@session", client, [10])
        self.decide(time, "@expire", "leader", [client])


def test_an_expired_client_is_refused_for_a_day_then_forgotten():
    log = Log()
    log.expire(100.0, "old")
    log.expire(100.0 + DAY / 2, "recent")
    (refused,) = log.decide(100.0 + DAY / 2, "increment", "old", [])
    assert refused.status == REJECTED
    log.expire(100.0 + DAY + 1, "newest")
    assert list(log.learner.expired) == ["recent", "newest"]
    assert log.decide(100.0 + DAY + 2, "increment", "old", []) == []   # the host runs it


def test_at_most_so_many_expired_clients_are_remembered(monkeypatch):
    monkeypatch.setattr(learner_module, "EXPIRED_KEPT_MAX", 3)
    log = Log()
    for n in range(5):
        log.expire(1.0 + n, f"c{n}")
    assert list(log.learner.expired) == ["c2", "c3", "c4"]


def test_a_snapshot_keeps_when_each_session_expired_and_reads_the_older_shape():
    log = Log()
    log.expire(5.0, "a")
    log.expire(7.0, "b")
    plain = log.learner.to_plain()
    again = Learner("r1", ConfigHistory(Configuration(("r0",), ("a0",))))
    again.install(log.slot + 1, plain["sessions"], plain["expired"], [], log.learner.configs)
    assert dict(again.expired) == {"a": 5.0, "b": 7.0}
    older = Learner("r2", ConfigHistory(Configuration(("r0",), ("a0",))))
    older.install(log.slot + 1, {}, ["a", "b"], [], log.learner.configs)
    assert dict(older.expired) == {"a": 0.0, "b": 0.0}
