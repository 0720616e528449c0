"""Transcript tests of the Acceptor: what it answers, what it persists, what survives a restart."""

from concoord.protocol.acceptor import Acceptor
from concoord.protocol.acceptor_node import AcceptorNode
from concoord.wire.codec import decode_record, encode_record
from concoord.wire.messages import Accept, Accepted, Heartbeat, HeartbeatReply, Prepare, Promise
from concoord.wire.types import ZERO_BALLOT, Ballot, Batch, Command, Configuration, PValue

B1, B2, B3 = Ballot(1, "r1"), Ballot(2, "r1"), Ballot(3, "r2")
X = Batch(1.0, (Command("c", 1, "m", b"x"),))
Y = Batch(2.0, (Command("c", 2, "m", b"y"),))
CONFIG = Configuration(("r1",), ("a1",))


def accept(ballot, slot, batch, gc_below=0, src="r1"):
    return Accept(src, ballot, slot, batch, gc_below)


def only_send(effects):
    (send,) = effects.sends
    return send


def test_a_fresh_acceptor_promises_the_first_ballot_and_persists_it():
    acceptor = Acceptor("a1")
    effects = acceptor.handle(Prepare("r1", B1, 1), 0.0)
    assert effects.persist == [("promise", B1)]
    assert only_send(effects) == ("r1", Promise("a1", B1, 1, ()))
    assert acceptor.promised == B1


def test_a_higher_prepare_is_promised():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r1", B1, 1), 0.0)
    effects = acceptor.handle(Prepare("r2", B3, 1), 0.0)
    assert effects.persist == [("promise", B3)]
    assert only_send(effects) == ("r2", Promise("a1", B3, 1, ()))


def test_a_lower_prepare_is_answered_with_the_promised_ballot_and_changes_nothing():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r2", B3, 1), 0.0)
    effects = acceptor.handle(Prepare("r1", B1, 1), 0.0)
    assert effects.persist == []
    assert only_send(effects) == ("r1", Promise("a1", B3, 1, ()))
    assert acceptor.promised == B3


def test_a_repeated_prepare_gets_the_same_promise_without_a_new_record():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r1", B1, 1), 0.0)
    effects = acceptor.handle(Prepare("r1", B1, 1), 0.0)
    assert effects.persist == [] and only_send(effects) == ("r1", Promise("a1", B1, 1, ()))


def test_ballots_compare_by_round_then_leader_then_incarnation():
    assert Ballot(1, "z", 9) < Ballot(2, "a", 0)
    assert Ballot(2, "a", 9) < Ballot(2, "b", 0)
    assert Ballot(2, "b", 0) < Ballot(2, "b", 1)
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r1", Ballot(2, "r1", 0), 1), 0.0)
    promise = only_send(acceptor.handle(Prepare("r1", Ballot(2, "r1", 1), 1), 0.0))[1]
    assert promise.ballot == Ballot(2, "r1", 1)   # a new life of r1 outranks its old ballot


def test_the_promise_reports_accepted_pvalues_from_the_requested_slot_on():
    acceptor = Acceptor("a1")
    for slot in (1, 2, 5):
        acceptor.handle(accept(B1, slot, X), 0.0)
    promise = only_send(acceptor.handle(Prepare("r2", B3, 2), 0.0))[1]
    assert promise.accepted == (PValue(B1, 2, X), PValue(B1, 5, X))
    assert promise.from_slot == 2


def test_a_report_too_large_for_one_promise_comes_in_parts_that_each_fit_a_frame():
    from concoord.wire.codec import encode_frame
    acceptor = Acceptor("a1")
    big = Batch(1.0, (Command("c", 1, "m", b"x" * (6 << 20)),))
    for slot in range(3, 10):
        acceptor.handle(accept(B1, slot, big), 0.0)
    reported, resume_at, parts = [], 0, 0
    while True:
        promise = only_send(acceptor.handle(Prepare("r2", B3, 2, resume_at), 0.0))[1]
        encode_frame(promise)                # raises WireError when over the frame limit
        assert promise.from_slot == 2 and promise.ballot == B3
        reported += [pvalue.slot for pvalue in promise.accepted]
        parts += 1
        if not promise.more_from:
            break
        assert promise.more_from == reported[-1] + 1
        resume_at = promise.more_from
    assert reported == list(range(3, 10)) and parts > 1


def test_an_accept_at_the_promised_ballot_is_accepted_and_persisted():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r1", B2, 1), 0.0)
    effects = acceptor.handle(accept(B2, 1, X), 0.0)
    assert effects.persist == [("accept", PValue(B2, 1, X))]
    assert only_send(effects) == ("r1", Accepted("a1", B2, 1))
    assert acceptor.accepted == {1: PValue(B2, 1, X)}


def test_an_accept_above_the_promised_ballot_promises_and_accepts_it():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r1", B1, 1), 0.0)
    effects = acceptor.handle(accept(B2, 4, X), 0.0)
    assert effects.persist == [("promise", B2), ("accept", PValue(B2, 4, X))]
    assert only_send(effects) == ("r1", Accepted("a1", B2, 4))
    assert acceptor.promised == B2


def test_an_accept_below_the_promised_ballot_is_refused_with_the_promised_ballot():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r2", B3, 1), 0.0)
    effects = acceptor.handle(accept(B2, 1, X), 0.0)
    assert effects.persist == []
    assert only_send(effects) == ("r1", Accepted("a1", B3, 1))
    assert acceptor.accepted == {}


def test_each_slot_keeps_the_highest_ballot_accepted_there():
    acceptor = Acceptor("a1")
    acceptor.handle(accept(B1, 1, X), 0.0)
    acceptor.handle(accept(B3, 1, Y), 0.0)
    acceptor.handle(accept(B2, 1, X), 0.0)          # refused: below the promise
    assert acceptor.accepted[1] == PValue(B3, 1, Y)
    acceptor.check_invariants()


def test_a_duplicate_accept_is_answered_again_without_a_new_record():
    acceptor = Acceptor("a1")
    acceptor.handle(accept(B1, 1, X), 0.0)
    effects = acceptor.handle(accept(B1, 1, X), 0.0)
    assert effects.persist == [] and only_send(effects) == ("r1", Accepted("a1", B1, 1))


def test_every_state_change_comes_with_a_persist_record():
    """Replaying the records of every answer rebuilds exactly the state that gave the answers."""
    acceptor, records = Acceptor("a1"), []
    script = [Prepare("r1", B1, 1), accept(B1, 1, X), accept(B1, 2, Y), Prepare("r2", B3, 1),
              accept(B2, 3, X), accept(B3, 2, X), accept(B3, 5, Y, gc_below=2),
              Heartbeat("r2", B3, 1, CONFIG), Prepare("r1", B2, 1)]
    for msg in script:
        before = (acceptor.promised, dict(acceptor.accepted), acceptor.gc_below)
        effects = acceptor.handle(msg, 0.0)
        after = (acceptor.promised, dict(acceptor.accepted), acceptor.gc_below)
        assert (before != after) == bool(effects.persist), msg
        records.extend(effects.persist)
        rebuilt = Acceptor("a1", records)
        assert (rebuilt.promised, rebuilt.accepted, rebuilt.gc_below) == after


def test_an_acceptor_rebuilt_from_its_records_keeps_its_promise():
    acceptor, records = Acceptor("a1"), []
    for msg in (Prepare("r1", B1, 1), accept(B1, 1, X), Prepare("r2", B3, 1)):
        records.extend(acceptor.handle(msg, 0.0).persist)
    rebuilt = Acceptor("a1", records)
    for msg in (Prepare("r1", B2, 1), accept(B2, 2, Y), Prepare("r1", B1, 1),
                Heartbeat("r1", B2, 1, CONFIG)):
        original, restarted = acceptor.handle(msg, 1.0), rebuilt.handle(msg, 1.0)
        assert restarted.sends == original.sends and restarted.persist == original.persist
    assert only_send(rebuilt.handle(Prepare("r1", B2, 1), 2.0))[1].ballot == B3


def test_an_accept_record_alone_restores_the_promise_it_implies():
    rebuilt = Acceptor("a1", [("accept", PValue(B2, 3, X))])
    assert rebuilt.promised == B2 and rebuilt.accepted == {3: PValue(B2, 3, X)}
    assert only_send(rebuilt.handle(accept(B1, 3, Y), 0.0))[1] == Accepted("a1", B2, 3)


def test_gc_below_forgets_older_slots_and_is_persisted():
    acceptor = Acceptor("a1")
    for slot in (1, 2, 3, 4):
        acceptor.handle(accept(B1, slot, X), 0.0)
    effects = acceptor.handle(accept(B1, 5, Y, gc_below=3), 0.0)
    assert ("gc", 3) in effects.persist
    assert sorted(acceptor.accepted) == [3, 4, 5] and acceptor.gc_below == 3
    promise = only_send(acceptor.handle(Prepare("r2", B3, 1), 0.0))[1]
    assert [pv.slot for pv in promise.accepted] == [3, 4, 5]
    assert sorted(Acceptor("a1", [("accept", PValue(B1, 1, X)), ("gc", 3)]).accepted) == []


def test_gc_below_never_goes_back():
    acceptor = Acceptor("a1")
    acceptor.handle(accept(B1, 5, X, gc_below=4), 0.0)
    effects = acceptor.handle(accept(B1, 6, X, gc_below=2), 0.0)
    assert acceptor.gc_below == 4 and ("gc", 2) not in effects.persist


def test_an_accept_for_a_forgotten_slot_is_not_stored():
    acceptor = Acceptor("a1")
    acceptor.handle(accept(B1, 9, X, gc_below=5), 0.0)
    effects = acceptor.handle(accept(B1, 2, Y), 0.0)
    assert 2 not in acceptor.accepted and effects.persist == []


def test_a_heartbeat_is_answered_with_the_promised_ballot():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r2", B3, 1), 0.0)
    effects = acceptor.handle(Heartbeat("r1", B1, 7, CONFIG), 0.0)
    assert only_send(effects) == ("r1", HeartbeatReply("a1", B3))
    assert effects.persist == [] and acceptor.promised == B3


def test_a_fresh_acceptor_answers_a_heartbeat_with_the_zero_ballot():
    assert only_send(Acceptor("a1").handle(Heartbeat("r1", B1, 1, CONFIG), 0.0)) == \
        ("r1", HeartbeatReply("a1", ZERO_BALLOT))


def test_other_messages_and_ticks_do_nothing():
    acceptor = Acceptor("a1")
    assert not acceptor.handle(Accepted("a2", B1, 1), 0.0)
    assert not acceptor.tick(5.0)


def test_the_acceptor_node_reports_its_status():
    node = AcceptorNode("a1")
    node.handle(accept(B2, 3, X), 0.0)
    assert node.status() == {"node": "a1", "role": "acceptor", "promised": [2, "r1", 0],
                             "accepted_slots": 1, "gc_below": 1}


def scripted_acceptor():
    acceptor, records = Acceptor("a1"), []
    for msg in (Prepare("r1", B1, 1), accept(B1, 1, X), accept(B1, 2, Y), accept(B1, 3, X),
                Prepare("r2", B3, 1), accept(B3, 2, X), accept(B3, 4, Y, gc_below=2)):
        records.extend(acceptor.handle(msg, 0.0).persist)
    return acceptor, records


def test_records_survive_the_disk_codec():
    acceptor, records = scripted_acceptor()
    decoded = [decode_record(encode_record(record)) for record in records]
    assert decoded == records
    rebuilt = Acceptor("a1", decoded)
    assert (rebuilt.promised, rebuilt.accepted, rebuilt.gc_below) == \
        (acceptor.promised, acceptor.accepted, acceptor.gc_below)


def test_live_records_rebuild_exactly_the_same_acceptor():
    acceptor, _ = scripted_acceptor()
    compacted = Acceptor("a1", acceptor.live_records())
    assert (compacted.promised, compacted.accepted, compacted.gc_below) == \
        (acceptor.promised, acceptor.accepted, acceptor.gc_below)
    probe = Prepare("r1", B2, 1)
    assert compacted.handle(probe, 1.0).sends == acceptor.handle(probe, 1.0).sends


def test_live_records_of_a_fresh_acceptor_rebuild_a_fresh_acceptor():
    fresh = Acceptor("a1", Acceptor("a1").live_records())
    assert (fresh.promised, fresh.accepted, fresh.gc_below) == (ZERO_BALLOT, {}, 1)


def test_a_restarted_acceptor_promises_nothing_new_until_any_old_lease_has_run_out():
    """It forgot which leader it leased to, so it waits out the longest lease it grants."""
    from concoord.protocol.acceptor import MAX_LEASE
    restarted = Acceptor("a1", [("promise", B1)])
    refused = restarted.handle(Prepare("r2", B2, 1), 0.0)
    assert restarted.promised == B1 and not refused.persist
    later = restarted.handle(Prepare("r2", B2, 1), MAX_LEASE + 0.01)
    assert restarted.promised == B2 and later.persist


def test_a_restarted_acceptor_counts_the_old_leases_from_when_it_runs_again():
    """Not from its first Prepare: an election long after the restart is not held up."""
    from concoord.protocol.acceptor import MAX_LEASE
    restarted = Acceptor("a1", [("promise", B1)])
    restarted.tick(10.0)
    restarted.handle(Prepare("r2", B2, 1), 10.0 + MAX_LEASE / 2)
    assert restarted.promised == B1
    promised = restarted.handle(Prepare("r2", B2, 1), 10.0 + MAX_LEASE + 0.01)
    assert restarted.promised == B2 and promised.persist


def test_a_lease_granted_after_a_restart_does_not_shorten_the_wait_for_forgotten_ones():
    from concoord.protocol.acceptor import MAX_LEASE
    restarted = Acceptor("a1", [("promise", B1)])
    restarted.tick(0.0)
    restarted.handle(Heartbeat("r1", B1, 1, CONFIG, 0.1, 0.25), 0.1)
    restarted.handle(Prepare("r2", B3, 1), 0.5)          # past the new lease, not the wait
    assert restarted.promised == B1
    restarted.handle(Prepare("r2", B3, 1), MAX_LEASE + 0.01)
    assert restarted.promised == B3


def test_a_leased_acceptor_refuses_other_ballots_until_the_lease_ends():
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r1", B1, 1), 0.0)
    _, reply = only_send(acceptor.handle(Heartbeat("r1", B1, 1, CONFIG, 5.0, 0.25), 1.0))
    assert reply.sent_at == 5.0
    acceptor.handle(Prepare("r2", B2, 1), 1.2)
    assert acceptor.promised == B1
    acceptor.handle(Prepare("r2", B2, 1), 1.3)
    assert acceptor.promised == B2


def test_a_leased_acceptor_accepts_no_higher_ballot_until_the_lease_ends():
    """Bug (found by the simulator, seed 395 of tests.sim.run at 3 acceptors): only a Prepare
    respected the lease; an Accept of a higher ballot raised the promise anyway. A leader
    that won an older acceptor set without this acceptor (its slots were no longer
    governed, so the leaseholder no longer heartbeat its other acceptors) sent it an Accept
    for one of them, and then counted this acceptor's promise in the newer set too: it could
    decide a slot the leaseholder had not applied while that one served reads."""
    acceptor = Acceptor("a1")
    acceptor.handle(Prepare("r1", B1, 1), 0.0)
    acceptor.handle(Heartbeat("r1", B1, 1, CONFIG, 1.0, 0.25), 1.0)
    refused = acceptor.handle(accept(B3, 4, X, src="r2"), 1.1)
    assert only_send(refused) == ("r2", Accepted("a1", B1, 4))
    assert acceptor.promised == B1 and acceptor.accepted == {} and not refused.persist
    _, promise = only_send(acceptor.handle(Prepare("r2", B3, 5), 1.2))
    assert promise.ballot == B1
    acceptor.handle(accept(B3, 4, X, src="r2"), 1.3)       # the lease has run out
    assert acceptor.promised == B3 and acceptor.accepted == {4: PValue(B3, 4, X)}
