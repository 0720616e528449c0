"""The view follower against scripted status answers (no sockets): which configuration it
believes, the leader first, dead replicas noticed, serials that only go up."""

import itertools

from concoord.dns.view import MISSES_UNREACHABLE, View, ViewFollower
from concoord.errors import ConnectionError
from concoord.wire.status import ReplicaView
from concoord.wire.types import Configuration

R1, R2, R3 = "10.0.0.1:14000", "10.0.0.2:14000", "10.0.0.3:14000"


def status(node, replicas, leader, slot_out=10, state="follower", acceptors=("10.0.0.9:1",),
           nameservers=()):
    return ReplicaView(node, state, leader, (1, node, 0), slot_out, 0, tuple(replicas),
                       tuple(acceptors), tuple(nameservers),
                       Configuration(tuple(replicas), tuple(acceptors), ())).to_wire()


class Script:
    """query(address, timeout): the status currently scripted for ``address`` (or down)."""

    def __init__(self):
        self.answers = {}
        self.asked = []

    def __call__(self, address, timeout):
        self.asked.append(address)
        answer = self.answers.get(address)
        if answer is None:
            raise ConnectionError(f"no status from {address}")
        return answer


def follower(script, bootstrap=(R1,), clock=None):
    ticks = itertools.count(1000)
    return ViewFollower(list(bootstrap), query=script, clock=clock or (lambda: next(ticks)))


def three_up(script, leader=R2, slot_out=10):
    for node in (R1, R2, R3):
        script.answers[node] = status(node, [R1, R2, R3], leader, slot_out,
                                      "active" if node == leader else "follower")


def test_first_poll_goes_through_the_bootstrap_then_the_configuration():
    script = Script()
    three_up(script)
    f = follower(script)
    view = f.poll_once()
    assert script.asked == [R1]
    assert view.replicas == (R2, R1, R3) and view.leader == R2      # leader first
    assert view.acceptors == ("10.0.0.9:1",) and view.serial == 1000
    script.asked.clear()
    assert f.poll_once() is view                                      # no change, same view
    assert sorted(script.asked) == [R1, R2, R3]


def test_a_replica_is_unreachable_after_consecutive_misses_and_back_when_it_answers():
    script = Script()
    three_up(script)
    f = follower(script)
    f.poll_once()
    f.poll_once()
    saved = script.answers.pop(R3)
    for _ in range(MISSES_UNREACHABLE - 1):
        assert f.poll_once().unreachable == frozenset()               # one miss is forgiven
    view = f.poll_once()
    assert view.unreachable == {R3} and view.live_replicas() == (R2, R1)
    script.answers[R3] = saved
    assert f.poll_once().unreachable == frozenset()


def test_the_most_advanced_replica_wins_and_an_active_one_is_the_leader():
    script = Script()
    three_up(script, leader=R1)
    f = follower(script)
    f.poll_once()
    script.answers[R1] = status(R1, [R1, R2], R1, slot_out=5)       # lagging, old config
    script.answers[R2] = status(R2, [R2, R3], R1, slot_out=30)       # newest, stale leader word
    script.answers[R3] = status(R3, [R2, R3], R3, slot_out=29, state="active")
    view = f.poll_once()
    assert view.replicas == (R3, R2) and view.leader == R3


def test_serials_increase_on_every_change_even_when_the_clock_does_not():
    script = Script()
    three_up(script)
    f = follower(script, clock=lambda: 500)
    serials = [f.poll_once().serial]
    for leader in (R1, R3, R2):
        three_up(script, leader=leader)
        serials.append(f.poll_once().serial)
    assert serials == [500, 501, 502, 503]


def test_keeps_the_last_view_when_nobody_answers_and_retries_the_bootstrap():
    script = Script()
    three_up(script)
    f = follower(script, bootstrap=[R1, "10.0.0.7:1"])
    first = f.poll_once()
    script.answers.clear()
    for _ in range(MISSES_UNREACHABLE):
        view = f.poll_once()
    assert view.replicas == first.replicas and view.unreachable == {R1, R2, R3}
    assert view.live_replicas() == first.replicas        # all down: hand out all of them
    script.asked.clear()
    f.poll_once()
    assert "10.0.0.7:1" in script.asked


def test_wait_for_view_and_the_background_thread():
    script = Script()
    three_up(script)
    changes = []
    f = ViewFollower([R1], interval=0.01, query=script, on_change=changes.append).start()
    try:
        view = f.wait_for_view(5.0)
        assert isinstance(view, View) and view.leader == R2
        three_up(script, leader=R3)
        assert f.wait_for_view(5.0, lambda v: v.leader == R3) is not None
        assert [v.leader for v in changes] == [R2, R3]
    finally:
        f.stop()
    assert ViewFollower([R1], query=Script()).wait_for_view(0.05) is None


def test_a_replica_still_catching_up_cannot_roll_the_view_back():
    script = Script()
    script.answers[R2] = status(R2, [R3], R2, slot_out=40, state="active")   # R1, R2 removed
    f = follower(script, bootstrap=[R2])
    assert f.poll_once().replicas == (R3,)
    del script.answers[R2]                      # the old leader goes; R3 is alone and behind
    script.answers[R3] = status(R3, [R1], None, slot_out=3)   # its genesis configuration
    for _ in range(3):
        assert f.poll_once().replicas == (R3,)
    script.answers[R3] = status(R3, [R3], R3, slot_out=41, state="active")  # caught up
    view = f.poll_once()
    assert view.replicas == (R3,) and view.leader == R3


def test_an_acceptor_as_bootstrap_gives_no_view_and_is_asked_again():
    script = Script()
    script.answers["10.0.0.9:1"] = {"node": "10.0.0.9:1", "role": "acceptor", "promised": []}
    f = follower(script, bootstrap=["10.0.0.9:1"])
    assert f.poll_once() is None and f.poll_once() is None
    assert script.asked == ["10.0.0.9:1", "10.0.0.9:1"]
