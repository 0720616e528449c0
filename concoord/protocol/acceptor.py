"""The acceptor: the memory of Paxos.

It promises not to accept proposals below its ``promised`` ballot and remembers, per slot, the
highest-ballot proposal it accepted. Everything it answers is persisted first (see Effects), so
a restarted acceptor rebuilt from its records keeps every promise it made.
"""

from concoord.protocol.effects import Effects
from concoord.wire.messages import Accept, Accepted, Heartbeat, HeartbeatReply, Prepare, Promise
from concoord.wire.types import ZERO_BALLOT, PValue, batch_bytes

MAX_LEASE = 2.0   # seconds: the longest read lease an acceptor grants
# Leaders raise rounds one election at a time, so a round this far above the promised one is
# forged (or a bug): refused, so no message can drive ballots to the top of their range and
# leave no higher ballot for a real leader (rounds are 63-bit on the wire). A fresh acceptor
# (round 0) still follows any leader of fewer than 2**32 elections.
MAX_ROUND_STEP = 2**32
MAX_PROMISE_BYTES = 8 << 20    # of accepted commands per Promise (frames hold 32 MiB)

# Persisted records: ("promise", ballot) | ("accept", pvalue) | ("gc", slot).


class Acceptor:
    def __init__(self, node_id, records=(), max_lease=MAX_LEASE):
        self.node_id = node_id
        self.max_lease = max_lease
        self.promised = ZERO_BALLOT
        self.accepted = {}   # slot -> PValue with the highest ballot accepted there
        self.gc_below = 1    # slots below this were applied by every replica and forgotten
        self.lease_holder = None   # ballot holding a read lease (not persisted: see _on_prepare)
        self.lease_until = 0.0
        self.restarted = bool(records)
        for record in records:
            self._restore(record)

    def _restore(self, record):
        kind, value = record
        if kind == "promise":
            self.promised = max(self.promised, value)
        elif kind == "accept":
            self._store(value)
        elif kind == "gc":
            self._forget_below(value)

    def handle(self, msg, now):
        self._honour_forgotten_leases(now)
        if isinstance(msg, (Prepare, Accept)) and not self._plausible(msg.ballot):
            return Effects()
        if isinstance(msg, Prepare):
            return self._on_prepare(msg, now)
        if isinstance(msg, Accept):
            return self._on_accept(msg, now)
        if isinstance(msg, Heartbeat):
            return self._on_heartbeat(msg, now)
        return Effects()

    def tick(self, now):
        self._honour_forgotten_leases(now)
        return Effects()

    def _honour_forgotten_leases(self, now):
        """Leases are not persisted: a restarted acceptor promises no other ballot for the
        longest lease it grants, counted from the first moment it runs again (its first tick
        or message). Every lease it forgot was granted before its crash, so it has run out
        by then. (Counted from its first Prepare, as it once was, the first election after
        any acceptor restart waited 2 s, however long ago the restart was.)"""
        if self.restarted:
            self.restarted = False
            self.lease_holder, self.lease_until = ZERO_BALLOT, now + self.max_lease

    def _plausible(self, ballot):
        return ballot.round <= self.promised.round + MAX_ROUND_STEP

    def _promise(self, ballot, effects):
        assert ballot >= self.promised, "an acceptor's promised ballot never goes down"
        if ballot > self.promised:
            self.promised = ballot
            effects.persist.append(("promise", ballot))

    def _on_prepare(self, msg, now):
        """While another ballot's read lease runs, promise nothing new: that leader serves
        reads locally and must not be superseded before its lease ends. (A restarted acceptor
        forgot its leases; leaders wait a full lease after a start before serving reads.)"""
        effects = Effects()
        if msg.ballot > self.promised and not self._leased_to_another(msg.ballot, now):
            self._promise(msg.ballot, effects)
        accepted, more_from = self._report(max(msg.from_slot, msg.resume_at))
        effects.send(msg.src, Promise(self.node_id, self.promised, msg.from_slot, accepted,
                                      self.gc_below, msg.resume_at, more_from))
        return effects

    def _report(self, from_slot):
        """The pvalues accepted from ``from_slot`` on, as many as fit well in a frame, and the
        slot the rest starts at (0: nothing left). Unbounded, a few accepted large batches
        not yet applied everywhere made every Promise too large to send: no leader again."""
        report, size = [], 0
        for slot in sorted(slot for slot in self.accepted if slot >= from_slot):
            pvalue = self.accepted[slot]
            size += batch_bytes(pvalue.batch)
            if report and size > MAX_PROMISE_BYTES:
                return tuple(report), slot
            report.append(pvalue)      # the first always goes: a batch alone fits a frame
        return tuple(report), 0

    def _leased_to_another(self, ballot, now):
        return (self.lease_holder is not None and now < self.lease_until
                and ballot != self.lease_holder)

    def _on_accept(self, msg, now):
        """An Accept of a higher ballot promises it too: not while another ballot's lease
        runs. (Its leader may have won an older acceptor set without us, one the leaseholder
        no longer leases; promised here, we would count in the newer set for it too.)"""
        effects = Effects()
        leased = msg.ballot > self.promised and self._leased_to_another(msg.ballot, now)
        if msg.ballot >= self.promised and msg.slot >= self.gc_below and not leased:
            self._promise(msg.ballot, effects)
            pvalue = PValue(msg.ballot, msg.slot, msg.batch)
            if self.accepted.get(msg.slot) != pvalue:
                self._store(pvalue)
                effects.persist.append(("accept", pvalue))
        if msg.gc_below > self.gc_below:
            self._forget_below(msg.gc_below)
            effects.persist.append(("gc", msg.gc_below))
        effects.send(msg.src, Accepted(self.node_id, self.promised, msg.slot))
        return effects

    def _on_heartbeat(self, msg, now):
        effects = Effects()
        granted = -1.0
        if msg.ballot == self.promised and 0 < msg.lease <= self.max_lease:
            until = now + msg.lease
            if self.lease_holder == ZERO_BALLOT:    # never shorten the forgotten leases' wait
                until = max(until, self.lease_until)
            self.lease_holder, self.lease_until = msg.ballot, until
            granted = msg.sent_at
        effects.send(msg.src, HeartbeatReply(self.node_id, self.promised, granted))
        return effects

    def _store(self, pvalue):
        """Accept ``pvalue`` (also when replaying records: they come in the order written)."""
        previous = self.accepted.get(pvalue.slot)
        assert previous is None or previous.ballot <= pvalue.ballot, \
            "a slot's accepted ballot never goes down"
        self.accepted[pvalue.slot] = pvalue
        self.promised = max(self.promised, pvalue.ballot)

    def _forget_below(self, slot):
        if slot <= self.gc_below:
            return
        self.gc_below = slot
        for old in [s for s in self.accepted if s < slot]:
            del self.accepted[old]

    def live_records(self):
        """Records that rebuild exactly this acceptor's state (to compact its disk log)."""
        records = [("promise", self.promised)]
        if self.gc_below > 1:
            records.append(("gc", self.gc_below))
        records.extend(("accept", pvalue) for _, pvalue in sorted(self.accepted.items()))
        return records

    def check_invariants(self):
        for slot, pvalue in self.accepted.items():
            assert pvalue.slot == slot
            assert pvalue.ballot <= self.promised, "accepted ballot above the promised one"
