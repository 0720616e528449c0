"""Watches at the leader (host/watches.py), on real HostedReplicas running the Counter."""

from concoord.objects.counter import Counter
from concoord.host.object_host import ObjectHost
from concoord.wire.messages import NOTIFY, REDIRECT, REJECTED
from concoord.wire.values import decode_value

from tests.protocol.net import Net
from tests.protocol.test_safety_regressions import elect_r0


def counter_net():
    net = Net(state_machines={r: ObjectHost(Counter) for r in ("r0", "r1", "r2")})
    elect_r0(net)
    return net


def notifications(net, key):
    return [decode_value(r.value) for r in net.replies
            if (r.client_id, r.number) == key and r.status == NOTIFY]


def test_a_watch_gets_the_current_result_then_every_change_in_log_order():
    net = counter_net()
    watch = net.request("r0", "@watch", "w", ["getvalue", [], {}, [0, 0]])
    for _ in range(3):
        net.request("r0", "increment", "c", [])
    values = [(slot, index, compacted, decode_value(value))
              for slot, index, compacted, _, value in notifications(net, watch)]
    assert [v[3] for v in values] == [0, 1, 2, 3]
    assert [v[:2] for v in values] == sorted(v[:2] for v in values)
    assert not any(v[2] for v in values)


def test_a_watcher_resuming_behind_the_log_is_told_changes_were_compacted():
    net = counter_net()
    for _ in range(3):
        net.request("r0", "increment", "c", [])
    last_applied = net.replica("r0").slot_out - 1
    behind = net.request("r0", "@watch", "w1", ["getvalue", [], {}, [last_applied - 2, 0]])
    current = net.request("r0", "@watch", "w2", ["getvalue", [], {}, [last_applied, 0]])
    (_, _, compacted, _, value), = notifications(net, behind)
    assert compacted and decode_value(value) == 3
    (_, _, compacted, _, _), = notifications(net, current)
    assert not compacted


def test_only_readonly_methods_can_be_watched_and_a_leader_stepping_down_redirects():
    net = counter_net()
    refused = net.request("r0", "@watch", "w", ["increment", [], {}, [0, 0]])
    assert net.reply_to(refused).status == REJECTED
    watch = net.request("r0", "@watch", "w", ["getvalue", [], {}, [0, 0]])
    net.kill("r0")
    net.nodes["r0"].leader.preempted(net.nodes["r0"].leader.ballot._replace(round=99),
                                     net.now, None)
    effects = net.nodes["r0"].tick(net.now + 0.01)
    assert [r.status for r in effects.replies if (r.client_id, r.number) == watch] == [REDIRECT]


def test_a_watch_ends_with_its_clients_session():
    net = counter_net()
    net.request("r0", "@session", "w", [1.0])
    watch = net.request("r0", "@watch", "w", ["getvalue", [], {}, [0, 0]])
    net.run(2.0)                      # no keepalive: the leader expires the session
    assert net.reply_to(watch).status == REJECTED
    net.request("r0", "increment", "c", [])
    assert len(notifications(net, watch)) == 1, "no change after the session expired"


def test_a_leader_that_jumps_to_a_snapshot_flags_its_watches():
    """Bug (found by the simulator, seed 159): a leader that caught up by installing a snapshot
    applied commands its watchers never heard of; their next change skipped values unflagged."""
    from concoord.wire.messages import CatchupReply, Decision
    from concoord.wire.types import Batch, Command
    from concoord.wire.values import encode_call_arguments

    net = counter_net()
    watch = net.request("r0", "@watch", "w", ["getvalue", [], {}, [0, 0]])
    r0, r1 = net.nodes["r0"], net.nodes["r1"]
    for number in range(1, 4):          # three increments r0 never sees one by one
        slot = r1.learner.slot_out
        r1.handle(Decision("r2", slot, Batch(1.0, (Command("c", number, "increment",
                                                           encode_call_arguments([], {})),))),
                  net.now)
    assert r1.learner.slot_out == r0.learner.slot_out + 3
    effects = r0.handle(CatchupReply("r1", (), r1.take_snapshot(), r1.learner.slot_out), net.now)
    net.replies.extend(effects.replies)
    slot, _, compacted, _, value = notifications(net, watch)[-1]
    assert compacted and decode_value(value) == 3 and slot == r1.learner.slot_out - 1


def test_a_watch_sees_the_leaders_clock_from_its_first_result():
    """The first result of a watch is evaluated outside the log, like a lease read: it must
    see the leader's clock, not time 0 (the class of issue 13's bug 5)."""
    import concoord
    from concoord import determinism

    class Clock:
        @concoord.readonly
        def now(self):
            return determinism.time()

    net = Net(state_machines={r: ObjectHost(Clock) for r in ("r0", "r1", "r2")})
    elect_r0(net)
    watch = net.request("r0", "@watch", "w", ["now", [], {}, [0, 0]])
    (_, _, _, _, value), = notifications(net, watch)
    assert decode_value(value) > 0
