"""Is a client history linearizable? A Wing-Gong search with Lowe's memoization.

Every completed operation must take effect at one instant between its invocation and its
completion, in an order in which the sequential model (the object's own class, see model.py)
returns what the clients saw. Operations with an unknown outcome may take effect at any instant
after their invocation, or never: they have no completion, so nothing forces them in, and
nothing is compared with their (unknown) result.

The search (as in Lowe, "Testing for linearizability", 2017, and the Porcupine checker) walks a
doubly linked list of call and return events in time order. At a call it tries to linearize that
operation next: if the model agrees, the call and its return are lifted out of the list and the
walk restarts from the front. Reaching a return means an operation that had to be linearized by
then was not: undo the most recent choice and try the next call after it. The memo holds every
(set of linearized operations, model state) pair already explored: reaching one again can only
fail again. The sets are int bitmasks; the state is the model's key (a pickle of the instance).

Unknown operations stay concurrent with everything after them, so every subset of them could
be "already applied" at any later point. Identical unknown calls (same method and arguments)
are interchangeable, since nothing observed their results: the search only applies them in
invocation order, which turns 2^k subsets of k unknown increments into k + 1 counts.

Cost and limits: with c processes, the memo holds at most about n * 2^c * (distinct states)
entries, and a linearizable history is usually found in one pass: a few thousand operations from
a handful of processes take about a second. Each group of distinct unknown calls (different
methods or arguments) still multiplies the space explored when the search has to backtrack, so
keep those to a few dozen (long client timeouts do that). A violation is reported with the
operation that could not be linearized at the furthest point the search reached.
"""

import dataclasses

from concoord.checker.history import FAIL, UNKNOWN, History
from concoord.checker.model import ObjectModel


@dataclasses.dataclass
class CheckResult:
    ok: bool
    operations: int                  # operations checked (failed ones are left out)
    explored: int                    # search steps, to see how hard it was
    linearized: list = None          # a witness order of operation indices, when ok
    culprit: object = None           # the Operation that could not be linearized
    prefix: int = 0                  # operations linearized before the culprit got stuck
    state: str = ""                  # the model state at that point
    expected: list = dataclasses.field(default_factory=list)  # what the model said, per op

    def explain(self):
        if self.ok:
            return f"linearizable: {self.operations} operations ({self.explored} search steps)"
        lines = [f"NOT linearizable: {self.culprit.describe()}",
                 f"  could not be linearized after any order of the {self.prefix} operations "
                 f"before it; the model state there was {self.state}"]
        for op, (outcome, value) in self.expected:
            lines.append(f"  at that state {op.describe()}\n    would have {outcome} {value!r}")
        return "\n".join(lines)

    __str__ = explain


class _Entry:
    __slots__ = ("op", "is_call", "match", "prev", "next", "twin")

    def __init__(self, op, is_call):
        self.op, self.is_call = op, is_call
        self.match = self.prev = self.next = None
        self.twin = -1    # an unknown call: the index of the identical one invoked just before


def check(history, model):
    """Check ``history`` (a History or a list of Operations) against ``model`` (an ObjectModel
    or a class, which is wrapped in one). Returns a CheckResult."""
    if not isinstance(model, ObjectModel):
        model = ObjectModel(model)
    if not isinstance(history, History):
        history = History(history)
    operations = [op for op in history if op.outcome != FAIL]
    head = _build_list(operations)
    return _Search(head, operations, model).run()


def _build_list(operations):
    """The sentinel head of a list of call and return entries in time order.

    A return at the same instant as a call is placed after it: the two operations may then be
    ordered either way, which is the charitable reading of equal timestamps.
    """
    events, last_of_kind = [], {}
    for op in operations:     # in invocation order (History sorts them)
        call = _Entry(op, True)
        events.append((op.invoke, 0, call))
        if op.outcome == UNKNOWN:
            kind = (op.method, repr(op.args), repr(sorted(op.kwargs.items())))
            call.twin = last_of_kind.get(kind, -1)
            last_of_kind[kind] = op.index
        else:
            ret = _Entry(op, False)
            call.match = ret
            events.append((op.complete, 1, ret))
    events.sort(key=lambda e: (e[0], e[1]))
    head = _Entry(None, False)
    last = head
    for _, _, entry in events:
        last.next, entry.prev = entry, last
        last = entry
    return head


def _lift(entry):
    """Remove a call and its return from the list (they stay linked to their neighbours)."""
    entry.prev.next = entry.next
    if entry.next is not None:
        entry.next.prev = entry.prev
    ret = entry.match
    if ret is not None:
        ret.prev.next = ret.next
        if ret.next is not None:
            ret.next.prev = ret.prev


def _unlift(entry):
    """Undo _lift, in reverse order (dancing links)."""
    ret = entry.match
    if ret is not None:
        ret.prev.next = ret
        if ret.next is not None:
            ret.next.prev = ret
    entry.prev.next = entry
    if entry.next is not None:
        entry.next.prev = entry


class _Search:
    """The search state: the model state, the linearized set and the stack of choices.

    At each point the candidates are the calls before the first return in the list. Calls of
    completed operations are tried first and unknown ones only after those ran out ("phase"),
    because most unknown operations either never happened or are needed only when a read shows
    their effect; trying them first would explore, at every point of the history, the futures
    in which they had just happened.
    """

    def __init__(self, head, operations, model):
        self.head, self.operations, self.model = head, operations, model
        self.state = model.initial()
        self.remaining = sum(1 for op in operations if op.outcome != UNKNOWN)
        self.linearized = 0          # bitmask of the completed operations linearized
        self.applied = 0             # bitmask of the unknown operations applied
        self.stack, self.memo = [], {}
        self.steps = 0
        self.furthest = (-1, None, None, 0)  # (depth, stuck return entry, state, linearized)

    def run(self):
        entry, unknown_phase = self.head.next, False
        while self.remaining:
            self.steps += 1
            if entry.is_call:
                if (entry.op.outcome == UNKNOWN) == unknown_phase and self._apply(entry,
                                                                                   unknown_phase):
                    entry, unknown_phase = self.head.next, False
                else:
                    entry = entry.next
            elif not unknown_phase:   # completed candidates exhausted: try the unknown ones
                self._note_stuck(entry)
                entry, unknown_phase = self.head.next, True
            elif not self.stack:
                return _violation(self.operations, self.model, self.furthest, self.steps)
            else:                     # a return nothing could precede: undo the latest choice
                entry, unknown_phase = self._undo()
                entry = entry.next
        order = [e.op.index for e, _, _ in self.stack]
        return CheckResult(ok=True, operations=len(self.operations), explored=self.steps,
                           linearized=order)

    def _apply(self, entry, unknown_phase):
        """Linearize ``entry``'s operation next if the model agrees and it is new ground."""
        op, linearized, applied = entry.op, self.linearized, self.applied
        if entry.twin >= 0 and not applied >> entry.twin & 1:
            return False              # its identical elder goes first (see the docstring)
        new_state, result = self.model.step(self.state, op)
        key = self.model.key(new_state)
        if unknown_phase:
            if key == self.model.key(self.state):
                return False          # no visible effect now: the same as not happening yet
            applied |= 1 << op.index
        elif self.model.matches(op, result):
            linearized |= 1 << op.index
        else:
            return False
        if not self._new_ground(linearized, key, applied):
            return False
        self.stack.append((entry, self.state, unknown_phase))
        self.state, self.linearized, self.applied = new_state, linearized, applied
        self.remaining -= not unknown_phase
        _lift(entry)
        return True

    def _new_ground(self, linearized, key, applied):
        """Record the configuration; False if one at least as promising was already reached.

        With the same completed operations linearized and the same state, having applied fewer
        unknown operations can only leave more possibilities open (an unknown operation may
        always stay unapplied), so a superset of applied unknowns is subsumed.
        """
        explored = self.memo.setdefault((linearized, key), [])
        for earlier in explored:
            if earlier & ~applied == 0:
                return False
        explored.append(applied)
        return True

    def _undo(self):
        entry, self.state, unknown_phase = self.stack.pop()
        bit = ~(1 << entry.op.index)
        if unknown_phase:
            self.applied &= bit
        else:
            self.linearized &= bit
            self.remaining += 1
        _unlift(entry)
        return entry, unknown_phase

    def _note_stuck(self, entry):
        if len(self.stack) > self.furthest[0]:
            self.furthest = (len(self.stack), entry, self.state,
                             self.linearized | self.applied)


def _violation(operations, model, furthest, steps):
    """Explain the furthest point reached: the stuck operation and the candidates there."""
    depth, stuck, state, linearized = furthest
    culprit = stuck.op
    # What could have gone next there: the culprit and the other operations not yet
    # linearized that were invoked before the culprit completed.
    others = [op for op in operations
              if op is not culprit and not linearized >> op.index & 1
              and op.invoke <= culprit.complete]
    candidates = [culprit] + others[:7]
    expected = [(op, model.step(state, op)[1]) for op in candidates]
    return CheckResult(ok=False, operations=len(operations), explored=steps, culprit=culprit,
                       prefix=depth, state=model.describe(state), expected=expected)
