"""The Scout's bookkeeping of a report that comes in parts (a Promise must fit in a frame)."""

from concoord.protocol.phases import Scout
from concoord.wire.types import Ballot, Batch, PValue

OLD, NEW = Ballot(1, "r0"), Ballot(2, "r1")
ACCEPTORS = ("a0", "a1", "a2")


def pvalue(slot, ballot=OLD):
    return PValue(ballot, slot, Batch(1.0, ()))


def test_an_acceptor_counts_only_once_its_last_part_is_merged():
    scout = Scout(NEW, ACCEPTORS, 1, 0.0)
    assert not scout.on_promise("a0", (pvalue(1), pvalue(2)), 0, 3)
    assert not scout.on_promise("a1", (pvalue(1),), 0, 0)
    assert scout.resume_at == {"a0": 3} and scout.promised == {"a1"}
    assert scout.on_promise("a0", (pvalue(3),), 3, 0)
    assert sorted(scout.pvalues) == [1, 2, 3] and scout.resume_at == {}


def test_a_part_not_asked_for_is_ignored():
    """A late duplicate of a first part, or a last part that does not start where the report
    stopped, must not count the acceptor as having reported everything."""
    scout = Scout(NEW, ACCEPTORS, 1, 0.0)
    scout.on_promise("a0", (pvalue(1),), 0, 2)
    assert not scout.on_promise("a0", (pvalue(5, NEW),), 4, 0)      # skips slots 2-3
    assert not scout.on_promise("a0", (pvalue(1),), 0, 2)           # the first part again
    assert scout.resume_at == {"a0": 2} and "a0" not in scout.promised
    assert 5 not in scout.pvalues
