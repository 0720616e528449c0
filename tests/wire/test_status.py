"""ReplicaView: the typed status a replica sends and everyone who asks reads back."""

import pytest

from concoord.host.hosted_replica import HostedReplica
from concoord.wire.codec import FrameReader, encode_frame
from concoord.wire.messages import StatusReply
from concoord.wire.status import ReplicaView
from concoord.wire.types import Configuration

from tests.sim.model import AppendLog

CONFIG = Configuration(("r1", "r2"), ("a1", "a2", "a3"))


def test_a_replicas_status_reads_back_through_the_wire():
    replica = HostedReplica("r1", CONFIG, AppendLog(), 0.0)
    frame = encode_frame(StatusReply("r1", replica.status()))
    (reply,) = FrameReader().feed(frame)
    view = ReplicaView.from_wire(reply.info)
    assert view == ReplicaView("r1", "follower", None, (0, "", 0), 1, 0, ("r1", "r2"),
                               ("a1", "a2", "a3"), (), CONFIG, "0 entries")
    assert view.members("acceptor") == ("a1", "a2", "a3")


@pytest.mark.parametrize("change, message", [
    ({"role": "acceptor"}, "it is an acceptor, not a replica"),
    ({"slot_out": "7"}, "malformed status: slot_out"),
    ({"slot_out": True}, "malformed status: slot_out"),
    ({"replicas": ["r1", 2]}, "malformed status: replicas"),
    ({"genesis": [["r1"], []]}, "malformed status: genesis"),
    ({"leader": 5}, "malformed status: leader"),
])
def test_a_malformed_status_is_refused_saying_what_is_wrong(change, message):
    info = dict(HostedReplica("r1", CONFIG, AppendLog(), 0.0).status(), **change)
    with pytest.raises(ValueError, match=message):
        ReplicaView.from_wire(info)


def test_what_is_not_a_status_at_all_is_refused():
    for info in (None, [], "replica", {"role": 1}):
        with pytest.raises(ValueError, match="not a replica's status"):
            ReplicaView.from_wire(info)
