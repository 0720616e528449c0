"""Regression tests of safety and liveness bugs found by review, each an exact schedule on real
HostedReplicas and Acceptors (tests/protocol/net.py) that failed on the code before its fix."""

import pytest

from concoord.protocol.effects import Effects
from concoord.protocol.election import ACTIVE, FOLLOWER
from concoord.wire.messages import OK, REJECTED, Accept, CatchupReply, Decision

from tests.protocol.net import Net


def elect_r0(net):
    net.run(0.6)
    assert net.leaders() == ["r0"]


def test_a_new_leader_keeps_the_slots_a_lagging_live_replica_still_needs():
    """Bug: a freshly elected leader has no progress reports yet and let the acceptors forget
    every slot below its own slot_out. Here r2 is alive but its decisions are lost; r0 leads,
    crashes; r1 leads, decides one write (which carried the new GC floor), crashes. r2 (2 of 3
    replicas down, within the f+1 = 3 replicas' tolerance) must recover every write."""
    net = Net()
    elect_r0(net)
    net.drop = lambda src, dest, msg: dest == "r2" and isinstance(msg, (Decision, CatchupReply))
    written = [net.request("r0") for _ in range(5)]
    net.run(0.2)
    assert all(net.reply_to(key).status == OK for key in written)
    assert net.replica("r2").slot_out == 1
    net.kill("r0")
    net.run(1.0)
    assert net.leaders() == ["r1"]
    written.append(net.request("r1"))
    net.run(0.2)
    assert net.reply_to(written[-1]).status == OK
    floor = max(net.nodes[a].gc_below for a in ("a0", "a1", "a2"))
    assert floor <= net.replica("r2").slot_out, "acceptors forgot slots r2 never applied"
    net.kill("r1")
    net.heal()
    net.run(2.0)
    assert net.leaders() == ["r2"]
    assert set(written) <= set(net.entries("r2")), "acknowledged writes lost"


def test_a_follower_keeps_following_the_live_leader_after_a_ballot_that_never_won():
    """Bug: a ballot seen only in a Promise (r2 campaigned through a single acceptor, then died)
    raised the follower's leader ballot, so r1 dropped the live leader r0's heartbeats forever,
    redirected clients to the dead r2 and never caught up."""
    net = Net()
    elect_r0(net)
    net.cut_both("r0", "a2")                 # a2's lease to r0 lapses
    net.cut |= {("r2", "a0"), ("r2", "a1")}  # r2 reaches a2 only
    net.run(0.5)
    effects = Effects()
    net.nodes["r2"].leader.campaign(net.now, effects)
    net._apply("r2", effects)
    net.flush()
    assert net.nodes["a2"].promised.leader == "r2"
    net.kill("r2")
    net.cut_both("r0", "r1")                 # r1 stops hearing r0 and campaigns: a2 answers
    net.run(0.5)                             # with r2's higher ballot
    assert net.nodes["r1"].leader.state == FOLLOWER
    net.cut -= {("r0", "r1"), ("r1", "r0")}
    net.run(1.0)
    follower = net.nodes["r1"].leader
    assert net.leaders() == ["r0"]
    assert follower.state == FOLLOWER and follower.leader_id == "r0"
    key = net.request("r0")
    net.run(0.3)
    assert net.reply_to(key).status == OK
    assert key in net.entries("r1"), "r1 no longer follows the live leader"
    assert net.nodes["r0"].leader.state == ACTIVE


def test_a_lease_comes_from_every_configuration_that_governs_the_leaders_next_slots():
    """Bug: the lease was checked against (and renewed from) the latest acceptor set only.
    While r0's next slot is still governed by {a0, a1, a2} and a later one by {a2, a3, a4},
    grants from {a2, a3, a4} do not stop another leader from winning a0 and a1 and deciding
    r0's next slot: r0 must not count itself leased."""
    net = Net(spare_acceptors=("a3", "a4"))
    elect_r0(net)
    r0 = net.nodes["r0"]
    newer = r0.configs.latest._replace(acceptors=("a2", "a3", "a4"))
    r0.configs.schedule(r0.learner.slot_out - 1, newer)     # governs from slot_out + 9
    assert r0.configs.config_for(r0.learner.slot_out).acceptors == ("a0", "a1", "a2")
    effects = Effects()        # phase 1 with the newer set, as padding into its slots does
    r0.leader.scouting.ensure(newer.acceptors, r0.learner.slot_out + 9, net.now, effects)
    net._apply("r0", effects)
    net.flush()
    assert r0.leader.scouting.done
    net.run(0.3)
    assert r0.leader.lease_valid(net.now), "a quorum of both sets leases r0"
    net.cut_both("r0", "a0")
    net.cut_both("r0", "a1")
    net.run(net.timing.lease)
    assert r0.leader.is_active
    assert not r0.leader.lease_valid(net.now), "leased by the newer set only"


def test_a_lease_read_waits_for_the_old_leaders_own_proposals():
    """The schedule the lease bug was first reported with: after several acceptor changes
    inside one WINDOW, r0's no-op padding never reached a0 and a1, so its slot_out is still
    governed by {a0, a1, a2}; cut off from a0 and a1, it hears grants from {a2, a3, a4} while
    r1 (lagging: its whole window is governed by the old set) wins a0 and a1 and decides a
    write in r0's next slot. r0's read must not miss it."""
    net = Net(spare_acceptors=("a3", "a4"))
    elect_r0(net)
    first = net.replica("r0").slot_out
    changes = (("@join", ["acceptor", "a3"]), ("@remove", ["a0"]),
               ("@join", ["acceptor", "a4"]), ("@remove", ["a1"]))
    net.drop = lambda src, dest, msg: (
        (dest == "r1" and isinstance(msg, (Decision, CatchupReply)))
        or (src == "r0" and dest in ("a0", "a1") and isinstance(msg, Accept)
            and msg.slot >= first + len(changes)))
    r0 = net.nodes["r0"]
    r0.leader.batcher.depth = len(changes)        # one slot each, all proposed at once
    net.hold = lambda src, dest, msg: src == "r0" and isinstance(msg, Accept)
    keys = [net.request("r0", method, "admin", args) for method, args in changes]
    net.release()
    assert all(net.value_of(key)[0] == OK for key in keys)
    assert r0.configs.latest.acceptors == ("a2", "a3", "a4")
    assert r0.configs.config_for(r0.learner.slot_out).acceptors == ("a0", "a1", "a2")
    net.heal()
    for cut in (("r0", "a0"), ("r0", "a1"), ("r1", "a2"), ("r0", "r1")):
        net.cut_both(*cut)
    net.drop = lambda src, dest, msg: dest == "r1" and isinstance(msg, (Decision, CatchupReply))
    net.nodes["r1"].leader.batcher.depth = 10
    net.hold = lambda src, dest, msg: src == "r1" and isinstance(msg, Accept)
    net.run(1.0)
    assert net.nodes["r1"].leader.is_active
    write = net.request("r1")
    net.release()
    assert net.value_of(write)[0] == OK
    read = net.request("r0", "count")
    answer = net.value_of(read)
    assert answer is None or answer[0] != OK or answer[1] >= 1, \
        f"r0 answered a read from a lease that no longer covered its slots: {answer}"


def test_lease_reads_see_the_leaders_clock_not_time_zero():
    """Bug: lease reads ran with no time stamp, so a method that reads the replicated clock
    (a Lock's held() checks its expiry) saw time() == 0.0 from a lease and the real time
    through the log."""
    from concoord import determinism
    from concoord.host.object_host import ObjectHost
    import concoord

    class Clock:
        @concoord.readonly
        def now(self):
            return determinism.time()

        def stamp(self):
            return determinism.time()

    hosts = {r: ObjectHost(Clock) for r in ("r0", "r1", "r2")}
    net = Net(state_machines=hosts)
    elect_r0(net)
    logged = net.value_of(net.request("r0", "stamp", args=[]))
    net.run(0.2)
    leased = net.value_of(net.request("r0", "now", args=[]))
    assert logged[0] == OK and leased[0] == OK
    assert net.nodes["r0"].leader.lease_valid(net.now)
    assert leased[1] >= logged[1] > 0, f"lease read saw time {leased[1]}"


def test_a_catchup_reply_of_large_batches_fits_in_a_frame():
    """Bug: catch-up replies were bounded by slots and commands only: 40 slots of 1 MiB
    batches made a reply over the 32 MiB frame limit, its encoding failed, and the lagging
    replica asked again forever."""
    from concoord.wire.codec import encode_frame
    from concoord.wire.messages import CatchupRequest
    from concoord.wire.types import Batch, Command

    net = Net()
    r0 = net.nodes["r0"]
    big = Batch(1.0, (Command("c1", 1, "append", b"x" * (1 << 20)),))
    for slot in range(1, 41):
        r0.handle(Decision("r1", slot, big._replace(commands=(
            big.commands[0]._replace(number=slot),))), net.now)
    assert r0.learner.slot_out == 41
    sent = r0.handle(CatchupRequest("r2", 1), net.now).sends
    (dest, reply), = sent
    encode_frame(reply)                       # raises WireError when over the frame limit
    assert dest == "r2" and 1 <= len(reply.decisions) < 40


def test_a_leaders_batching_depth_survives_its_campaigns():
    """Bug: every campaign reset batching_depth to 1, so the simulator's depths 2 and 10 (the
    most concurrent slots, which recovery bugs need) were never exercised past round one."""
    net = Net()
    for node in ("r0", "r1", "r2"):
        net.nodes[node].leader.batcher.depth = 10
    elect_r0(net)
    assert net.nodes["r0"].leader.batcher.depth == 10


def test_a_snapshot_install_applies_the_decisions_already_held_after_it():
    """Bug (found by the simulator once replicas could restart empty): a lagging replica held
    decisions 5..7 behind a gap; a snapshot at slot 5 moved slot_out onto decision 5, already
    held, so nothing applied it and every later catch-up reply repeated what it had: stuck."""
    from concoord.wire.types import Batch, Command

    net = Net()
    r0, r2 = net.nodes["r0"], net.nodes["r2"]

    def decided(slot):
        return Batch(1.0, (Command("c1", slot, "append", b""),))
    for slot in range(1, 5):
        r0.handle(Decision("r1", slot, decided(slot)), net.now)
    snapshot = r0.take_snapshot()
    for slot in range(5, 8):
        r0.handle(Decision("r1", slot, decided(slot)), net.now)
        r2.handle(Decision("r0", slot, decided(slot)), net.now)
    assert r2.learner.slot_out == 1 and r2.learner.has_gap()
    held = tuple((slot, decided(slot)) for slot in range(5, 8))
    r2.handle(CatchupReply("r0", held, snapshot, 5), net.now)
    assert r2.learner.slot_out == 8
    assert r2.state_machine.entries == r0.state_machine.entries


def test_an_acceptor_removed_but_still_governing_slots_cannot_rejoin():
    """An acceptor removed in slot s still governs slots up to s + WINDOW: wiped and let
    back in by a join decided in one of those slots (two administrators, the leader's
    pipeline), it would answer for them with none of its promises."""
    from concoord.wire.messages import Accepted
    net = Net(spare_acceptors=("a3",))
    r0 = net.nodes["r0"]
    r0.leader.batcher.depth = 10
    elect_r0(net)
    assert net.value_of(net.request("r0", "@join", "admin", ["acceptor", "a3"]))[0] == OK
    net.run(0.1)
    net.hold = lambda src, dest, msg: isinstance(msg, Accepted)
    removed = net.request("r0", "@remove", "admin", ["a1"])
    rejoined = net.request("r0", "@join", "a1-again", ["acceptor", "a1"])
    net.release()
    assert net.value_of(removed)[0] == OK
    status, value = net.value_of(rejoined)
    assert status == REJECTED and "already a member" in value.args[0]


def test_an_acceptor_that_lost_its_promises_cannot_rejoin_as_the_same_member():
    """Likely bug, confirmed: an acceptor restarted without its data (no --data-dir, or a
    wiped one) on the same address joined again as the same member (the join returned the
    configuration unchanged) with no memory of its promises, breaking quorum intersection."""
    net = Net()
    elect_r0(net)
    status, value = net.value_of(net.request("r0", "@join", "a1-again", ["acceptor", "a1"]))
    assert status == REJECTED and "already a member" in value.args[0]
    status, _ = net.value_of(net.request("r0", "@join", "r1-again", ["replica", "r1"]))
    assert status == OK, "a replica restarted empty may rejoin: it catches up from its peers"


def test_commands_a_snapshot_covers_are_no_longer_in_flight():
    """Likely bug, confirmed: after a snapshot install, in_flight kept the commands of the
    slots it skipped (on_applied never saw them), so the leader dropped their retries."""
    from concoord.wire.types import Batch, Command

    net = Net()
    r0, r1 = net.nodes["r0"], net.nodes["r1"]
    for slot in range(1, 4):
        r0.handle(Decision("r2", slot, Batch(1.0, (Command("c1", slot, "append", b""),))),
                  net.now)
    waiting = Command("c9", 1, "append", b"")
    r1.leader.batcher.add(waiting)
    r1.leader.batcher.in_flight.add(("c1", 2))          # proposed in a slot the snapshot covers
    r1.handle(CatchupReply("r0", (), r0.take_snapshot(), 4), net.now)
    assert r1.learner.slot_out == 4
    assert r1.leader.batcher.in_flight == {("c9", 1)}


@pytest.mark.parametrize("leader_clock_rate, stale", [(1.0, False), (0.92, False), (0.5, True)])
def test_lease_reads_are_linearizable_only_within_the_clock_drift_bound(leader_clock_rate,
                                                                        stale):
    """The documented clock assumption (Timing.clock_drift, 10%): the leader counts its lease
    10% shorter than the acceptors keep it. Within the bound (its clock at 0.92 of theirs) a
    leader cut off from everyone stops serving lease reads before another leader can decide a
    write; past it (0.5) the old leader answers a stale read: what the README warns of."""
    net = Net()
    elect_r0(net)
    net.request("r0")
    net.run(0.3)
    net.set_clock_rate("r0", leader_clock_rate)
    for other in ("r1", "r2", "a0", "a1", "a2"):
        net.cut_both("r0", other)
    while "r1" not in net.leaders():
        net.run(0.005)
    assert net.value_of(net.request("r1"))[0] == OK        # 2 appends acknowledged
    answer = net.value_of(net.request("r0", "count"))
    assert (answer is not None and answer == (OK, 1)) is stale, answer
    if answer is not None and answer[0] == OK:
        assert stale or answer[1] == 2


def test_a_refused_candidate_that_is_behind_the_acceptors_catches_up_instead():
    """Bug (found by the simulator): a replica restarted empty after it had been removed
    campaigned with a higher ballot; the acceptors, leased to the live leader, refused it
    (their Promise carried the leader's lower ballot and a gc_below past its slot_out), it
    ignored those answers, heard no heartbeats (not a member) and campaigned forever."""
    from concoord.protocol.election import CANDIDATE
    from concoord.wire.messages import CatchupRequest, Promise
    from concoord.wire.types import Ballot

    net = Net()
    r2 = net.nodes["r2"]
    r2.leader.campaign(net.now, Effects())
    assert r2.leader.state == CANDIDATE and r2.learner.slot_out == 1
    leased_to = Ballot(0, "r0", 0)             # below r2's ballot: a refusal, not a preemption
    r2.handle(Promise("a0", leased_to, 1, (), 50), net.now)
    assert r2.leader.state == FOLLOWER and r2.leader.leader_slot_out >= 50
    sent = r2.tick(net.now + 1.0).sends
    assert any(isinstance(msg, CatchupRequest) for _, msg in sent), "it must catch up"


def test_a_call_at_the_frame_limit_does_not_stall_the_instance():
    """Found with the simulator's frame-limit workload: a client's request of just under
    MAX_FRAME is accepted, but the Accept carrying it is ~50 bytes larger than the request,
    cannot be encoded, and is never sent: its slot is never decided and no later call is
    either. Such a call must be refused (or fit), not halt every client."""
    from concoord.errors import WireError
    from concoord.wire.codec import MAX_FRAME, encode_frame
    from concoord.wire.messages import ClientRequest
    from concoord.wire.types import Batch, Command
    from concoord.wire.values import encode_call_arguments

    net = Net()
    elect_r0(net)
    apply = net._apply

    def apply_framed(node_id, effects):
        """As the runtime: a message that cannot be framed is not sent, nor the rest."""
        sent = []
        for dest, msg in effects.sends:
            try:
                encode_frame(msg)
            except WireError:
                break
            sent.append((dest, msg))
        effects.sends[:] = sent
        apply(node_id, effects)
    net._apply = apply_framed
    def request_of(size):
        big = Command("c1", 1, "append", encode_call_arguments([b"x" * size], {}))
        return ClientRequest("c1", big)
    size = MAX_FRAME - len(encode_frame(request_of(0))) - 8
    request = request_of(size)
    assert len(encode_frame(request)) <= MAX_FRAME        # the client can send it ...
    accept = Accept("r0", net.nodes["r0"].leader.ballot, 5, Batch(1.0, (request.command,)), 1)
    with pytest.raises(WireError):                         # ... but not the leader its Accept
        encode_frame(accept)
    net._apply("r0", net.nodes["r0"].handle(request, net.clock("r0")))
    net.flush()
    status, value = net.value_of(("c1", 1))
    assert status == REJECTED and "call too large" in value.args[0]
    net.run(0.5)
    small = net.request("r0", "append", "c2")
    net.run(1.0)
    assert net.value_of(small) is not None, "one call at the frame limit stalled every call"


def test_a_new_leader_recovers_accepted_values_that_fill_more_than_a_frame():
    """Bug: a Promise carried every pvalue the acceptor held from the scout's slot on. Three
    accepted 12 MiB commands not yet applied everywhere made every Promise larger than a frame:
    the transport could not send it, and no replica could ever be elected again."""
    big = 12 << 20
    net = Net(frame_limit=True)
    elect_r0(net)
    net.drop = lambda src, dest, msg: isinstance(msg, (Decision, CatchupReply))
    written = [net.request("r0", args=[bytes([n]) * big]) for n in range(3)]
    net.run(0.2)
    assert all(net.reply_to(key).status == OK for key in written)
    assert all(len(net.nodes[a].accepted) >= 3 for a in ("a0", "a1", "a2"))
    net.kill("r0")
    net.heal()
    net.run(2.0)
    (leader,) = net.leaders()
    assert net.entries(leader) == written


def test_a_leader_that_installs_a_snapshot_goes_on_proposing():
    """Bug (the simulator, seed 3655 of 10,000): an active leader behind a peer installed a
    snapshot while a proposal of its own was in phase 2 in a slot the snapshot skipped, and
    another command waited for that slot to be settled (batching depth 1). The skipped slot
    never reached on_applied, so nothing proposed the waiting command again: it, and every
    retry of it (already in flight), waited for good."""
    from concoord.wire.messages import Accepted
    ahead = Net()
    elect_r0(ahead)
    for _ in range(5):
        ahead.request("r0")
    snapshot = ahead.nodes["r0"].take_snapshot()
    net = Net()
    elect_r0(net)
    r0 = net.nodes["r0"]
    net.hold = lambda src, dest, msg: isinstance(msg, Accepted)
    net.request("r0", client="c9")
    waiting = net.request("r0", client="c1")
    assert r0.leader.proposer.commanders and r0.leader.proposer.batcher.pending
    net._apply("r0", r0.install_snapshot(snapshot, net.now))
    net.held.clear()
    net.hold = lambda src, dest, msg: False
    net.run(0.5)
    assert net.reply_to(waiting) is not None and net.reply_to(waiting).status == OK


def test_the_bootstrap_replica_persists_its_initial_configuration_before_answering():
    """Bug (issue 13, _genesis_join): the bootstrap replica answered its first acceptor's join
    with nothing to persist, and the runtime wrote genesis.json from a thread up to 0.1 s
    later: killed in between, the replica came back with no acceptor, while the acceptor it
    had admitted (and what was decided through it) went on without it. The configuration is
    now a persist record, durable before the answer leaves (effects.py's contract)."""
    from concoord.host.hosted_replica import HostedReplica
    from concoord.protocol.replica_node import GENESIS_RECORD
    from concoord.wire.messages import ClientRequest
    from concoord.wire.types import Command, Configuration
    from concoord.wire.values import encode_call_arguments
    from tests.sim.model import AppendLog

    node = HostedReplica("r0", Configuration(("r0",), ()), AppendLog(), 0.0)
    join = Command("a0", 1, "@join", encode_call_arguments(["acceptor", "a0"], {}))
    effects = node.handle(ClientRequest("a0", join), 0.0)
    genesis = Configuration(("r0",), ("a0",))
    assert effects.persist == [(GENESIS_RECORD, genesis)]
    assert [reply.status for reply in effects.replies] == [OK]
    assert node.configs.config_for(1) == genesis


def test_a_leader_still_winning_a_newer_acceptor_set_follows_the_live_leader_there():
    """Bug (the simulator, seed 963): r1, behind, won an acceptor set the view had since
    replaced (no one leased it any more) and became active; it then learnt that a newer set
    governs its next slots, whose acceptors were leased to the live leader r0 and refused its
    Prepare. Active, it ignored r0's heartbeats (a lower ballot) for ever: a leader that could
    decide nothing, and a replica that never caught up."""
    from concoord.wire.messages import Heartbeat, Promise

    net = Net()
    elect_r0(net)
    r1 = net.nodes["r1"]
    r1.leader.campaign(net.now, Effects())
    for acceptor in ("a0", "a1"):          # the older set, no longer leased, adopts r1's ballot
        r1.handle(Promise(acceptor, r1.leader.ballot, r1.learner.slot_out, (), 1), net.now)
    assert r1.leader.state == ACTIVE
    newer = ("a0", "a1", "a2", "a3")       # governs r1's next slots; a quorum is leased to r0
    r1.leader.scouting.ensure(newer, r1.learner.slot_out, net.now, Effects())
    r0 = net.nodes["r0"].leader
    beat = Heartbeat("r0", r0.ballot, net.replica("r0").slot_out, net.replica("r0").configs.latest,
                     net.now, net.nodes["r0"].leader.timing.lease)
    r1.handle(beat, net.now)
    assert r1.leader.state == FOLLOWER and r1.leader.leader_id == "r0"


def test_a_leader_runs_phase_1_on_every_acceptor_set_of_its_window_without_client_traffic():
    """Bug (the simulator, seed 5087 of 10,000): an active leader learnt from a snapshot that a
    newer acceptor set governs slots of its window (the snapshot skips the reconfiguration's
    padding with no-ops). It ran phase 1 on a set only when a command reached that set's
    slots, so with no client traffic it never heard that the newer set had decided a slot past
    a few undecided ones: those holes stayed open, and every replica stopped short of the
    decided slot for good."""
    ahead = Net(spare_acceptors=("a3",))
    elect_r0(ahead)
    join_slot = ahead.nodes["r0"].learner.slot_out
    ahead.hold = lambda src, dest, msg: isinstance(msg, Accept) and msg.slot > join_slot
    joined = ahead.request("r0", "@join", "admin", ["acceptor", "a3"])
    assert ahead.reply_to(joined).status == OK    # the join is applied, its padding is not
    snapshot = ahead.nodes["r0"].take_snapshot()
    net = Net(spare_acceptors=("a3",))
    elect_r0(net)
    r0 = net.nodes["r0"]
    net._apply("r0", r0.install_snapshot(snapshot, net.now))
    newer = r0.configs.config_for(r0.learner.slot_out + r0.configs.window - 1).acceptors
    assert newer == ("a0", "a1", "a2", "a3"), "the newer set governs a slot of the window"
    net.run(0.1)
    assert net.nodes["a3"].promised == r0.leader.ballot, "no phase 1 on the newer set"
    assert r0.leader.scouting.won(newer)
