"""SharedBudget: bytes queued for many peers, counted until they are actually sent."""

from concoord.runtime.outbox import Outbox, SharedBudget

MIB = 1 << 20


def test_past_the_budget_a_backlogged_outbox_is_refused_a_reading_one_is_not():
    budget = SharedBudget(10 * MIB, backlog=MIB)
    hoarders = [Outbox(64 * MIB, budget) for _ in range(3)]
    assert hoarders[0].put(b"x" * 6 * MIB) and hoarders[1].put(b"x" * 4 * MIB)
    assert not hoarders[2].put(b"x" * 2 * MIB)          # over the budget and over backlog
    reader = Outbox(64 * MIB, budget)
    assert reader.put(b"x" * 1000)                       # small: still served
    assert budget.used == 10 * MIB + 1000


def test_bytes_the_writer_holds_count_until_released_or_closed():
    budget = SharedBudget(100 * MIB, backlog=MIB)
    outbox = Outbox(64 * MIB, budget)
    outbox.put(b"x" * 8 * MIB)
    assert outbox.take() is not None and budget.used == 8 * MIB    # in flight: still there
    outbox.release()
    assert budget.used == 0
    outbox.put(b"x" * 8 * MIB)
    outbox.take()
    outbox.clear(close=True)                 # the writer will never release it
    outbox.release()
    assert budget.used == 0


def test_an_unsent_tail_counts_and_can_be_refused():
    budget = SharedBudget(4 * MIB, backlog=MIB)
    outbox = Outbox(64 * MIB, budget)
    assert outbox.claim_idle() and outbox.release(b"x" * 3 * MIB)
    other = Outbox(64 * MIB, budget)
    assert other.claim_idle() and not other.release(b"x" * 2 * MIB)
    assert budget.used == 3 * MIB
